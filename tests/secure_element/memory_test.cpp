// Packet-level tests of Read, Write, Lock, GenDig, PrivWrite, Counter, UpdateExtra and persistence.
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "se_test_util.hpp"
#include "secure_element/crc.hpp"

namespace zt::se {
namespace {

using testing::Chip;

uint16_t data_address(unsigned slot, unsigned block = 0, unsigned offset = 0) {
  return encode_address(Zone::data, slot, block, offset);
}

using testing::random_gen_dig;

TEST(Read, ConfigAlwaysDataOnlyAfterLock) {
  Chip chip;
  const auto state = chip.emulator->state();
  EXPECT_EQ(chip.command(Opcode::read, 0x80, 0x0000).data,
            Bytes(state.config.begin(), state.config.begin() + 32));
  EXPECT_EQ(chip.command(Opcode::read, 0x00, encode_address(Zone::config, 0, 0, 1)).data,
            (Bytes{0x00, 0x00, 0x50, 0x00}));  // RevNum at bytes 4-7
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(8)).status,
            status::execution_error);  // data unlocked
  EXPECT_EQ(chip.command(Opcode::read, 0x01, 0x0000).status, status::execution_error);  // OTP too
  chip.configure();
  const Bytes payload(32, 0xA5);
  ASSERT_TRUE(chip.device.write_slot(8, payload, 64));
  ASSERT_TRUE(chip.device.lock_data());
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(8, 2)).data, payload);
  EXPECT_EQ(chip.command(Opcode::read, 0x02, data_address(8, 2, 7)).data, Bytes(4, 0xA5));
  EXPECT_EQ(chip.command(Opcode::read, 0x81, 0x0008).data, Bytes(32, 0));  // OTP block 1
}

TEST(Read, PrivateAndSecretSlotsAreNeverReadInClear) {
  Chip chip;
  chip.provision_kit();
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(0)).status, status::execution_error);
  EXPECT_EQ(chip.command(Opcode::read, 0x02, data_address(0, 1, 0)).status,
            status::execution_error);
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(4)).status,
            status::execution_error);  // IsSecret
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(1)).status,
            status::execution_error);  // encrypted only
}

TEST(Read, AddressErrors) {
  Chip chip;
  chip.provision_kit();
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(0, 2)).status,
            status::parse_error);  // block 2 starts past 36 bytes
  EXPECT_EQ(chip.command(Opcode::read, 0x02, data_address(9, 2, 2)).status,
            status::parse_error);  // word 2 of block 2 = bytes 72-75 of a 72-byte slot
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(8, 13)).status,
            status::parse_error);  // past 416
  EXPECT_EQ(chip.command(Opcode::read, 0x80, 0x0020).status,
            status::parse_error);  // config block 4
  EXPECT_EQ(chip.command(Opcode::read, 0x03, 0x0000).status, status::parse_error);  // zone 3
  EXPECT_EQ(chip.command(Opcode::read, 0x42, data_address(8)).status,
            status::parse_error);  // bit 6
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(8), Bytes{1}).status,
            status::parse_error);
}

TEST(Write, ConfigZoneRules) {
  Chip chip;
  EXPECT_EQ(chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 0, 4),
                         Bytes{0xB0, 0, 0xAA, 0})
                .status,
            status::success);
  EXPECT_EQ(chip.emulator->state().config[16], 0xB0);
  EXPECT_EQ(
      chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 0, 0), Bytes(4, 0)).status,
      status::execution_error);  // serial number
  EXPECT_EQ(chip.command(Opcode::write, 0x80, 0x0000, Bytes(32, 0)).status,
            status::execution_error);
  EXPECT_EQ(
      chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 2, 5), Bytes(4, 0)).status,
      status::execution_error);  // UserExtra / Selector / lock bytes
  EXPECT_EQ(chip.command(Opcode::write, 0x00, 0x0000, Bytes(3, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(8), Bytes(32, 1)).status,
            status::execution_error);  // data before the config lock
  chip.configure();
  EXPECT_EQ(
      chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 0, 4), Bytes(4, 0)).status,
      status::execution_error);  // config locked
}

