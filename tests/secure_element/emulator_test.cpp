// Packet-level tests of the command processor: wake/sleep/idle, framing, Info, Random, Nonce,
// GenKey, Sign, Verify, ECDH, SHA — success paths, every status they document, lock and access
// rules.
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "se_test_util.hpp"
#include "secure_element/crc.hpp"

namespace zt::se {
namespace {

using testing::Chip;
using testing::Reply;

Bytes digest_of(std::string_view text) {
  const auto d = crypto::sha256(as_bytes(text));
  return Bytes(d.begin(), d.end());
}

crypto::PkeyPtr public_key_of(const Bytes& x_y) { return crypto::public_key_from_raw(x_y).value(); }

TEST(Emulator, NotAwakeMeansNoAnswer) {
  Emulator emulator(testing::test_blank_chip());
  EXPECT_TRUE(emulator.process(encode_command(Opcode::info, 0, 0)).empty());
  EXPECT_EQ(emulator.wake(), wake_response());
  EXPECT_FALSE(emulator.process(encode_command(Opcode::info, 0, 0)).empty());
  emulator.idle();
  EXPECT_TRUE(emulator.process(encode_command(Opcode::info, 0, 0)).empty());
}

TEST(Emulator, BadPacketsGetCommOrParseStatus) {
  Chip chip;
  Bytes packet = encode_command(Opcode::info, 0, 0);
  packet[5] ^= 0xFF;
  EXPECT_EQ(Chip::decode(chip.raw(packet)).status, status::comm_error);
  packet = encode_command(Opcode::info, 0, 0);
  packet[0] = 9;
  EXPECT_EQ(Chip::decode(chip.raw(packet)).status, status::parse_error);
  // Opcodes that are unknown or not emulated (Pause, MAC, HMAC, CheckMac, DeriveKey) are parse
  // errors.
  EXPECT_EQ(chip.command(static_cast<Opcode>(0x77), 0, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::mac, 0, 0).status, status::parse_error);
}

TEST(Emulator, I2cWordAddresses) {
  Chip chip;
  (void)chip.emulator->wake();
  Bytes transaction{word_address::command};
  const Bytes info = encode_command(Opcode::info, 0, 0);
  transaction.insert(transaction.end(), info.begin(), info.end());
  auto response = chip.emulator->i2c_write(transaction);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(Chip::decode(*response).data, (Bytes{0x00, 0x00, 0x50, 0x00}));
  EXPECT_FALSE(chip.emulator->i2c_write(Bytes{0x07}).has_value());  // reserved word address
  EXPECT_FALSE(chip.emulator->i2c_write(Bytes{word_address::sleep}).has_value());
  EXPECT_FALSE(chip.emulator->awake());
  EXPECT_FALSE(chip.emulator->i2c_write(transaction).has_value());  // asleep: NACK
}

TEST(Emulator, SleepClearsTempKeyIdleKeepsIt) {
  Chip chip;
  chip.provision_kit();
  const Bytes digest = digest_of("message");
  EXPECT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  chip.emulator->idle();
  EXPECT_EQ(chip.command(Opcode::sign, 0x80, 0).data.size(), 64u);
  EXPECT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  chip.emulator->sleep();
  EXPECT_EQ(chip.command(Opcode::sign, 0x80, 0).status, status::execution_error);
}

TEST(Info, RevisionKeyValidStateAndErrors) {
  Chip chip;
  EXPECT_EQ(chip.command(Opcode::info, 0x00, 0).data, (Bytes{0x00, 0x00, 0x50, 0x00}));
  EXPECT_EQ(chip.command(Opcode::info, 0x01, 0).data, (Bytes{0, 0, 0, 0}));  // no key yet
  chip.provision_kit();
  EXPECT_EQ(chip.command(Opcode::info, 0x01, 0).data, (Bytes{1, 0, 0, 0}));
  EXPECT_EQ(chip.command(Opcode::info, 0x01, 8).data, (Bytes{0, 0, 0, 0}));  // not a key slot
  EXPECT_EQ(chip.command(Opcode::info, 0x02, 0).data[1] & 0x80, 0);          // TempKey invalid
  EXPECT_EQ(chip.command(Opcode::info, 0x04, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::info, 0x01, 16).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::info, 0x00, 0, Bytes{1}).status, status::parse_error);
}

TEST(Random, FixedPatternBeforeConfigLock) {
  Chip chip;
  const Reply reply = chip.command(Opcode::random, 0x00, 0);
  ASSERT_EQ(reply.data.size(), 32u);
  for (size_t i = 0; i < 32; i += 4) {
    EXPECT_EQ(reply.data[i], 0xFF);
    EXPECT_EQ(reply.data[i + 1], 0xFF);
    EXPECT_EQ(reply.data[i + 2], 0x00);
    EXPECT_EQ(reply.data[i + 3], 0x00);
  }
  chip.configure();
  const Bytes first = chip.command(Opcode::random, 0x00, 0).data;
  const Bytes second = chip.command(Opcode::random, 0x01, 0).data;
  ASSERT_EQ(first.size(), 32u);
  EXPECT_NE(first, reply.data);
  EXPECT_NE(first, second);
  EXPECT_EQ(chip.command(Opcode::random, 0x02, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::random, 0x00, 1).status, status::parse_error);
}

TEST(Nonce, RandomAndPassThrough) {
  Chip chip;
  chip.configure();
  const Bytes num_in(20, 0x5A);
  const Reply random = chip.command(Opcode::nonce, 0x00, 0, num_in);
  ASSERT_EQ(random.data.size(), 32u);
  Bytes state = chip.command(Opcode::info, 0x02, 0).data;
  EXPECT_EQ(state[1] & 0x80, 0x80);  // valid
  EXPECT_EQ(state[0] & 0x10, 0x00);  // SourceFlag = random
  EXPECT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 1)).status, status::success);
  state = chip.command(Opcode::info, 0x02, 0).data;
  EXPECT_EQ(state[1] & 0x80, 0x80);  // valid
  EXPECT_EQ(state[0] & 0x10, 0x10);  // SourceFlag = input
  EXPECT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(20, 1)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::nonce, 0x00, 0, Bytes(32, 1)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::nonce, 0x02, 0, Bytes(20, 1)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::nonce, 0x23, 0, Bytes(64, 1)).status,
            status::parse_error);  // 608 only
  EXPECT_EQ(chip.command(Opcode::nonce, 0x00, 1, num_in).status, status::parse_error);
}

