// MAC, HMAC, CheckMac, DeriveKey, GenKey stored-key digest, Verify validate/invalidate and SHA
// public (issue 13 item 10). Every expected digest is computed here from the published formula
// (host_formulas.hpp, OpenSSL SHA-256), never taken from the emulator.
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "host_formulas.hpp"
#include "se_test_util.hpp"

namespace zt::se {
namespace {

using testing::Chip;
using testing::concat;
using testing::host_hmac;
using testing::host_include_data;
using testing::host_nonce;
using testing::le16;

void set_slot(std::array<uint8_t, config_size>& config, unsigned slot, uint16_t slot_config,
              uint16_t key_config) {
  config[config_offset::slot_config + 2 * slot] = static_cast<uint8_t>(slot_config);
  config[config_offset::slot_config + 2 * slot + 1] = static_cast<uint8_t>(slot_config >> 8);
  config[config_offset::key_config + 2 * slot] = static_cast<uint8_t>(key_config);
  config[config_offset::key_config + 2 * slot + 1] = static_cast<uint8_t>(key_config >> 8);
}

// A kit-configured chip whose slot 8 holds a known SHA key (KeyConfig 3C 00: SHA key, no
// ReqRandom/ReqAuth; SlotConfig 0F 0F: MAC allowed) and whose OTP holds a pattern.
struct MacChip {
  MacChip() {
    chip.configure();
    EXPECT_TRUE(chip.device.write_slot(8, key));
    EXPECT_TRUE(chip.device.write(Zone::otp, 0, 0, 0, otp));
    EXPECT_TRUE(chip.device.lock_data());
    sn = chip.emulator->state().serial_number();
  }
  Chip chip;
  Bytes key = crypto::random_bytes(32);
  Bytes otp = crypto::random_bytes(32);
  testing::SerialNumber sn{};
};

TEST(Mac, ChallengeWithSlotKey) {
  MacChip m;
  const Bytes challenge = crypto::random_bytes(32);
  for (uint8_t mode : {0x00, 0x10, 0x20, 0x40, 0x70}) {
    const Bytes packet = encode_command(Opcode::mac, mode, 8, challenge);
    ASSERT_EQ(packet.size(), 7u + 32u);
    EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 5), (Bytes{0x27, 0x08, mode, 0x08, 0x00}));
    const auto expected = crypto::sha256(concat(
        {m.key, challenge, Bytes{0x08, mode, 0x08, 0x00}, host_include_data(mode, m.otp, m.sn)}));
    EXPECT_EQ(m.chip.raw(packet), encode_response(expected)) << "mode " << int(mode);
  }
  // The OTP bits spelled out (calib_command.h: MAC_MODE_INCLUDE_OTP_88 = 0x10 takes OTP[0:10],
  // MAC_MODE_INCLUDE_OTP_64 = 0x20 takes OTP[0:7] then 3 zeros).
  const Bytes tail{m.sn[8], 0, 0, 0, 0, m.sn[0], m.sn[1], 0, 0};
  const auto otp88 = crypto::sha256(
      concat({m.key, challenge, Bytes{0x08, 0x10, 0x08, 0x00}, ByteView(m.otp).first(11), tail}));
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x10, 8, challenge).data,
            Bytes(otp88.begin(), otp88.end()));
  const auto otp64 = crypto::sha256(concat({m.key, challenge, Bytes{0x08, 0x20, 0x08, 0x00},
                                            ByteView(m.otp).first(8), Bytes(3, 0), tail}));
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x20, 8, challenge).data,
            Bytes(otp64.begin(), otp64.end()));
}

TEST(Mac, TempKeyModesAndSourceFlag) {
  MacChip m;
  const Bytes nonce = crypto::random_bytes(32);
  ASSERT_EQ(m.chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  // Pass-through TempKey has SourceFlag 1: mode bit 2 must be set.
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x41, 8).status, status::execution_error);
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x45, 8).status,
            status::execution_error);  // TempKey consumed by the failure
  ASSERT_EQ(m.chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  const auto expected = crypto::sha256(
      concat({m.key, nonce, Bytes{0x08, 0x45, 0x08, 0x00}, host_include_data(0x45, m.otp, m.sn)}));
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x45, 8).data, Bytes(expected.begin(), expected.end()));
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x45, 8).status, status::execution_error);  // used once

  // Both blocks from a random TempKey (SourceFlag 0): mode 0x03.
  const Bytes num_in(20, 0x5A);
  const auto rand_out = m.chip.command(Opcode::nonce, 0x00, 0, num_in).data;
  const auto temp_key = host_nonce(rand_out, num_in, 0x00);
  const auto both = crypto::sha256(concat(
      {temp_key, temp_key, Bytes{0x08, 0x03, 0x08, 0x00}, host_include_data(0x03, m.otp, m.sn)}));
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x03, 8).data, Bytes(both.begin(), both.end()));
}