TEST(Write, DataZoneRules) {
  Chip chip;
  chip.configure();
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(0), Bytes(32, 1)).status,
            status::execution_error);  // private key: GenKey / PrivWrite only
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(1), Bytes(32, 1)).status,
            status::success);
  EXPECT_EQ(chip.command(Opcode::write, 0x81, 0x0000, Bytes(32, 0x0F)).status,
            status::success);  // OTP
  ASSERT_TRUE(chip.device.lock_data());
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(8), Bytes(32, 2)).status,
            status::success);  // always
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(1), Bytes(32, 1)).status,
            status::execution_error);  // encrypt-only slot, clear write
  EXPECT_EQ(chip.command(Opcode::write, 0x81, 0x0000, Bytes(32, 0)).status,
            status::execution_error);  // OTP read-only mode
  ASSERT_TRUE(chip.device.lock_slot(8));
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(8), Bytes(32, 3)).status,
            status::execution_error);
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(10), Bytes(31, 3)).status,
            status::parse_error);
}

TEST(Write, EncryptedWriteAndReadWithGenDig) {
  Chip chip;
  chip.configure();
  const Bytes write_key(32, 0x44);
  ASSERT_TRUE(
      chip.device.write_slot(4, write_key));  // slot 4 holds the key for slot 1 (kit config)
  ASSERT_TRUE(chip.device.lock_data());
  const auto sn = chip.emulator->state().serial_number();
  const Bytes secret(32, 0x3C);
  const uint16_t address = data_address(1);

  auto temp_key = random_gen_dig(chip, write_key, 4);
  Bytes data(32);
  for (size_t i = 0; i < 32; ++i) data[i] = secret[i] ^ temp_key[i];
  const auto mac = testing::host_auth_mac(temp_key, 0x12, 0xC2, address, sn, 25, secret);
  data.insert(data.end(), mac.begin(), mac.end());
  EXPECT_EQ(chip.command(Opcode::write, 0xC2, address, data).status, status::success);
  EXPECT_EQ(chip.slot_bytes(1, 0, 32), secret);

  // A wrong MAC is refused and changes nothing.
  temp_key = random_gen_dig(chip, write_key, 4);
  for (size_t i = 0; i < 32; ++i) data[i] = 0xFF ^ temp_key[i];
  EXPECT_EQ(chip.command(Opcode::write, 0xC2, address, data).status, status::execution_error);
  EXPECT_EQ(chip.slot_bytes(1, 0, 32), secret);
  // TempKey from GenDig over the wrong slot is refused.
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 0x99)).status, status::success);
  ASSERT_EQ(chip.command(Opcode::gen_dig, 0x02, 8).status, status::success);
  EXPECT_EQ(chip.command(Opcode::write, 0xC2, address, data).status, status::execution_error);
  // GenDig over slot 4 (KeyConfig.ReqRandom) refuses a pass-through TempKey.
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 0x99)).status, status::success);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x02, 4).status, status::execution_error);

  // Encrypted read of slot 1 (EncryptRead, ReadKey 4).
  temp_key = random_gen_dig(chip, write_key, 4);
  Bytes encrypted = chip.command(Opcode::read, 0x82, address).data;
  ASSERT_EQ(encrypted.size(), 32u);
  for (size_t i = 0; i < 32; ++i) encrypted[i] ^= temp_key[i];
  EXPECT_EQ(encrypted, secret);
}

TEST(GenDig, Errors) {
  Chip chip;
  chip.provision_kit();
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x02, 4).status, status::execution_error);  // no TempKey
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 1)).status, status::success);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x02, 0).status,
            status::execution_error);  // private key slot
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x04, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x00, 4).status, status::parse_error);  // config block 4
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x00, 3).status, status::success);
}

TEST(Lock, ConfigWithCrc) {
  Chip chip;
  ASSERT_TRUE(chip.device.write_config(kit_config()));
  const uint16_t crc = crc16(chip.emulator->state().config);
  EXPECT_EQ(chip.command(Opcode::lock, 0x00, static_cast<uint16_t>(crc ^ 1)).status,
            status::execution_error);
  EXPECT_FALSE(chip.emulator->state().config_locked());
  EXPECT_EQ(chip.command(Opcode::lock, 0x01, 0).status,
            status::execution_error);  // data before config
  EXPECT_EQ(chip.command(Opcode::lock, 0x00, crc).status, status::success);
  EXPECT_TRUE(chip.emulator->state().config_locked());
  EXPECT_EQ(chip.emulator->state().config[config_offset::lock_config], 0x00);
  EXPECT_EQ(chip.command(Opcode::lock, 0x80, 0).status, status::execution_error);  // already locked
}