TEST(GenKey, RulesAndPublicKey) {
  Chip chip;
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 0).status,
            status::execution_error);  // config unlocked
  chip.configure();
  const Reply created = chip.command(Opcode::gen_key, 0x04, 0);
  ASSERT_EQ(created.data.size(), 64u);
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x00, 0).data, created.data);  // public key recomputed
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 8).status,
            status::execution_error);  // not a private slot
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 11).status,
            status::execution_error);  // public-key slot
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x01, 0).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 16).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x10, 0, Bytes(3, 0)).status,
            status::execution_error);  // stored-key digest of a private-key slot
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x08, 0).status,
            status::parse_error);  // digest needs OtherData
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x08, 0, Bytes(3, 0)).status,
            status::execution_error);  // no TempKey
}

TEST(GenKey, AfterDataLockNeedsWriteConfigGenKeyAndUnlockedSlot) {
  auto config = kit_config();
  config[config_offset::slot_config + 2 * 2 + 1] =
      0x00;                                          // slot 2: WriteConfig 0, GenKey not allowed
  config[config_offset::key_config + 2 * 3] = 0x11;  // slot 3: private P-256 without PubInfo
  Chip chip;
  ASSERT_TRUE(chip.device.write_config(config));
  ASSERT_TRUE(chip.device.lock_config());
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 2).data.size(),
            64u);  // allowed before the data lock
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 3).data.size(), 64u);
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x00, 3).status, status::execution_error);  // PubInfo = 0
  ASSERT_TRUE(chip.device.lock_data());
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 2).status, status::execution_error);
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 0).data.size(), 64u);  // slot 0 allows it
  ASSERT_TRUE(chip.device.lock_slot(0));
  EXPECT_EQ(chip.command(Opcode::gen_key, 0x04, 0).status, status::execution_error);  // slot locked
}

