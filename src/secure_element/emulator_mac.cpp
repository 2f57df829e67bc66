// MAC, HMAC, CheckMac and DeriveKey: the symmetric-key commands. Message layouts from
// cryptoauthlib's host side (lib/host/atca_host.c: atcah_mac, atcah_include_data, atcah_hmac,
// atcah_check_mac, atcah_derive_key, atcah_derive_key_mac), which computes the values the part
// computes; mode bits from calib_command.h (MAC_MODE_*, HMAC_MODE_*, CHECKMAC_MODE_*,
// DERIVE_KEY_RANDOM_FLAG).
//
// Key-use rules (ATECC508A datasheet summary, SlotConfig/KeyConfig): a slot holding an ECC private
// key is not a SHA key; SlotConfig.NoMac keys and TempKeys made from them are refused by MAC and
// HMAC; KeyConfig.ReqRandom keys need a TempKey made from a random nonce. Conservative choices,
// documented in docs/compatibility.md: KeyConfig.ReqAuth keys are refused (the authorization state a
// prior CheckMac/GenDig with AuthKey would set is not emulated), SlotConfig.LimitedUse is not
// counted, and CheckMac's copy-to-TempKey variant is not performed.
#include <algorithm>

#include "crypto/digest.hpp"
#include "secure_element/emulator.hpp"

