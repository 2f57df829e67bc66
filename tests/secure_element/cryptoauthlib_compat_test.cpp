// What cryptoauthlib v3.7 sends and expects, packet by packet (issue 13 items 6, 7, 8, 9):
// UpdateExtra on an unlocked chip (calib_write_config_zone), 32-byte accesses to the short last
// block of a slot (calib_write_pubkey/calib_read_pubkey, atcacert_write_cert/read_cert), Counter
// before the config lock (counter_write_test), GenDig with OtherData and encrypted Write/Read
// (calib_write_enc, calib_read_enc). Packets whose bytes are spelled out were computed with an
// independent CRC-16 (poly 0x8005, LSB first; tests/e2e/se_common.py); TempKey and MAC values are
// computed here from the published formulas with OpenSSL's SHA-256.
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "host_formulas.hpp"
#include "se_test_util.hpp"

namespace zt::se {
namespace {

using testing::Chip;
using testing::host_gen_dig;

Bytes hex(std::string_view text) { return from_hex(text).value(); }

const Bytes success_response = hex("04000340");          // status 0x00
const Bytes execution_error_response = hex("040f2342");  // status 0x0F
const Bytes parse_error_response = hex("04038342");      // status 0x03

uint16_t data_address(unsigned slot, unsigned block, unsigned offset = 0) {
  return encode_address(Zone::data, slot, block, offset);
}

TEST(CryptoauthlibCompat, KnownPacketsAndResponses) {
  // The CRC known answer of the reference (Info 07 30 00 00 00 -> CRC 03 5D) and our status
  // answers.
  EXPECT_EQ(encode_command(Opcode::info, 0, 0), hex("07300000"
                                                    "00035d"));
  EXPECT_EQ(encode_status(status::success), success_response);
  EXPECT_EQ(encode_status(status::execution_error), execution_error_response);
  EXPECT_EQ(encode_status(status::parse_error), parse_error_response);
}

// Item 6: calib_write_config_zone on a blank chip = Write of bytes 16-127 (calib_write_bytes_zone:
// 4-byte writes for block 0 words 4-7 and block 2 except word 5, 32-byte writes for blocks 1 and
// 3), then UpdateExtra(0, config[84]) and UpdateExtra(1, config[85]) before any Lock.
TEST(CryptoauthlibCompat, WriteConfigZoneThenUpdateExtraOnABlankChip) {
  Chip chip;
  auto config = kit_config();
  config[config_offset::user_extra] = 0x5A;
  for (unsigned block = 0; block < 4; ++block) {
    const bool words = block == 0 || block == 2;
    for (unsigned word = 0; word < 8; word += words ? 1 : 8) {
      if ((block == 0 && word < 4) || (block == 2 && word == 5)) continue;
      const size_t offset = block * 32 + word * 4;
      const Bytes value(config.begin() + offset, config.begin() + offset + (words ? 4 : 32));
      ASSERT_EQ(chip.command(Opcode::write, words ? 0x00 : 0x80,
                             encode_address(Zone::config, 0, block, word), value)
                    .status,
                status::success)
          << "block " << block << " word " << word;
    }
  }
  // UpdateExtra mode 0 (UserExtra) = 0x5A, mode 1 (Selector) = 0x00, on the unlocked chip.
  EXPECT_EQ(chip.raw(hex("0720005a000521")), success_response);
  EXPECT_EQ(chip.raw(hex("072001000003f7")), success_response);
  const ChipState state = chip.emulator->state();
  EXPECT_FALSE(state.config_locked());
  EXPECT_EQ(state.config[config_offset::user_extra], 0x5A);
  EXPECT_EQ(state.config[config_offset::selector], 0x00);
  EXPECT_EQ(Bytes(state.config.begin() + 16, state.config.begin() + 84),
            Bytes(config.begin() + 16, config.begin() + 84));
  EXPECT_EQ(Bytes(state.config.begin() + 88, state.config.end()),
            Bytes(config.begin() + 88, config.end()));

  // UserExtra is written once: a second UpdateExtra(0) is an execution error, before and after
  // the lock. The Selector (still 0x00) takes its one write after the lock.
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x00, 0x5B).status, status::execution_error);
  ASSERT_TRUE(chip.device.lock_config());
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x00, 0x00).status, status::execution_error);
  EXPECT_EQ(chip.raw(hex("072001c200057d")), success_response);  // Selector = 0xC2
  EXPECT_EQ(chip.emulator->state().config[config_offset::selector], 0xC2);
  EXPECT_EQ(chip.raw(hex("072001c200057d")), execution_error_response);
  EXPECT_EQ(chip.command(Opcode::update_extra, 0x02, 0x00).status, status::parse_error);
}