TEST(Lock, DataWithCrcAndSlots) {
  Chip chip;
  chip.configure();
  ASSERT_TRUE(chip.device.write_slot(8, Bytes(32, 0x77)));
  const uint16_t crc = crc16(chip.emulator->state().data_and_otp());
  EXPECT_EQ(chip.command(Opcode::lock, 0x01, static_cast<uint16_t>(crc + 1)).status,
            status::execution_error);
  EXPECT_EQ(chip.command(Opcode::lock, 0x0A, 0).status,
            status::execution_error);  // slot lock before data lock
  EXPECT_EQ(chip.command(Opcode::lock, 0x01, crc).status, status::success);
  EXPECT_TRUE(chip.emulator->state().data_locked());
  EXPECT_EQ(chip.command(Opcode::lock, 0x81, 0).status, status::execution_error);  // already locked

  const uint16_t slot_crc = crc16(chip.emulator->state().slots[10]);
  EXPECT_EQ(
      chip.command(Opcode::lock, 0x02 | (10 << 2), static_cast<uint16_t>(slot_crc ^ 0x100)).status,
      status::execution_error);
  EXPECT_EQ(chip.command(Opcode::lock, 0x02 | (10 << 2), slot_crc).status, status::success);
  EXPECT_TRUE(chip.emulator->state().slot_locked(10));
  EXPECT_FALSE(chip.emulator->state().slot_locked(12));
  EXPECT_EQ(chip.command(Opcode::lock, 0x82 | (10 << 2), 0).status,
            status::execution_error);  // again
  EXPECT_EQ(chip.command(Opcode::lock, 0x82 | (1 << 2), 0).status,
            status::execution_error);  // not Lockable
  EXPECT_EQ(chip.command(Opcode::lock, 0x03, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::lock, 0x40, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::lock, 0x04, 0).status,
            status::parse_error);  // slot bits in config mode
}

TEST(PrivWrite, PlainBeforeDataLockThenEncryptedOnly) {
  auto config = kit_config();
  config[config_offset::slot_config + 2 * 3 + 1] =
      0x44;  // slot 3: WriteConfig 4 (PrivWrite), WriteKey 4
  Chip chip;
  ASSERT_TRUE(chip.device.write_config(config));
  ASSERT_TRUE(chip.device.lock_config());
  const Bytes write_key(32, 0x44);
  ASSERT_TRUE(chip.device.write_slot(4, write_key));

  auto key = crypto::generate_p256_key().value();
  Bytes value(4, 0);
  const Bytes scalar = crypto::private_key_scalar(key.get()).value();
  value.insert(value.end(), scalar.begin(), scalar.end());
  Bytes data = value;
  data.insert(data.end(), 32, 0);  // MAC field, ignored for a plain write
  EXPECT_EQ(chip.command(Opcode::priv_write, 0x00, 8, data).status,
            status::execution_error);  // not a key slot
  EXPECT_EQ(chip.command(Opcode::priv_write, 0x00, 0, Bytes(68, 0)).status,
            status::execution_error);  // scalar 0
  EXPECT_EQ(chip.command(Opcode::priv_write, 0x00, 0, Bytes(60, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::priv_write, 0x00, 0, data).status, status::success);
  ASSERT_TRUE(chip.device.lock_data());
  // The imported key signs: verified with OpenSSL against the public key we hold.
  const auto digest = crypto::sha256(as_bytes("imported"));
  auto signature = chip.device.sign_digest(0, digest);
  ASSERT_TRUE(signature.has_value()) << signature.error().message;
  EXPECT_TRUE(crypto::ecdsa_verify_digest_raw(key.get(), digest, *signature));

  EXPECT_EQ(chip.command(Opcode::priv_write, 0x00, 3, data).status,
            status::execution_error);  // plain after lock
  EXPECT_EQ(chip.command(Opcode::priv_write, 0x40, 0, data).status,
            status::execution_error);  // slot 0: WriteConfig does not allow PrivWrite

  // Encrypted PrivWrite into slot 3.
  const auto sn = chip.emulator->state().serial_number();
  const auto temp_key = random_gen_dig(chip, write_key, 4);
  const auto second = crypto::sha256(temp_key);
  Bytes encrypted(36);
  for (size_t i = 0; i < 32; ++i) encrypted[i] = value[i] ^ temp_key[i];
  for (size_t i = 32; i < 36; ++i) encrypted[i] = value[i] ^ second[i - 32];
  const auto mac = testing::host_auth_mac(temp_key, 0x46, 0x40, 3, sn, 21, value);
  encrypted.insert(encrypted.end(), mac.begin(), mac.end());
  EXPECT_EQ(chip.command(Opcode::priv_write, 0x40, 3, encrypted).status, status::success);
  const auto raw = crypto::public_key_raw(key.get()).value();
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x00, 3).data, Bytes(raw.begin(), raw.end()));
}