TEST(Mac, KeyRulesAndParseErrors) {
  MacChip m;
  const Bytes challenge(32, 1);
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x00, 0, challenge).status,
            status::execution_error);  // ECC private key
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x00, 6, challenge).status,
            status::execution_error);  // SlotConfig.NoMac
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x00, 4, challenge).status,
            status::execution_error);  // KeyConfig.ReqRandom without a random TempKey
  const Bytes num_in(20, 0);
  ASSERT_EQ(m.chip.command(Opcode::nonce, 0x00, 0, num_in).data.size(), 32u);
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x01, 4).data.size(), 32u);  // random TempKey: allowed
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x08, 8, challenge).status, status::parse_error);
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x00, 8, Bytes(31, 0)).status, status::parse_error);
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x01, 8, challenge).status, status::parse_error);
  EXPECT_EQ(m.chip.command(Opcode::mac, 0x00, 16, challenge).status, status::parse_error);
  // A blank chip: the key rules are not readable until the configuration is locked.
  Chip blank;
  EXPECT_EQ(blank.command(Opcode::mac, 0x00, 8, challenge).status, status::execution_error);
}

TEST(Hmac, FormulaAndRules) {
  MacChip m;
  const Bytes nonce = crypto::random_bytes(32);
  ASSERT_EQ(m.chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  const Bytes packet = encode_command(Opcode::hmac, 0x74, 8);
  EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 5), (Bytes{0x07, 0x11, 0x74, 0x08, 0x00}));
  const auto expected = host_hmac(m.key, concat({Bytes(32, 0), nonce, Bytes{0x11, 0x74, 0x08, 0x00},
                                                 host_include_data(0x74, m.otp, m.sn)}));
  EXPECT_EQ(m.chip.raw(packet), encode_response(expected));
  EXPECT_EQ(m.chip.command(Opcode::hmac, 0x74, 8).status, status::execution_error);  // consumed
  ASSERT_EQ(m.chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  EXPECT_EQ(m.chip.command(Opcode::hmac, 0x00, 8).status, status::execution_error);  // SourceFlag
  ASSERT_EQ(m.chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  EXPECT_EQ(m.chip.command(Opcode::hmac, 0x04, 6).status, status::execution_error);  // NoMac
  EXPECT_EQ(m.chip.command(Opcode::hmac, 0x01, 8).status, status::parse_error);
  EXPECT_EQ(m.chip.command(Opcode::hmac, 0x04, 8, Bytes(4, 0)).status, status::parse_error);
}

// CheckMac verifies what a MAC computes: with OtherData = 08 mode KeyID(LE) then zeros, the
// CheckMac message (atcah_check_mac) is the MAC message (atcah_mac, no OTP/SN).
TEST(CheckMac, AcceptsTheMacOfTheSameKeyAndRefusesOthers) {
  MacChip m;
  const Bytes challenge = crypto::random_bytes(32);
  const Bytes response = m.chip.command(Opcode::mac, 0x00, 8, challenge).data;
  ASSERT_EQ(response.size(), 32u);
  Bytes other_data{0x08, 0x00, 0x08, 0x00};
  other_data.resize(13, 0);
  const Bytes data = concat({challenge, response, other_data});
  const Bytes packet = encode_command(Opcode::check_mac, 0x00, 8, data);
  EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 5), (Bytes{0x54, 0x28, 0x00, 0x08, 0x00}));
  EXPECT_EQ(m.chip.raw(packet), encode_status(status::success));
  Bytes wrong = data;
  wrong[40] ^= 0x01;
  EXPECT_EQ(m.chip.raw(encode_command(Opcode::check_mac, 0x00, 8, wrong)),
            encode_status(status::miscompare));  // 04 01 00 C3

  // OTP[0:7] (mode bit 5) and TempKey as the challenge (bits 0 and 2, pass-through nonce).
  const Bytes nonce = crypto::random_bytes(32);
  ASSERT_EQ(m.chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  const Bytes other = crypto::random_bytes(13);
  const auto expected = crypto::sha256(
      concat({m.key, nonce, ByteView(other).first(4), ByteView(m.otp).first(8),
              ByteView(other).subspan(4, 3), Bytes{m.sn[8]}, ByteView(other).subspan(7, 4),
              Bytes{m.sn[0], m.sn[1]}, ByteView(other).subspan(11)}));
  EXPECT_EQ(
      m.chip.command(Opcode::check_mac, 0x25, 8, concat({Bytes(32, 0), expected, other})).status,
      status::success);
  EXPECT_EQ(
      m.chip.command(Opcode::check_mac, 0x25, 8, concat({Bytes(32, 0), expected, other})).status,
      status::execution_error);  // TempKey consumed
  EXPECT_EQ(m.chip.command(Opcode::check_mac, 0x00, 0, data).status,
            status::execution_error);  // ECC private key
  EXPECT_EQ(m.chip.command(Opcode::check_mac, 0x08, 8, data).status, status::parse_error);
  EXPECT_EQ(m.chip.command(Opcode::check_mac, 0x00, 8, Bytes(76, 0)).status, status::parse_error);
}