// Item 9: cryptoauthlib's counter_write_test on an unlocked chip: calib_write_config_counter writes
// config bytes 60-67 (block 1 word 7, block 2 word 0), then Counter reads it back.
TEST(CryptoauthlibCompat, CounterBeforeTheConfigLock) {
  Chip chip;
  EXPECT_EQ(chip.raw(hex("0724000100057d")), encode_response(Bytes{0, 0, 0, 0}));  // read 1
  const uint32_t mid = 2097151 / 2;  // COUNTER_MAX_VALUE / 2: lin_a 0, lin_b 0x0001, bin 0x7FFF
  const Bytes encoded{0x00, 0x00, 0x00, 0x01, 0x7F, 0xFF, 0x7F, 0xFF};
  ASSERT_EQ(chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 1, 7),
                         ByteView(encoded).first(4))
                .status,
            status::success);
  ASSERT_EQ(chip.command(Opcode::write, 0x00, encode_address(Zone::config, 0, 2, 0),
                         ByteView(encoded).subspan(4))
                .status,
            status::success);
  EXPECT_EQ(chip.command(Opcode::counter, 0x00, 1).data,
            (Bytes{static_cast<uint8_t>(mid), static_cast<uint8_t>(mid >> 8),
                   static_cast<uint8_t>(mid >> 16), 0}));
  // Increment (07 24 01 01 00 CRC): mid + 1 = 0x100000.
  EXPECT_EQ(chip.raw(hex("072401010006f7")), encode_response(Bytes{0x00, 0x00, 0x10, 0x00}));
  EXPECT_EQ(chip.emulator->state().counter(1), mid + 1);
  EXPECT_FALSE(chip.emulator->state().config_locked());
}

// Item 7: calib_write_pubkey writes a P-256 key into a 72-byte slot with three 32-byte writes
// (block 2 carries Y[24:32] then 24 pad bytes); calib_read_pubkey reads three 32-byte blocks and
// takes 8 bytes of block 2.
TEST(CryptoauthlibCompat, WriteAndReadPubkeyInA72ByteSlot) {
  Chip chip;
  chip.configure();
  auto key = crypto::generate_p256_key().value();
  const auto public_key = crypto::public_key_raw(key.get()).value();
  Bytes formatted(96, 0);  // | 4 pad | X | 4 pad | Y | 24 bytes past the slot |
  std::copy(public_key.begin(), public_key.begin() + 32, formatted.begin() + 4);
  std::copy(public_key.begin() + 32, public_key.end(), formatted.begin() + 40);
  for (unsigned block = 0; block < 3; ++block) {
    const Bytes command_packet = encode_command(Opcode::write, 0x82, data_address(11, block),
                                                ByteView(formatted).subspan(block * 32, 32));
    EXPECT_EQ(chip.raw(command_packet), success_response) << "block " << block;
  }
  EXPECT_EQ(chip.emulator->state().slots[11], Bytes(formatted.begin(), formatted.begin() + 72));
  ASSERT_TRUE(chip.device.lock_data());

  Bytes read_back;
  for (unsigned block = 0; block < 3; ++block) {
    const auto reply = chip.command(Opcode::read, 0x82, data_address(11, block));
    ASSERT_EQ(reply.data.size(), 32u) << "block " << block;
    read_back.insert(read_back.end(), reply.data.begin(), reply.data.end());
  }
  // Read 07 02 82 58 02 (slot 11, block 2): the 8 bytes of Y[24:32], then zeros.
  const Bytes block2 = Bytes(public_key.begin() + 56, public_key.end());
  Bytes expected_block2 = block2;
  expected_block2.resize(32, 0);
  EXPECT_EQ(encode_command(Opcode::read, 0x82, data_address(11, 2)), hex("07028258028a75"));
  EXPECT_EQ(chip.raw(hex("07028258028a75")), encode_response(expected_block2));
  Bytes unpadded(read_back.begin() + 4, read_back.begin() + 36);
  unpadded.insert(unpadded.end(), read_back.begin() + 40, read_back.begin() + 72);
  EXPECT_EQ(unpadded, Bytes(public_key.begin(), public_key.end()));
  // The stored key verifies (Verify stored reads the same 72 bytes).
  const auto digest = crypto::sha256(as_bytes("pubkey in slot 11"));
  const auto signature = crypto::ecdsa_sign_digest_raw(key.get(), digest).value();
  EXPECT_EQ(chip.device.verify_stored(11, digest, signature).value(), true);
}