TEST(Sign, ExternalSignatureVerifiesWithOpenSsl) {
  Chip chip;
  const auto public_key = chip.provision_kit();
  const Bytes digest = digest_of("zero touch");
  EXPECT_EQ(chip.command(Opcode::sign, 0x80, 0).status, status::execution_error);  // no TempKey
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  const Reply signature = chip.command(Opcode::sign, 0x80, 0);
  ASSERT_EQ(signature.data.size(), 64u);
  auto key = public_key_of(Bytes(public_key.begin(), public_key.end()));
  EXPECT_TRUE(crypto::ecdsa_verify_digest_raw(key.get(), digest, signature.data));
  EXPECT_FALSE(crypto::ecdsa_verify_digest_raw(key.get(), digest_of("other"), signature.data));
  // TempKey is consumed; a random nonce is not an external message.
  EXPECT_EQ(chip.command(Opcode::sign, 0x80, 0).status, status::execution_error);
  ASSERT_EQ(chip.command(Opcode::nonce, 0x00, 0, Bytes(20, 0)).data.size(), 32u);
  EXPECT_EQ(chip.command(Opcode::sign, 0x80, 0).status, status::execution_error);
}

TEST(Sign, AccessRules) {
  Chip chip;
  chip.configure();
  ASSERT_EQ(chip.command(Opcode::gen_key, 0x04, 0).data.size(), 64u);
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 7)).status, status::success);
  EXPECT_EQ(chip.command(Opcode::sign, 0x80, 0).status, status::execution_error);  // data unlocked
  ASSERT_TRUE(chip.device.lock_data());
  ASSERT_EQ(chip.command(Opcode::gen_key, 0x04, 7).data.size(), 64u);
  auto sign_slot = [&](uint16_t slot, uint8_t mode) {
    EXPECT_EQ(chip.command(Opcode::nonce, 0x03, 0, Bytes(32, 7)).status, status::success);
    return chip.command(Opcode::sign, mode, slot).status;
  };
  EXPECT_EQ(sign_slot(8, 0x80), status::execution_error);  // not a key
  EXPECT_EQ(sign_slot(7, 0x80), status::execution_error);  // slot 7: internal signatures only
  EXPECT_EQ(sign_slot(0, 0x00),
            status::execution_error);  // internal: TempKey not from GenDig/GenKey
  EXPECT_EQ(sign_slot(8, 0x00), status::execution_error);  // internal on a non-key slot
  EXPECT_EQ(sign_slot(0, 0x82), status::parse_error);
  EXPECT_EQ(sign_slot(16, 0x80), status::parse_error);
}

// GenKey digest (atcah_gen_key_msg) then internal Sign (atcah_sign_internal_msg), with both
// messages rebuilt here from their published layouts: the signature must verify over our digest.
TEST(Sign, InternalSignatureOverGenKeyDigest) {
  Chip chip;
  chip.provision_kit();
  const auto sn = chip.emulator->state().serial_number();
  const Bytes nonce(32, 0x6B);
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, nonce).status, status::success);
  const Bytes public2 =
      chip.command(Opcode::gen_key, 0x0C, 2, Bytes(3, 0)).data;  // new key + digest
  ASSERT_EQ(public2.size(), 64u);
  EXPECT_EQ(chip.command(Opcode::info, 0x02, 0).data[0],
            0x40 | 0x10 | 2);  // GenKeyData, SourceFlag, KeyID 2

  Bytes genkey_message(128, 0);
  std::copy(nonce.begin(), nonce.end(), genkey_message.begin());
  genkey_message[32] = 0x40;
  genkey_message[33] = 0x0C;
  genkey_message[34] = 2;
  genkey_message[36] = sn[8];
  genkey_message[37] = sn[0];
  genkey_message[38] = sn[1];
  std::copy(public2.begin(), public2.end(), genkey_message.begin() + 64);
  const auto temp_key = crypto::sha256(genkey_message);

  const Bytes signature =
      chip.command(Opcode::sign, 0x40, 7).data;  // slot 7: internal sign, include SN
  ASSERT_EQ(signature.size(), 64u);
  const auto state = chip.emulator->state();
  Bytes sign_message(55, 0);
  std::copy(temp_key.begin(), temp_key.end(), sign_message.begin());
  sign_message[32] = 0x41;
  sign_message[33] = 0x40;
  sign_message[34] = 7;
  std::copy_n(state.config.begin() + 20 + 2 * 2, 2, sign_message.begin() + 36);  // SlotConfig[2]
  std::copy_n(state.config.begin() + 96 + 2 * 2, 2, sign_message.begin() + 38);  // KeyConfig[2]
  sign_message[40] = 0x40 | 0x10 | 2;
  sign_message[43] = sn[8];
  std::copy_n(sn.begin() + 4, 4, sign_message.begin() + 44);
  sign_message[48] = sn[0];
  sign_message[49] = sn[1];
  sign_message[50] = sn[2];
  sign_message[51] = sn[3];
  sign_message[52] = 0x01;  // slot 2 not locked
  const Bytes public7 = chip.command(Opcode::gen_key, 0x00, 7).data;
  auto key7 = public_key_of(public7);
  const auto digest = crypto::sha256(sign_message);
  EXPECT_TRUE(crypto::ecdsa_verify_digest_raw(key7.get(), digest, signature));
  // Slot 0 has internal signing too; slot 2 without a GenDig/GenKey TempKey is refused.
  EXPECT_EQ(chip.command(Opcode::sign, 0x00, 0).status,
            status::execution_error);  // TempKey consumed
  EXPECT_EQ(chip.command(Opcode::sign, 0x01, 7).status,
            status::parse_error);  // invalidate: not emulated
}

