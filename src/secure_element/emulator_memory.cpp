// Read, Write, Lock, GenDig, PrivWrite, Counter, UpdateExtra. Addressing confirmed against
// cryptoauthlib calib_get_addr / calib_get_zone_size; GenDig, encrypted Write and PrivWrite MAC
// formulas against atca_host.c (atcah_gen_dig, atcah_write_auth_mac, atcah_privwrite_auth_mac);
// Lock param1 bits against calib LOCK_ZONE_* (mask 0xBF). A Lock whose CRC summary does not match
// answers execution error 0x0F (reported by users of the chip family; datasheet summary agrees).
#include <algorithm>

#include "crypto/key.hpp"
#include "secure_element/crc.hpp"
#include "secure_element/emulator.hpp"

namespace zt::se {

namespace {

struct Span {
  size_t offset = 0;
  size_t length = 0;
};

// Decodes param2 for the zone. 32-byte accesses address a whole block (the word offset is ignored).
// A 32-byte access to the last block of a slot whose size is not a multiple of 32 (block 1 of slots
// 0-7: 4 bytes, block 2 of slots 9-15: 8 bytes) is accepted and covers only the bytes that exist
// (Microchip, "Data Zone - Clear Text Write": "The last block of any slot will not be 32 bytes.
// This can still be written as a 32-byte write and the additional bytes need to be padded with
// zeros"). cryptoauthlib relies on it (calib_write_pubkey/calib_read_pubkey read and write block 2
// of a 72-byte slot with 32-byte accesses; atcacert_write_cert/read_cert write whole blocks; its
// test write_invalid_block_len expects "32-byte Write command writes only 4 bytes and ignores the
// rest" to succeed). Anything else outside the zone or slot is a parse error.
std::optional<Span> decode_span(Zone zone, uint16_t address, bool whole_block, unsigned* slot_out) {
  const size_t length = whole_block ? block_size : word_size;
  size_t zone_length = 0;
  size_t block = 0;
  const size_t word = address & 0x07;
  switch (zone) {
    case Zone::config:
      if (address & ~0x001F) return std::nullopt;
      block = (address >> 3) & 0x03;
      zone_length = config_size;
      break;
    case Zone::otp:
      if (address & ~0x000F) return std::nullopt;
      block = (address >> 3) & 0x01;
      zone_length = otp_size;
      break;
    case Zone::data: {
      const unsigned slot = (address >> 3) & 0x0F;
      if (address & 0xE000) return std::nullopt;
      block = address >> 8;
      zone_length = slot_size(slot);
      *slot_out = slot;
      break;
    }
  }
  const size_t offset = block * block_size + (whole_block ? 0 : word * word_size);
  if (offset >= zone_length) return std::nullopt;
  if (!whole_block && offset + length > zone_length) return std::nullopt;
  return Span{offset, std::min(length, zone_length - offset)};
}

// What a 32-byte Read answers for a block that holds fewer than 32 bytes: the bytes that exist,
// then zeros. The datasheet summary does not say what the part returns there; cryptoauthlib
// discards those bytes (calib_read_pubkey copies 8 bytes of block 2), so zeros are our choice.
Bytes pad_to_block(Bytes bytes, bool whole_block) {
  if (whole_block) bytes.resize(block_size, 0);
  return bytes;
}

void append_le16(crypto::Sha256& h, uint16_t value) {
  const uint8_t bytes[2] = {static_cast<uint8_t>(value & 0xFF), static_cast<uint8_t>(value >> 8)};
  h.update(bytes);
}

// The common middle of the GenDig / Write-MAC / PrivWrite-MAC messages:
// opcode, param1, param2 (LE), SN[8], SN[0:1], then `zeros` zero bytes.
void append_command_header(crypto::Sha256& h, Opcode opcode, uint8_t param1, uint16_t param2,
                           const std::array<uint8_t, 9>& sn, size_t zeros) {
  const uint8_t head[2] = {static_cast<uint8_t>(opcode), param1};
  h.update(head);
  append_le16(h, param2);
  const uint8_t serial[3] = {sn[8], sn[0], sn[1]};
  h.update(serial);
  const Bytes padding(zeros, 0);
  h.update(padding);
}

}  // namespace

Emulator::Reply Emulator::read(const Command& command) {
  const uint8_t param1 = command.param1;
  if ((param1 & ~0x83) != 0 || (param1 & zone_mask) > 2 || !command.data.empty())
    return fail(status::parse_error);
  const Zone zone = static_cast<Zone>(param1 & zone_mask);
  unsigned slot = 0;
  const auto span = decode_span(zone, command.param2, param1 & zone_32_bytes, &slot);
  if (!span) return fail(status::parse_error);

  if (zone == Zone::config) {  // always readable
    return output(Bytes(state_.config.begin() + span->offset,
                        state_.config.begin() + span->offset + span->length));
  }
  // Data and OTP are not readable before the data zone is locked (datasheet Read command table).
  if (!state_.data_locked()) return fail(status::execution_error);
  if (zone == Zone::otp) {
    return output(
        Bytes(state_.otp.begin() + span->offset, state_.otp.begin() + span->offset + span->length));
  }
  const KeyConfig key = state_.key_config(slot);
  const SlotConfig config = state_.slot_config(slot);
  // A private key is never readable, whatever SlotConfig says.
  if (key.is_private()) return fail(status::execution_error);
  const bool whole_block = param1 & zone_32_bytes;
  Bytes out = pad_to_block(Bytes(state_.slots[slot].begin() + span->offset,
                                 state_.slots[slot].begin() + span->offset + span->length),
                           whole_block);
  if (!config.is_secret()) return output(std::move(out));
  if (!config.encrypt_read() || !whole_block) return fail(status::execution_error);
  // Encrypted read: TempKey must come from GenDig over the ReadKey slot; output = data XOR TempKey.
  if (!temp_key_.valid || !temp_key_.gen_dig_data || temp_key_.key_id != config.read_key()) {
    return fail(status::execution_error);
  }
  for (size_t i = 0; i < out.size(); ++i) out[i] ^= temp_key_.value[i];
  temp_key_.valid = false;
  return output(std::move(out));
}

Emulator::Reply Emulator::write(const Command& command) {
  const uint8_t param1 = command.param1;
  if ((param1 & ~0xC3) != 0 || (param1 & zone_mask) > 2) return fail(status::parse_error);
  const Zone zone = static_cast<Zone>(param1 & zone_mask);
  const bool whole_block = param1 & zone_32_bytes;
  const bool encrypted = param1 & zone_encrypted;
  const size_t value_size = whole_block ? block_size : word_size;
  if (command.data.size() != value_size + (encrypted ? 32 : 0)) return fail(status::parse_error);
  if (encrypted && (!whole_block || zone != Zone::data)) return fail(status::parse_error);
  unsigned slot = 0;
  const auto span = decode_span(zone, command.param2, whole_block, &slot);
  if (!span) return fail(status::parse_error);
  // Only span->length bytes exist at the address (a 32-byte write of a short last block stores
  // what fits and ignores the rest, see decode_span).
  const ByteView value = ByteView(command.data).first(span->length);

  if (zone == Zone::config) {
    if (state_.config_locked()) return fail(status::execution_error);
    // Bytes 0-15 (serial number, revision) are read-only; 84-87 change only through UpdateExtra and
    // Lock. Refusing the whole write (rather than skipping those bytes) is the conservative choice.
    const size_t end = span->offset + span->length;
    if (span->offset < 16 || (span->offset < 88 && end > 84)) return fail(status::execution_error);
    std::copy(value.begin(), value.end(), state_.config.begin() + span->offset);
    return done();
  }
  // Neither OTP nor data can be written before the configuration is locked.
  if (!state_.config_locked()) return fail(status::execution_error);
  // Until the data zone is locked, data and OTP take only 32-byte writes (cryptoauthlib
  // calib_write_bytes_zone: "If data zone is unlocked, only 32-byte writes are allowed to slots and
  // OTP").
  if (!state_.data_locked() && !whole_block) return fail(status::execution_error);
  if (zone == Zone::otp) {
    if (!state_.data_locked()) {
      std::copy(value.begin(), value.end(), state_.otp.begin() + span->offset);
      return done();
    }
    // After the lock only consumption mode allows writes, and only bits going 1 -> 0.
    if (state_.config[config_offset::otp_mode] != otp_mode_consumption)
      return fail(status::execution_error);
    for (size_t i = 0; i < value.size(); ++i) {
      if ((state_.otp[span->offset + i] & value[i]) != value[i])
        return fail(status::execution_error);
    }
    std::copy(value.begin(), value.end(), state_.otp.begin() + span->offset);
    return done();
  }

  const KeyConfig key = state_.key_config(slot);
  const SlotConfig config = state_.slot_config(slot);
  if (key.is_private())
    return fail(status::execution_error);  // private keys: GenKey / PrivWrite only
  if (state_.slot_locked(slot)) return fail(status::execution_error);
  Bytes& target = state_.slots[slot];
  if (!encrypted) {
    // "4 or 32-byte writes are permissible for any block within a slot provided that slot is not
    // secret. For secret slots only 32 byte writes are permitted." (same section)
    if (!whole_block && config.is_secret()) return fail(status::execution_error);
    // Before the data lock every slot takes clear writes; after it WriteConfig "always", or
    // "PubInvalid" for a PubInfo public key that is not validated.
    const bool pub_invalid =
        config.write_pub_invalid() && key.pub_info() && !state_.public_key_validated(slot);
    if (state_.data_locked() && !config.write_always() && !pub_invalid)
      return fail(status::execution_error);
    std::copy(value.begin(), value.end(), target.begin() + span->offset);
    return done();
  }
  // Encrypted write (param1 bit 6). After the data lock the slot must be configured for it
  // (WriteConfig encrypt) and TempKey must come from GenDig over its WriteKey. Before the data
  // lock bit 6 alone says the input is encrypted (cryptoauthlib test write_enc_data_unlock:
  // "When it is unlocked, write command parameter zone.bit6 decides whether the input data is
  // encrypted or not"); the WriteKey is not enforced then (conservative reading: the slot's
  // configuration governs writes only once the data zone is locked), but TempKey must still come
  // from GenDig over a data slot and the MAC must match.
  if (state_.data_locked() && !config.write_encrypted()) return fail(status::execution_error);
  if (!temp_key_.valid || !temp_key_.gen_dig_data || temp_key_.no_mac ||
      (state_.data_locked() && temp_key_.key_id != config.write_key())) {
    return fail(status::execution_error);
  }
  // Input = plain XOR TempKey; MAC = SHA-256(TempKey, 12 p1 p2 SN8 SN0 SN1, 25 zeros, plain)
  // (atca_host.c atcah_write_auth_mac), over the 32 bytes the host sent.
  Bytes plain(command.data.begin(), command.data.begin() + block_size);
  for (size_t i = 0; i < plain.size(); ++i) plain[i] ^= temp_key_.value[i];
  crypto::Sha256 h;
  h.update(temp_key_.value);
  append_command_header(h, Opcode::write, param1, command.param2, state_.serial_number(), 25);
  h.update(plain);
  const auto mac = h.finish();
  temp_key_.valid = false;
  if (!constant_time_equal(mac, ByteView(command.data).subspan(32, 32))) {
    secure_zero(plain.data(), plain.size());
    return fail(status::execution_error);
  }
  std::copy_n(plain.begin(), span->length, target.begin() + span->offset);
  secure_zero(plain.data(), plain.size());
  return done();
}

Emulator::Reply Emulator::lock(const Command& command) {
  const uint8_t param1 = command.param1;
  const uint8_t mode = param1 & 0x03;
  const bool check_crc = !(param1 & 0x80);
  if ((param1 & 0x40) || mode == 3 || !command.data.empty()) return fail(status::parse_error);
  if (mode != 2 && (param1 & 0x3C)) return fail(status::parse_error);
  if (mode == 0) {
    if (state_.config_locked()) return fail(status::execution_error);
    if (check_crc && crc16(state_.config) != command.param2) return fail(status::execution_error);
    state_.config[config_offset::lock_config] = locked;
    return done();
  }
  if (mode == 1) {
    if (!state_.config_locked() || state_.data_locked()) return fail(status::execution_error);
    if (check_crc && crc16(state_.data_and_otp()) != command.param2)
      return fail(status::execution_error);
    state_.config[config_offset::lock_value] = locked;
    return done();
  }
  const unsigned slot = (param1 >> 2) & 0x0F;
  // Single-slot lock after both zones are locked, on a Lockable slot, once (conservative reading).
  if (!state_.config_locked() || !state_.data_locked()) return fail(status::execution_error);
  if (!state_.key_config(slot).lockable() || state_.slot_locked(slot))
    return fail(status::execution_error);
  if (check_crc && crc16(state_.slots[slot]) != command.param2)
    return fail(status::execution_error);
  state_.set_slot_locked(slot);
  return done();
}

// GenDig (atca_host.c atcah_gen_dig; Microchip's GenDig tables "GenDig - Data" and "GenDig - Shared
// Nonce"): TempKey = SHA-256(stored value(32), 15 zone id(LE) SN8 SN0 SN1, 25 zeros, TempKey).
//  - zones 0/1 (config block / OTP block): no data.
//  - zone 2 (data slot): 0 or 4 bytes of OtherData. When the slot's SlotConfig.NoMac is set the 4
//    bytes replace "15 zone id(LE)" in the message and are required; otherwise they are ignored
//    (cryptoauthlib's write_enc/read_enc/priv_write always send 15 02 id(LE) "so GenDig behavior
//    is the same for keys with SlotConfig.NoMac set"). A NoMac slot marks TempKey NoMac.
//  - zone 3 (shared nonce): 32 bytes of input; param2 bit 15 clear: SHA-256(input, 15 03 id 00 SN8
//    SN0 SN1, 25 zeros, TempKey); set: SHA-256(TempKey, ..., input).
Emulator::Reply Emulator::gen_dig(const Command& command) {
  const uint8_t zone = command.param1;
  const uint16_t id = command.param2;
  const size_t data_size = command.data.size();
  if (zone > 3) return fail(status::parse_error);
  if (zone < 2 && data_size != 0) return fail(status::parse_error);
  if (zone == 2 && data_size != 0 && data_size != 4) return fail(status::parse_error);
  if (zone == 3 && data_size != 32) return fail(status::parse_error);
  ByteView stored;
  bool no_mac = false;
  if (zone == 0) {
    if (id > 3) return fail(status::parse_error);
    stored = ByteView(state_.config).subspan(id * block_size, block_size);
  } else if (zone == 1) {
    if (id > 1) return fail(status::parse_error);
    stored = ByteView(state_.otp).subspan(id * block_size, block_size);
  } else if (zone == 2) {
    if (id >= slot_count) return fail(status::parse_error);
    if (!state_.config_locked() || state_.key_config(id).is_private())
      return fail(status::execution_error);
    no_mac = state_.slot_config(id).no_mac();
    if (no_mac && data_size != 4) return fail(status::execution_error);
    // KeyConfig.ReqRandom: the key may be combined only with a random nonce.
    if (state_.key_config(id).req_random() && temp_key_.source_input)
      return fail(status::execution_error);
    stored = ByteView(state_.slots[id]).first(block_size);
  } else {
    if ((id & 0x7FF0) != 0) return fail(status::parse_error);
  }
  if (!temp_key_.valid) return fail(status::execution_error);
  const auto sn = state_.serial_number();
  crypto::Sha256 h;
  if (zone == 3) {
    const bool temp_key_first = id & 0x8000;
    h.update(temp_key_first ? ByteView(temp_key_.value) : ByteView(command.data));
    const uint8_t middle[7] = {static_cast<uint8_t>(Opcode::gen_dig),
                               zone,
                               static_cast<uint8_t>(id & 0xFF),
                               0,
                               sn[8],
                               sn[0],
                               sn[1]};
    h.update(middle);
    h.update(Bytes(25, 0));
    h.update(temp_key_first ? ByteView(command.data) : ByteView(temp_key_.value));
  } else if (no_mac) {
    h.update(stored);
    h.update(command.data);  // OtherData replaces opcode, zone and KeyID
    const uint8_t serial[3] = {sn[8], sn[0], sn[1]};
    h.update(serial);
    h.update(Bytes(25, 0));
    h.update(temp_key_.value);
  } else {
    h.update(stored);
    append_command_header(h, Opcode::gen_dig, zone, id, sn, 25);
    h.update(temp_key_.value);
  }
  temp_key_.value = h.finish();
  temp_key_.gen_dig_data = zone == 2;
  temp_key_.gen_key_data = false;
  temp_key_.key_id = zone == 2 ? id : 0;
  // Datasheet GenDig - Data: "If multiple GenDigs are run, if any slot has NoMAC set, then the
  // output in TempKey cannot be used in executing a MAC command."
  temp_key_.no_mac = temp_key_.no_mac || no_mac;
  return done();
}

Emulator::Reply Emulator::priv_write(const Command& command) {
  const uint8_t param1 = command.param1;
  if ((param1 != 0x00 && param1 != 0x40) || command.param2 >= slot_count ||
      command.data.size() != 68) {
    return fail(status::parse_error);
  }
  const unsigned slot = command.param2;
  if (!state_.config_locked()) return fail(status::execution_error);
  const KeyConfig key = state_.key_config(slot);
  if (!key.is_private() || !key.is_p256() || state_.slot_locked(slot))
    return fail(status::execution_error);
  Bytes plain(command.data.begin(), command.data.begin() + 36);
  if (!state_.data_locked()) {
    if (param1 != 0x00) return fail(status::execution_error);  // before the lock: plain only
  } else {
    const SlotConfig config = state_.slot_config(slot);
    if (param1 != 0x40 || !config.privwrite_allowed()) return fail(status::execution_error);
    if (!temp_key_.valid || !temp_key_.gen_dig_data || temp_key_.key_id != config.write_key()) {
      return fail(status::execution_error);
    }
    // First 32 bytes XOR TempKey, last 4 XOR SHA-256(TempKey)[0:4] (atcah_privwrite_auth_mac).
    const auto second_key = crypto::sha256(temp_key_.value);
    for (size_t i = 0; i < 32; ++i) plain[i] ^= temp_key_.value[i];
    for (size_t i = 32; i < 36; ++i) plain[i] ^= second_key[i - 32];
    crypto::Sha256 h;
    h.update(temp_key_.value);
    append_command_header(h, Opcode::priv_write, param1, command.param2, state_.serial_number(),
                          21);
    h.update(plain);
    const auto mac = h.finish();
    temp_key_.valid = false;
    if (!constant_time_equal(mac, ByteView(command.data).subspan(36, 32))) {
      secure_zero(plain.data(), plain.size());
      return fail(status::execution_error);
    }
  }
  // The value is 4 zero pad bytes and a P-256 scalar in [1, n-1].
  const bool valid = plain[0] == 0 && plain[1] == 0 && plain[2] == 0 && plain[3] == 0 &&
                     crypto::private_key_from_scalar(ByteView(plain).subspan(4, 32)).has_value();
  if (!valid) {
    secure_zero(plain.data(), plain.size());
    return fail(status::execution_error);
  }
  std::copy(plain.begin(), plain.end(), state_.slots[slot].begin());
  secure_zero(plain.data(), plain.size());
  return done();
}

Emulator::Reply Emulator::counter(const Command& command) {
  constexpr uint32_t counter_max = 2097151;  // calib COUNTER_MAX_VALUE
  if (command.param1 > 1 || command.param2 > 1 || !command.data.empty())
    return fail(status::parse_error);
  // The counters work whatever the lock state: cryptoauthlib's counter_write_test sets counter 1
  // with Write on an unlocked configuration zone and reads it back with Counter.
  uint32_t value = state_.counter(command.param2);
  if (command.param1 == 1) {
    if (value >= counter_max) return fail(status::execution_error);
    state_.set_counter(command.param2, ++value);
  }
  return output(Bytes{static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
                      static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)});
}

Emulator::Reply Emulator::update_extra(const Command& command) {
  // Mode 0 writes UserExtra (byte 84), mode 1 Selector (85) with the LSB of param2, each only
  // while it is 0x00 ("These bytes are one-time updatable bytes and can only be updated if the
  // current value is 0x00", Microchip UpdateExtra command table). The lock state does not matter:
  // cryptoauthlib's calib_write_config_zone writes bytes 16-127 with Write and then both bytes with
  // UpdateExtra on a chip whose configuration zone is still unlocked. Mode 2 (decrement a
  // limited-use counter) is not emulated: parse error.
  if (command.param1 > 1 || (command.param2 >> 8) != 0 || !command.data.empty())
    return fail(status::parse_error);
  uint8_t& target =
      state_.config[command.param1 == 0 ? config_offset::user_extra : config_offset::selector];
  if (target != 0x00) return fail(status::execution_error);
  target = static_cast<uint8_t>(command.param2);
  return done();
}

}  // namespace zt::se