// Item 7: atcacert_write_cert stores a 72-byte compressed certificate with whole-block writes
// (atcacert_get_device_locs rounds to 32-byte blocks), after the data lock; the bytes past the slot
// are ignored. atcacert_read_cert reads the blocks back. The cryptoauthlib test
// write_invalid_block_len: a 32-byte write at slot 10, block 2, word 1 succeeds.
TEST(CryptoauthlibCompat, CompressedCertificateInSlots10And12) {
  Chip chip;
  chip.provision_kit();
  for (unsigned slot : {10u, 12u}) {
    Bytes certificate = crypto::random_bytes(96);
    for (size_t i = 72; i < 96; ++i) certificate[i] = 0xEE;  // past the slot
    for (unsigned block = 0; block < 3; ++block) {
      EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(slot, block),
                             ByteView(certificate).subspan(block * 32, 32))
                    .status,
                status::success);
    }
    EXPECT_EQ(chip.emulator->state().slots[slot],
              Bytes(certificate.begin(), certificate.begin() + 72));
    Bytes read_back;
    for (unsigned block = 0; block < 3; ++block) {
      const auto reply = chip.command(Opcode::read, 0x82, data_address(slot, block));
      read_back.insert(read_back.end(), reply.data.begin(), reply.data.end());
    }
    ASSERT_EQ(read_back.size(), 96u);
    EXPECT_EQ(Bytes(read_back.begin(), read_back.begin() + 72),
              Bytes(certificate.begin(), certificate.begin() + 72));
    EXPECT_EQ(Bytes(read_back.begin() + 72, read_back.end()), Bytes(24, 0));
  }
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(10, 2, 1), Bytes(32, 0xAB)).status,
            status::success);
  EXPECT_EQ(chip.slot_bytes(10, 64, 8), Bytes(8, 0xAB));
  // Still parse errors: a block that starts past the slot, a 4-byte word past it.
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(10, 3), Bytes(32, 0)).status,
            status::parse_error);
  EXPECT_EQ(chip.command(Opcode::write, 0x02, data_address(10, 2, 2), Bytes(4, 0)).status,
            status::parse_error);
  EXPECT_EQ(chip.command(Opcode::read, 0x82, data_address(8, 13)).status, status::parse_error);
  // Slot 4 is secret (SlotConfig 8F 0F, write always): 32-byte writes only.
  EXPECT_EQ(chip.command(Opcode::write, 0x02, data_address(4, 0, 1), Bytes(4, 1)).status,
            status::execution_error);
  EXPECT_EQ(chip.command(Opcode::write, 0x82, data_address(4, 0), Bytes(32, 1)).status,
            status::success);
}