TEST(Verify, ExternalAndStored) {
  Chip chip;
  chip.provision_kit();
  auto signer = crypto::generate_p256_key().value();
  const auto raw_public = crypto::public_key_raw(signer.get()).value();
  const Bytes digest = digest_of("verify me");
  const auto signature = crypto::ecdsa_sign_digest_raw(signer.get(), digest).value();
  Bytes data(signature.begin(), signature.end());
  data.insert(data.end(), raw_public.begin(), raw_public.end());

  EXPECT_EQ(chip.command(Opcode::verify, 0x02, 4, data).status,
            status::execution_error);  // no TempKey
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  EXPECT_EQ(chip.command(Opcode::verify, 0x02, 4, data).status, status::success);
  Bytes tampered = data;
  tampered[10] ^= 1;
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  EXPECT_EQ(chip.command(Opcode::verify, 0x02, 4, tampered).status, status::miscompare);
  Bytes off_curve = data;
  off_curve[64 + 63] ^= 1;  // Y no longer on the curve
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  EXPECT_EQ(chip.command(Opcode::verify, 0x02, 4, off_curve).status, status::ecc_fault);
  EXPECT_EQ(chip.command(Opcode::verify, 0x02, 0, data).status, status::parse_error);  // key type
  EXPECT_EQ(chip.command(Opcode::verify, 0x02, 4, Bytes(64, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::verify, 0x03, 4, data).status, status::parse_error);

  // Stored: the public key in slot 11 in the padded format (4 zero bytes before X and before Y).
  Bytes padded(72, 0);
  std::copy(raw_public.begin(), raw_public.begin() + 32, padded.begin() + 4);
  std::copy(raw_public.begin() + 32, raw_public.end(), padded.begin() + 40);
  ASSERT_TRUE(chip.device.write_slot(11, padded));
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  EXPECT_EQ(
      chip.command(Opcode::verify, 0x00, 11, Bytes(signature.begin(), signature.end())).status,
      status::success);
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest_of("x")).status, status::success);
  EXPECT_EQ(
      chip.command(Opcode::verify, 0x00, 11, Bytes(signature.begin(), signature.end())).status,
      status::miscompare);
  ASSERT_EQ(chip.command(Opcode::nonce, 0x03, 0, digest).status, status::success);
  EXPECT_EQ(chip.command(Opcode::verify, 0x00, 0, Bytes(signature.begin(), signature.end())).status,
            status::execution_error);  // slot 0 is a private key
}

TEST(Ecdh, ClearOutputAgreesWithOpenSsl) {
  Chip chip;
  chip.provision_kit();
  auto peer = crypto::generate_p256_key().value();
  const auto peer_public = crypto::public_key_raw(peer.get()).value();
  const Bytes peer_bytes(peer_public.begin(), peer_public.end());
  const Bytes chip_public = chip.command(Opcode::gen_key, 0x00, 2).data;
  const Reply shared = chip.command(Opcode::ecdh, 0x00, 2, peer_bytes);
  ASSERT_EQ(shared.data.size(), 32u);
  auto chip_key = public_key_of(chip_public);
  EXPECT_EQ(shared.data, crypto::ecdh_shared_secret(peer.get(), chip_key.get()).value());
}