namespace zt::se {

namespace {

// MAC / HMAC / CheckMac mode bits (calib_command.h).
constexpr uint8_t mode_block2_temp_key = 0x01;  // MAC: challenge = TempKey; CheckMac: same
constexpr uint8_t mode_block1_temp_key = 0x02;  // key = TempKey
constexpr uint8_t mode_source_flag = 0x04;     // must equal TempKey.SourceFlag when TempKey is used
constexpr uint8_t mode_include_otp_88 = 0x10;  // MAC/HMAC: OTP[0:10] (MAC_MODE_INCLUDE_OTP_88)
constexpr uint8_t mode_include_otp_64 = 0x20;  // MAC/HMAC: OTP[0:7] (MAC_MODE_INCLUDE_OTP_64)
constexpr uint8_t mode_include_sn = 0x40;      // MAC/HMAC: SN[2:3] and SN[4:7]
constexpr uint8_t check_mac_include_otp_64 = 0x20;  // CheckMac: OTP[0:7]
constexpr uint8_t mac_mode_mask = 0x77;
constexpr uint8_t hmac_mode_mask = 0x74;
constexpr uint8_t check_mac_mode_mask = 0x27;
constexpr uint8_t derive_key_random_flag = 0x04;

// The 24 bytes after opcode/mode/KeyID in MAC and HMAC messages (atcah_include_data): OTP[0:10]
// or OTP[0:7] + 3 zeros or 11 zeros, SN[8], SN[4:7] or zeros, SN[0:1], SN[2:3] or zeros.
void append_include_data(Bytes& message, uint8_t mode, const std::array<uint8_t, otp_size>& otp,
                         const std::array<uint8_t, 9>& sn) {
  if (mode & mode_include_otp_88) {
    message.insert(message.end(), otp.begin(), otp.begin() + 11);
  } else {
    if (mode & mode_include_otp_64) {
      message.insert(message.end(), otp.begin(), otp.begin() + 8);
    } else {
      message.insert(message.end(), 8, 0);
    }
    message.insert(message.end(), 3, 0);
  }
  const bool full_sn = mode & mode_include_sn;
  message.push_back(sn[8]);
  for (size_t i = 4; i < 8; ++i) message.push_back(full_sn ? sn[i] : 0);
  message.push_back(sn[0]);
  message.push_back(sn[1]);
  message.push_back(full_sn ? sn[2] : 0);
  message.push_back(full_sn ? sn[3] : 0);
}

void append_opcode_mode_key_id(Bytes& message, Opcode opcode, uint8_t mode, uint16_t key_id) {
  message.insert(message.end(),
                 {static_cast<uint8_t>(opcode), mode, static_cast<uint8_t>(key_id & 0xFF),
                  static_cast<uint8_t>(key_id >> 8)});
}

}  // namespace

// Whether `slot` may serve as the SHA key of MAC/HMAC/CheckMac/DeriveKey. `for_mac` adds the NoMac
// rule; `temp_key_used`/random tell the ReqRandom rule whether a random TempKey is involved.
bool Emulator::symmetric_key_usable(unsigned slot, bool for_mac, bool random_temp_key) const {
  if (!state_.config_locked()) return false;
  const KeyConfig key = state_.key_config(slot);
  const SlotConfig config = state_.slot_config(slot);
  if (key.is_private()) return false;
  if (for_mac && config.no_mac()) return false;
  if (key.req_random() && !random_temp_key) return false;
  if (key.req_auth()) return false;  // authorization state not emulated (see header)
  return true;
}

// TempKey as an input of MAC/HMAC/CheckMac/DeriveKey: valid, not NoMac (for MAC/HMAC/DeriveKey),
// and its SourceFlag equal to mode bit 2 (atcah_mac: "mode parameter bit 2 must match
// temp_key.source_flag").
bool Emulator::temp_key_usable(uint8_t mode, bool check_no_mac) const {
  if (!temp_key_.valid) return false;
  if (check_no_mac && temp_key_.no_mac) return false;
  return static_cast<bool>(mode & mode_source_flag) == temp_key_.source_input;
}

Emulator::Reply Emulator::mac(const Command& command) {
  const uint8_t mode = command.param1;
  const bool challenge_in_temp_key = mode & mode_block2_temp_key;
  const bool key_in_temp_key = mode & mode_block1_temp_key;
  if ((mode & ~mac_mode_mask) != 0 || command.param2 >= slot_count ||
      command.data.size() != (challenge_in_temp_key ? 0u : 32u)) {
    return fail(status::parse_error);
  }
  const unsigned slot = command.param2;
  const bool temp_key_used = challenge_in_temp_key || key_in_temp_key;
  const bool usable_temp_key = !temp_key_used || temp_key_usable(mode, true);
  const bool random = temp_key_used && temp_key_.valid && !temp_key_.source_input;
  const bool usable_key = key_in_temp_key || symmetric_key_usable(slot, true, random);
  if (!usable_temp_key || !usable_key) {
    temp_key_.valid = false;
    return fail(status::execution_error);
  }
  // SHA-256(key or TempKey, challenge or TempKey, 08 mode KeyID(LE), include data): 88 bytes.
  Bytes message;
  const ByteView key =
      key_in_temp_key ? ByteView(temp_key_.value) : ByteView(state_.slots[slot]).first(block_size);
  message.insert(message.end(), key.begin(), key.end());
  const ByteView challenge = challenge_in_temp_key ? ByteView(temp_key_.value) : command.data;
  message.insert(message.end(), challenge.begin(), challenge.end());
  append_opcode_mode_key_id(message, Opcode::mac, mode, command.param2);
  append_include_data(message, mode, state_.otp, state_.serial_number());
  const auto digest = crypto::sha256(message);
  secure_zero(message.data(), message.size());
  temp_key_.valid = false;
  return output(Bytes(digest.begin(), digest.end()));
}

Emulator::Reply Emulator::hmac(const Command& command) {
  const uint8_t mode = command.param1;
  if ((mode & ~hmac_mode_mask) != 0 || command.param2 >= slot_count || !command.data.empty())
    return fail(status::parse_error);
  const unsigned slot = command.param2;
  const bool random = temp_key_.valid && !temp_key_.source_input;
  if (!temp_key_usable(mode, true) || !symmetric_key_usable(slot, true, random)) {
    temp_key_.valid = false;
    return fail(status::execution_error);
  }
  // HMAC-SHA256(key = slot[0:32], message = 32 zeros, TempKey, 11 mode KeyID(LE), include data).
  Bytes message(32, 0);
  message.insert(message.end(), temp_key_.value.begin(), temp_key_.value.end());
  append_opcode_mode_key_id(message, Opcode::hmac, mode, command.param2);
  append_include_data(message, mode, state_.otp, state_.serial_number());
  const auto digest = crypto::hmac_sha256(ByteView(state_.slots[slot]).first(block_size), message);
  temp_key_.valid = false;
  return output(Bytes(digest.begin(), digest.end()));
}

Emulator::Reply Emulator::check_mac(const Command& command) {
  const uint8_t mode = command.param1;
  if ((mode & ~check_mac_mode_mask) != 0 || command.param2 >= slot_count ||
      command.data.size() != 32 + 32 + 13) {
    return fail(status::parse_error);
  }
  const unsigned slot = command.param2;
  const ByteView client_challenge = ByteView(command.data).first(32);
  const ByteView client_response = ByteView(command.data).subspan(32, 32);
  const ByteView other_data = ByteView(command.data).subspan(64, 13);
  const bool temp_key_used = mode & (mode_block1_temp_key | mode_block2_temp_key);
  const bool random = temp_key_used && temp_key_.valid && !temp_key_.source_input;
  if ((temp_key_used && !temp_key_usable(mode, false)) ||
      (!(mode & mode_block1_temp_key) && !symmetric_key_usable(slot, false, random))) {
    temp_key_.valid = false;
    return fail(status::execution_error);
  }
  // SHA-256 of 88 bytes (atcah_check_mac): key or TempKey, ClientChal or TempKey, OtherData[0:4],
  // OTP[0:7] or zeros, OtherData[4:7], SN[8], OtherData[7:11], SN[0:1], OtherData[11:13].
  const auto sn = state_.serial_number();
  Bytes message;
  const ByteView key = (mode & mode_block1_temp_key)
                           ? ByteView(temp_key_.value)
                           : ByteView(state_.slots[slot]).first(block_size);
  message.insert(message.end(), key.begin(), key.end());
  const ByteView challenge =
      (mode & mode_block2_temp_key) ? ByteView(temp_key_.value) : client_challenge;
  message.insert(message.end(), challenge.begin(), challenge.end());
  message.insert(message.end(), other_data.begin(), other_data.begin() + 4);
  if (mode & check_mac_include_otp_64) {
    message.insert(message.end(), state_.otp.begin(), state_.otp.begin() + 8);
  } else {
    message.insert(message.end(), 8, 0);
  }
  message.insert(message.end(), other_data.begin() + 4, other_data.begin() + 7);
  message.push_back(sn[8]);
  message.insert(message.end(), other_data.begin() + 7, other_data.begin() + 11);
  message.push_back(sn[0]);
  message.push_back(sn[1]);
  message.insert(message.end(), other_data.begin() + 11, other_data.end());
  const auto expected = crypto::sha256(message);
  secure_zero(message.data(), message.size());
  if (temp_key_used) temp_key_.valid = false;
  return constant_time_equal(expected, client_response) ? done() : fail(status::miscompare);
}

Emulator::Reply Emulator::derive_key(const Command& command) {
  const uint8_t mode = command.param1;
  if ((mode & ~derive_key_random_flag) != 0 || command.param2 >= slot_count ||
      (!command.data.empty() && command.data.size() != 32)) {
    return fail(status::parse_error);
  }
  const unsigned target = command.param2;
  // The target's SlotConfig.WriteConfig governs DeriveKey (ATSHA204A/ATECC508A WriteConfig table):
  // bit 1 DeriveKey allowed, bit 0 Create (parent = WriteKey) rather than Roll (parent = the
  // target itself), bit 3 an input MAC is required. Keys are derived once the data zone is locked
  // (conservative).
  const SlotConfig config = state_.slot_config(target);
  const unsigned write_config = config.write_config();
  const unsigned parent = (write_config & 0x1) ? config.write_key() : target;
  const bool random = temp_key_.valid && !temp_key_.source_input;
  if (!state_.data_locked() || !(write_config & 0x2) || state_.slot_locked(target) ||
      state_.key_config(target).is_private() || !symmetric_key_usable(parent, false, random) ||
      !temp_key_usable(mode, true)) {
    temp_key_.valid = false;
    return fail(status::execution_error);
  }
  const auto sn = state_.serial_number();
  const ByteView parent_key = ByteView(state_.slots[parent]).first(block_size);
  Bytes header;
  append_opcode_mode_key_id(header, Opcode::derive_key, mode, command.param2);
  header.insert(header.end(), {sn[8], sn[0], sn[1]});
  if (write_config & 0x8) {
    // Input MAC = SHA-256(parent key, 1C mode target(LE) SN8 SN0 SN1) (atcah_derive_key_mac).
    crypto::Sha256 h;
    h.update(parent_key);
    h.update(header);
    if (command.data.size() != 32 || !constant_time_equal(h.finish(), command.data)) {
      temp_key_.valid = false;
      return fail(status::execution_error);
    }
  }
  // New key = SHA-256(parent key, 1C mode target(LE) SN8 SN0 SN1, 25 zeros, TempKey).
  crypto::Sha256 h;
  h.update(parent_key);
  h.update(header);
  h.update(Bytes(25, 0));
  h.update(temp_key_.value);
  auto derived = h.finish();
  std::copy(derived.begin(), derived.end(), state_.slots[target].begin());
  secure_zero(derived.data(), derived.size());
  temp_key_.valid = false;
  return done();
}

}  // namespace zt::se