// Item 8: calib_write_enc before the data lock (cryptoauthlib test write_enc_data_unlock) and
// calib_read_enc after it, each Nonce(random) + GenDig(data, parent, OtherData 15 02 id 00).
// Kit configuration: slot 1 = encrypted read/write with key 4.
TEST(CryptoauthlibCompat, EncryptedWriteBeforeTheDataLockAndEncryptedRead) {
  Chip chip;
  chip.configure();
  const Bytes parent_key(32, 0x44);
  ASSERT_TRUE(chip.device.write_slot(4, parent_key));
  const auto sn = chip.emulator->state().serial_number();
  const Bytes secret = crypto::random_bytes(32);
  const uint16_t address = data_address(1, 0);

  auto temp_key = testing::random_gen_dig(chip, parent_key, 4, true);
  Bytes data(32);
  for (size_t i = 0; i < 32; ++i) data[i] = secret[i] ^ temp_key[i];
  const auto mac = testing::host_auth_mac(temp_key, 0x12, 0xC2, address, sn, 25, secret);
  data.insert(data.end(), mac.begin(), mac.end());
  EXPECT_EQ(chip.raw(encode_command(Opcode::write, 0xC2, address, data)), success_response);
  EXPECT_EQ(chip.slot_bytes(1, 0, 32), secret);
  // The same packet again: TempKey was consumed.
  EXPECT_EQ(chip.raw(encode_command(Opcode::write, 0xC2, address, data)), execution_error_response);
  // A wrong MAC is refused and changes nothing.
  temp_key = testing::random_gen_dig(chip, parent_key, 4, true);
  Bytes forged(32, 0);
  for (size_t i = 0; i < 32; ++i) forged[i] = temp_key[i];  // plain = zeros
  forged.insert(forged.end(), 32, 0x00);
  EXPECT_EQ(chip.command(Opcode::write, 0xC2, address, forged).status, status::execution_error);
  EXPECT_EQ(chip.slot_bytes(1, 0, 32), secret);

  ASSERT_TRUE(chip.device.lock_data());
  temp_key = testing::random_gen_dig(chip, parent_key, 4, true);
  Bytes encrypted = chip.command(Opcode::read, 0x82, address).data;
  ASSERT_EQ(encrypted.size(), 32u);
  for (size_t i = 0; i < 32; ++i) encrypted[i] ^= temp_key[i];
  EXPECT_EQ(encrypted, secret);
}

// Item 8: calib_ecdh_enc on the kit's configuration: ECDH with slot 0 (ReadKey bit 3) writes the
// master secret into slot 1, which calib_read_enc then reads encrypted with key 4 (Nonce random +
// GenDig with OtherData + Read). The secret must equal the host's own ECDH (OpenSSL).
TEST(CryptoauthlibCompat, EcdhIntoSlotThenEncryptedRead) {
  Chip chip;
  chip.configure();
  const Bytes key4 = crypto::random_bytes(32);
  ASSERT_TRUE(chip.device.write_slot(4, key4));
  ASSERT_TRUE(chip.device.lock_data());
  const auto chip_public = chip.device.genkey(0).value();
  auto host_key = crypto::generate_p256_key().value();
  const auto host_public = crypto::public_key_raw(host_key.get()).value();
  EXPECT_EQ(chip.command(Opcode::ecdh, 0x00, 0, host_public).status, status::success);
  const auto temp_key = testing::random_gen_dig(chip, key4, 4, true);
  Bytes secret = chip.command(Opcode::read, 0x82, data_address(1, 0)).data;
  ASSERT_EQ(secret.size(), 32u);
  for (size_t i = 0; i < 32; ++i) secret[i] ^= temp_key[i];
  auto chip_key = crypto::public_key_from_raw(chip_public).value();
  EXPECT_EQ(secret, crypto::ecdh_shared_secret(host_key.get(), chip_key.get()).value());
}