TEST(Ecdh, SlotZeroWritesMasterSecretToSlotOne) {
  Chip chip;
  const auto device_public = chip.provision_kit();
  auto peer = crypto::generate_p256_key().value();
  const auto peer_public = crypto::public_key_raw(peer.get()).value();
  const Reply reply =
      chip.command(Opcode::ecdh, 0x00, 0, Bytes(peer_public.begin(), peer_public.end()));
  EXPECT_EQ(reply.status, status::success);
  EXPECT_TRUE(reply.data.empty());
  auto chip_key = public_key_of(Bytes(device_public.begin(), device_public.end()));
  const Bytes expected = crypto::ecdh_shared_secret(peer.get(), chip_key.get()).value();
  const Bytes slot1 = chip.emulator->state().slots[1];
  EXPECT_EQ(Bytes(slot1.begin(), slot1.begin() + 32), expected);
  // Slot 1 is secret: it cannot be read in the clear.
  EXPECT_EQ(chip.command(Opcode::read, 0x82, encode_address(Zone::data, 1, 0, 0)).status,
            status::execution_error);
}

TEST(Ecdh, Errors) {
  Chip chip;
  chip.configure();
  ASSERT_EQ(chip.command(Opcode::gen_key, 0x04, 2).data.size(), 64u);
  auto peer = crypto::generate_p256_key().value();
  const auto raw = crypto::public_key_raw(peer.get()).value();
  Bytes peer_bytes(raw.begin(), raw.end());
  EXPECT_EQ(chip.command(Opcode::ecdh, 0x00, 2, peer_bytes).status,
            status::execution_error);  // data unlocked
  ASSERT_TRUE(chip.device.lock_data());
  ASSERT_EQ(chip.command(Opcode::gen_key, 0x04, 7).data.size(), 64u);
  EXPECT_EQ(chip.command(Opcode::ecdh, 0x00, 7, peer_bytes).status,
            status::execution_error);  // no ECDH bit
  EXPECT_EQ(chip.command(Opcode::ecdh, 0x00, 8, peer_bytes).status,
            status::execution_error);  // not a key
  EXPECT_EQ(chip.command(Opcode::ecdh, 0x0C, 2, peer_bytes).status,
            status::parse_error);  // 608 modes
  EXPECT_EQ(chip.command(Opcode::ecdh, 0x00, 2, Bytes(32, 0)).status, status::parse_error);
  peer_bytes[63] ^= 1;
  EXPECT_EQ(chip.command(Opcode::ecdh, 0x00, 2, peer_bytes).status,
            status::ecc_fault);  // off the curve
}

TEST(Sha, ContextRulesAndHmac) {
  Chip chip;
  EXPECT_EQ(chip.command(Opcode::sha, 0x01, 0, Bytes(64, 0)).status,
            status::execution_error);  // no start
  EXPECT_EQ(chip.command(Opcode::sha, 0x02, 0).status, status::execution_error);
  ASSERT_EQ(chip.command(Opcode::sha, 0x00, 0).status, status::success);
  EXPECT_EQ(chip.command(Opcode::sha, 0x01, 0, Bytes(63, 0)).status, status::parse_error);
  EXPECT_EQ(chip.command(Opcode::sha, 0x02, 3, Bytes(2, 0)).status,
            status::parse_error);  // length mismatch
  EXPECT_EQ(chip.command(Opcode::sha, 0x03, 0).status,
            status::execution_error);  // public mode on a private-key slot
  EXPECT_EQ(chip.command(Opcode::sha, 0x06, 0).status, status::parse_error);  // ATECC608 mode
  const Reply digest = chip.command(Opcode::sha, 0x02, 3, as_bytes("abc"));
  const auto expected = crypto::sha256(as_bytes("abc"));
  EXPECT_EQ(digest.data, Bytes(expected.begin(), expected.end()));

  // HMAC with the key in slot 8 (a data slot, readable key material for the test).
  chip.provision_kit();
  const Bytes key(32, 0x0B);
  ASSERT_TRUE(chip.device.write_slot(8, key));
  ASSERT_EQ(chip.command(Opcode::sha, 0x04, 8).status, status::success);
  const Reply mac = chip.command(Opcode::sha, 0x05, 8, as_bytes("Hi There"));
  const auto expected_mac = crypto::hmac_sha256(key, as_bytes("Hi There"));
  EXPECT_EQ(mac.data, Bytes(expected_mac.begin(), expected_mac.end()));
  EXPECT_EQ(chip.command(Opcode::sha, 0x04, 0).status, status::execution_error);  // a private key
}

}  // namespace
}  // namespace zt::se