// DeriveKey: slot 9 "Create" from parent slot 8 (WriteConfig 0011, WriteKey 8) and slot 13 "Roll"
// with an input MAC (WriteConfig 1010).
TEST(DeriveKey, CreateAndRollWithMac) {
  auto config = kit_config();
  set_slot(config, 9, 0x3800, 0x003C);
  set_slot(config, 13, 0xA000, 0x003C);
  Chip chip;
  ASSERT_TRUE(chip.device.write_config(config));
  ASSERT_TRUE(chip.device.lock_config());
  const Bytes parent = crypto::random_bytes(32), rolling = crypto::random_bytes(32);
  ASSERT_TRUE(chip.device.write_slot(8, parent));
  ASSERT_TRUE(chip.device.write_slot(13, rolling));
  const Bytes nonce = crypto::random_bytes(32);
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  EXPECT_EQ(chip.command(Opcode::derive_key, 0x04, 9).status,
            status::execution_error);  // data zone unlocked
  ASSERT_TRUE(chip.device.lock_data());
  const auto sn = chip.emulator->state().serial_number();

  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  EXPECT_EQ(chip.command(Opcode::derive_key, 0x00, 9).status,
            status::execution_error);  // bit 2 must equal SourceFlag (1: pass-through)
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  const Bytes packet = encode_command(Opcode::derive_key, 0x04, 9);
  EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 5), (Bytes{0x07, 0x1C, 0x04, 0x09, 0x00}));
  EXPECT_EQ(chip.raw(packet), encode_status(status::success));
  const auto created = crypto::sha256(
      concat({parent, Bytes{0x1C, 0x04, 0x09, 0x00, sn[8], sn[0], sn[1]}, Bytes(25, 0), nonce}));
  EXPECT_EQ(chip.device.read(Zone::data, 9, 0, 0, 32).value(),
            Bytes(created.begin(), created.end()));

  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  EXPECT_EQ(chip.command(Opcode::derive_key, 0x04, 13).status,
            status::execution_error);  // MAC required
  const auto mac =
      crypto::sha256(concat({rolling, Bytes{0x1C, 0x04, 0x0D, 0x00, sn[8], sn[0], sn[1]}}));
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  EXPECT_EQ(chip.command(Opcode::derive_key, 0x04, 13, mac).status, status::success);
  const auto rolled = crypto::sha256(
      concat({rolling, Bytes{0x1C, 0x04, 0x0D, 0x00, sn[8], sn[0], sn[1]}, Bytes(25, 0), nonce}));
  EXPECT_EQ(chip.slot_bytes(13, 0, 32), Bytes(rolled.begin(), rolled.end()));

  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  EXPECT_EQ(chip.command(Opcode::derive_key, 0x04, 8).status,
            status::execution_error);  // slot 8: WriteConfig does not allow DeriveKey
  EXPECT_EQ(chip.command(Opcode::derive_key, 0x01, 9).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::derive_key, 0x04, 9, Bytes(4, 0)).status, status::parse_error);
}