TEST(Counter, ReadIncrementAndLimit) {
  Chip chip;
  chip.configure();
  EXPECT_EQ(chip.command(Opcode::counter, 0x00, 1).data, (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(chip.command(Opcode::counter, 0x01, 1).data, (Bytes{1, 0, 0, 0}));
  EXPECT_EQ(chip.command(Opcode::counter, 0x01, 1).data, (Bytes{2, 0, 0, 0}));
  EXPECT_EQ(chip.command(Opcode::counter, 0x00, 0).data, (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(chip.command(Opcode::counter, 0x00, 2).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::counter, 0x02, 0).status, status::parse_error);

  // Counter 1 lives in config bytes 60-67 in cryptoauthlib's calib_write_config_counter encoding:
  // 2 = lin_a 0xFFFF >> 2, lin_b 0xFFFF, bin_a 0, bin_b 0.
  const ChipState counted = chip.emulator->state();
  EXPECT_EQ(Bytes(counted.config.begin() + 60, counted.config.begin() + 68),
            (Bytes{0x3F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}));
  ChipState near_max = chip.emulator->state();
  near_max.set_counter(0, 2097150);
  Chip full(near_max);
  EXPECT_EQ(full.command(Opcode::counter, 0x01, 0).data,
            (Bytes{0xFF, 0xFF, 0x1F, 0x00}));  // 2097151
  EXPECT_EQ(full.command(Opcode::counter, 0x01, 0).status, status::execution_error);
}

// Counter encoding KAT against values of cryptoauthlib's calib_write_config_counter, and a round
// trip over the whole range boundaries.
TEST(Counter, ConfigEncoding) {
  ChipState chip = testing::test_blank_chip();
  EXPECT_EQ(chip.counter(0), 0u);  // FF FF FF FF 00 00 00 00
  const struct {
    uint32_t value;
    std::array<uint8_t, 8> bytes;
  } vectors[] = {
      {0, {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}},
      {15, {0x00, 0x01, 0xFF, 0xFF, 0, 0, 0, 0}},
      {16, {0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 0}},
      {20, {0x00, 0x00, 0x0F, 0xFF, 0, 0, 0, 0}},
      {32, {0xFF, 0xFF, 0x00, 0x00, 0, 1, 0, 0}},
      {48, {0x00, 0x00, 0xFF, 0xFF, 0, 1, 0, 1}},
      {2097151, {0x00, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF}},
  };
  for (const auto& v : vectors) {
    chip.set_counter(1, v.value);
    EXPECT_EQ(Bytes(chip.config.begin() + 60, chip.config.begin() + 68),
              Bytes(v.bytes.begin(), v.bytes.end()))
        << v.value;
    EXPECT_EQ(chip.counter(1), v.value);
  }
  for (uint32_t value = 0; value < 200; ++value) {
    chip.set_counter(0, value);
    ASSERT_EQ(chip.counter(0), value);
  }
}

TEST(UpdateExtra, OnceEach) {
  Chip chip;
  chip.configure();
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x00, 0x42).status, status::success);
  EXPECT_EQ(chip.emulator->state().config[config_offset::user_extra], 0x42);
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x00, 0x43).status,
            status::execution_error);  // only once
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x01, 0xC2).status, status::success);
  EXPECT_EQ(chip.emulator->state().config[config_offset::selector], 0xC2);
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x02, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x00, 0x100).status, status::parse_error);
}

TEST(Persistence, EveryChangeIsPersistedAndAFailedSaveRollsBack) {
  int saves = 0;
  bool fail_next = false;
  ChipState last;
  Chip chip(testing::test_blank_chip(), [&](const ChipState& state) -> Status {
    if (fail_next) return make_error(Errc::io, "disk full");
    ++saves;
    last = state;
    return ok();
  });
  EXPECT_EQ(chip.command(Opcode::info, 0, 0).data.size(), 4u);
  EXPECT_EQ(saves, 0);  // reads do not write
  ASSERT_EQ(chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 0, 4),
                         Bytes{0xB0, 0, 0xAA, 0})
                .status,
            status::success);
  EXPECT_EQ(saves, 1);
  EXPECT_EQ(last, chip.emulator->state());
  fail_next = true;
  EXPECT_EQ(chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 0, 4),
                         Bytes{0xC0, 0, 0xAA, 0})
                .status,
            status::execution_error);
  EXPECT_EQ(chip.emulator->state().config[16], 0xB0);  // rolled back
}

}  // namespace
}  // namespace zt::se