TEST(GenDigOtherData, SizesAndZones) {
  Chip chip;
  chip.provision_kit();
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 1)).status, status::success);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x02, 4, Bytes(3, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x02, 4, Bytes(32, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x00, 0, Bytes(4, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x03, 0, Bytes(4, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x03, 0x0010, Bytes(32, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x04, 0, Bytes(32, 0)).status, status::parse_error);
  // Slot 6 has SlotConfig.NoMac (9F 0F): GenDig over it needs the 4 bytes of OtherData.
  EXPECT_EQ(chip.command(Opcode::gen_dig, 0x02, 6).status, status::execution_error);
}

// GenDig over a NoMac slot uses OtherData in place of "15 02 id(LE)" and marks TempKey NoMac. Its
// TempKey is observed through Sign internal with slot 7 (internal signatures only), whose message
// (atcah_sign_internal_msg) carries TempKey and the TempKey flags (bit 7 NoMac, bit 5 GenDigData).
TEST(GenDigOtherData, NoMacSlotTempKeySignedInternally) {
  Chip chip;
  chip.configure();
  const Bytes slot6_key = crypto::random_bytes(32);
  ASSERT_TRUE(chip.device.write_slot(6, slot6_key));
  ASSERT_TRUE(chip.device.lock_data());
  auto slot7 = chip.device.genkey(7).value();
  const auto state = chip.emulator->state();
  const auto sn = state.serial_number();
  const Bytes nonce = crypto::random_bytes(32);
  const Bytes other_data{0xA1, 0xB2, 0xC3, 0xD4};
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  ASSERT_EQ(chip.command(Opcode::gen_dig, 0x02, 6, other_data).status, status::success);
  const auto temp_key = host_gen_dig(slot6_key, 6, sn, nonce, other_data);
  const auto reply = chip.command(Opcode::sign, 0x00, 7);
  ASSERT_EQ(reply.data.size(), 64u);

  std::array<uint8_t, 55> message{};
  std::copy(temp_key.begin(), temp_key.end(), message.begin());
  message[32] = 0x41;
  message[33] = 0x00;
  message[34] = 7;
  const uint16_t slot_config = state.slot_config(6).raw, key_config = state.key_config(6).raw;
  message[36] = static_cast<uint8_t>(slot_config);
  message[37] = static_cast<uint8_t>(slot_config >> 8);
  message[38] = static_cast<uint8_t>(key_config);
  message[39] = static_cast<uint8_t>(key_config >> 8);
  message[40] = 0x80 | 0x20 | 0x10 | 6;  // NoMac, GenDigData, SourceFlag (pass-through), KeyID 6
  message[43] = sn[8];
  message[48] = sn[0];
  message[49] = sn[1];
  message[52] = 0x01;  // slot 6 not locked
  auto public_key = crypto::public_key_from_raw(slot7).value();
  EXPECT_TRUE(
      crypto::ecdsa_verify_digest_raw(public_key.get(), crypto::sha256(message), reply.data));
}

// An interrupted or failed state write leaves memory as it was (Emulator rolls back), and what
// the new commands change reaches the state file.
TEST(CryptoauthlibCompat, UpdateExtraAndCounterArePersisted) {
  std::vector<ChipState> saved;
  Chip chip(testing::test_blank_chip(), [&](const ChipState& state) -> Status {
    saved.push_back(state);
    return ok();
  });
  ASSERT_EQ(chip.command(Opcode::update_extra, 0x00, 0x33).status, status::success);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved.back().config[config_offset::user_extra], 0x33);
  ASSERT_EQ(chip.command(Opcode::counter, 0x01, 0).status, status::success);
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved.back().counter(0), 1u);
  ASSERT_EQ(chip.command(Opcode::counter, 0x00, 0).data.size(), 4u);
  EXPECT_EQ(saved.size(), 2u);  // a read changes nothing
}

}  // namespace
}  // namespace zt::se