// Public-key rotation (Microchip's example for the ATECC608, same commands on the ATECC508A): slot
// 14 holds a PubInfo key (KeyConfig 32 00) validated by the authority key in slot 13 (SlotConfig
// ReadKey 13, WriteConfig 0001 PubInvalid).
struct RotationChip {
  RotationChip() {
    auto config = kit_config();
    set_slot(config, 13, 0x0F0F, 0x0030);
    set_slot(config, 14, 0x100D, 0x0032);
    EXPECT_TRUE(chip.device.write_config(config));
    EXPECT_TRUE(chip.device.lock_config());
    write_pubkey(13, authority.get());
    write_pubkey(14, rotating.get());
    EXPECT_TRUE(chip.device.lock_data());
    state = chip.emulator->state();
  }
  // As calib_write_pubkey: three 32-byte writes of | 4 pad | X | 4 pad | Y | 24 zeros |.
  void write_pubkey(unsigned slot, EVP_PKEY* key) {
    const auto raw = crypto::public_key_raw(key).value();
    const Bytes padded = concat({Bytes(4, 0), ByteView(raw).first(32), Bytes(4, 0),
                                 ByteView(raw).subspan(32), Bytes(24, 0)});
    for (unsigned block = 0; block < 3; ++block) {
      EXPECT_EQ(chip.command(Opcode::write, 0x82, encode_address(Zone::data, slot, block, 0),
                             ByteView(padded).subspan(32 * block, 32))
                    .status,
                status::success);
    }
  }
  // Nonce pass-through, GenKey 0x10 on slot 14; returns the TempKey the host expects.
  testing::Digest stored_key_digest() {
    const Bytes nonce = crypto::random_bytes(32);
    EXPECT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
    const Bytes packet = encode_command(Opcode::gen_key, 0x10, 14, Bytes(3, 0));
    EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 8),
              (Bytes{0x0A, 0x40, 0x10, 0x0E, 0x00, 0x00, 0x00, 0x00}));
    EXPECT_EQ(chip.raw(packet), encode_status(status::success));
    const auto sn = state.serial_number();
    const auto raw = crypto::public_key_raw(rotating.get()).value();
    return crypto::sha256(
        concat({nonce, Bytes{0x40, 0, 0, 0, sn[8], sn[0], sn[1]}, Bytes(25, 0), raw}));
  }
  // The Sign-internal message a validation authority signs, and the 19 bytes of OtherData.
  std::pair<Bytes, Bytes> validation_message(const testing::Digest& temp_key, bool invalidate) {
    const auto sn = state.serial_number();
    Bytes message = concat({temp_key, Bytes{0x41, 0x00}, le16(13), le16(state.slot_config(14).raw),
                            le16(state.key_config(14).raw),
                            Bytes{0x10 | 0x40 | 14, 0, 0, sn[8], 0, 0, 0, 0, sn[0], sn[1], 0, 0,
                                  0x01, static_cast<uint8_t>(invalidate ? 1 : 0), 0}});
    Bytes other = concat({ByteView(message).subspan(33, 10), ByteView(message).subspan(44, 4),
                          ByteView(message).subspan(50, 5)});
    return {message, other};
  }
  Bytes authorize(bool invalidate, bool corrupt = false) {
    const auto [message, other] = validation_message(stored_key_digest(), invalidate);
    auto signature =
        crypto::ecdsa_sign_digest_raw(authority.get(), crypto::sha256(message)).value();
    if (corrupt) signature[10] ^= 1;
    return concat({signature, other});
  }
  crypto::PkeyPtr authority = crypto::generate_p256_key().value();
  crypto::PkeyPtr rotating = crypto::generate_p256_key().value();
  Chip chip;
  ChipState state;
};

TEST(VerifyValidate, RotationFlow) {
  RotationChip r;
  const auto digest = crypto::sha256(as_bytes("message"));
  const auto signature = crypto::ecdsa_sign_digest_raw(r.rotating.get(), digest).value();
  EXPECT_EQ(r.chip.device.verify_stored(14, digest, signature).error().message.find("0x0F") !=
                std::string::npos,
            true);  // not validated yet

  EXPECT_EQ(r.chip.command(Opcode::verify, 0x03, 14, r.authorize(false, true)).status,
            status::miscompare);
  EXPECT_FALSE(r.chip.emulator->state().public_key_validated(14));
  const Bytes validate = r.authorize(false);
  const Bytes packet = encode_command(Opcode::verify, 0x03, 14, validate);
  EXPECT_EQ(packet.size(), 7u + 83u);
  EXPECT_EQ(r.chip.raw(packet), encode_status(status::success));
  EXPECT_EQ(r.chip.emulator->state().slots[14][0] >> 4, 0x5);
  EXPECT_EQ(r.chip.device.verify_stored(14, digest, signature).value(), true);
  // A validated key cannot be overwritten (PubInvalid).
  EXPECT_EQ(r.chip.command(Opcode::write, 0x82, encode_address(Zone::data, 14, 0, 0), Bytes(32, 0))
                .status,
            status::execution_error);

  EXPECT_EQ(r.chip.command(Opcode::verify, 0x07, 14, r.authorize(true)).status, status::success);
  EXPECT_EQ(r.chip.emulator->state().slots[14][0] >> 4, 0xA);
  EXPECT_EQ(r.chip.command(Opcode::write, 0x82, encode_address(Zone::data, 14, 0, 0), Bytes(32, 0))
                .status,
            status::success);  // invalidated: the key may be replaced

  // Without GenKey's digest of slot 14 in TempKey, validate is an execution error.
  ASSERT_EQ(r.chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 0)).status, status::success);
  EXPECT_EQ(r.chip.command(Opcode::verify, 0x03, 14, validate).status, status::execution_error);
  EXPECT_EQ(r.chip.command(Opcode::verify, 0x03, 14, Bytes(82, 0)).status, status::parse_error);
  EXPECT_EQ(r.chip.command(Opcode::verify, 0x03, 13, validate).status,
            status::execution_error);  // slot 13 has no PubInfo
}

TEST(GenKeyStoredDigest, Rules) {
  RotationChip r;
  EXPECT_EQ(r.chip.command(Opcode::gen_key, 0x10, 14, Bytes(3, 0)).status,
            status::execution_error);  // no TempKey
  ASSERT_EQ(r.chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 0)).status, status::success);
  EXPECT_EQ(r.chip.command(Opcode::gen_key, 0x10, 0, Bytes(3, 0)).status,
            status::execution_error);  // a private key slot
  EXPECT_EQ(r.chip.command(Opcode::gen_key, 0x10, 14).status, status::parse_error);  // OtherData
  EXPECT_EQ(r.chip.command(Opcode::gen_key, 0x14, 14, Bytes(3, 0)).status, status::parse_error);
}

TEST(ShaPublic, HashesTheStoredPublicKey) {
  RotationChip r;
  ASSERT_EQ(r.chip.command(Opcode::sha, 0x00, 0).status, status::success);
  const Bytes packet = encode_command(Opcode::sha, 0x03, 13);
  EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 5), (Bytes{0x07, 0x47, 0x03, 0x0D, 0x00}));
  EXPECT_EQ(r.chip.raw(packet), encode_status(status::success));
  const auto raw = crypto::public_key_raw(r.authority.get()).value();
  const auto expected = crypto::sha256(raw);
  EXPECT_EQ(r.chip.command(Opcode::sha, 0x02, 0).data, Bytes(expected.begin(), expected.end()));
  EXPECT_EQ(r.chip.command(Opcode::sha, 0x03, 13).status,
            status::execution_error);  // no SHA context
  ASSERT_EQ(r.chip.command(Opcode::sha, 0x00, 0).status, status::success);
  EXPECT_EQ(r.chip.command(Opcode::sha, 0x03, 0).status, status::execution_error);  // private
  EXPECT_EQ(r.chip.command(Opcode::sha, 0x03, 13, Bytes(4, 0)).status, status::parse_error);
}

// GenDig zone 3 (shared nonce, 32 bytes of input; Microchip's "GenDig - Shared Nonce" table and
// atcah_gen_dig): KeyID bit 15 clear = SHA-256(input, 15 03 id 00 SN8 SN0 SN1, 25 zeros, TempKey),
// set = SHA-256(TempKey, ..., input). TempKey is observed with MAC mode 0x07 (both blocks TempKey).
TEST(GenDigSharedNonce, BothOrders) {
  MacChip m;
  for (uint16_t key_id : {uint16_t{0x0005}, uint16_t{0x8005}}) {
    const Bytes nonce = crypto::random_bytes(32), input = crypto::random_bytes(32);
    ASSERT_EQ(m.chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
    const Bytes packet = encode_command(Opcode::gen_dig, 0x03, key_id, input);
    EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 5),
              (Bytes{0x27, 0x15, 0x03, 0x05, static_cast<uint8_t>(key_id >> 8)}));
    EXPECT_EQ(m.chip.raw(packet), encode_status(status::success));
    const Bytes middle{0x15, 0x03, 0x05, 0x00, m.sn[8], m.sn[0], m.sn[1]};
    const auto temp_key = (key_id & 0x8000)
                              ? crypto::sha256(concat({nonce, middle, Bytes(25, 0), input}))
                              : crypto::sha256(concat({input, middle, Bytes(25, 0), nonce}));
    const auto expected = crypto::sha256(concat(
        {temp_key, temp_key, Bytes{0x08, 0x07, 0x08, 0x00}, host_include_data(0x07, m.otp, m.sn)}));
    EXPECT_EQ(m.chip.command(Opcode::mac, 0x07, 8).data, Bytes(expected.begin(), expected.end()))
        << std::hex << key_id;
  }
  EXPECT_EQ(m.chip.command(Opcode::gen_dig, 0x03, 0, Bytes(32, 0)).status,
            status::execution_error);  // no TempKey
}

}  // namespace
}  // namespace zt::se
