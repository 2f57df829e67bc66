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

// Decodes param2 for the zone. 32-byte accesses address a whole block (the word offset is ignored);
// anything outside the zone or slot is a parse error.
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
  if (offset + length > zone_length) return std::nullopt;
  return Span{offset, length};
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
  Bytes out(state_.slots[slot].begin() + span->offset,
            state_.slots[slot].begin() + span->offset + span->length);
  if (!config.is_secret()) return output(std::move(out));
  if (!config.encrypt_read() || span->length != block_size) return fail(status::execution_error);
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
  const ByteView value = ByteView(command.data).first(value_size);

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
  if (!state_.data_locked()) {
    if (encrypted) return fail(status::execution_error);  // before the lock writes are in the clear
    std::copy(value.begin(), value.end(), target.begin() + span->offset);
    return done();
  }
  if (config.write_always() && !encrypted) {
    std::copy(value.begin(), value.end(), target.begin() + span->offset);
    return done();
  }
  if (!config.write_encrypted() || !encrypted) return fail(status::execution_error);
  // Encrypted write: TempKey from GenDig over the WriteKey slot; value = input XOR TempKey; the
  // MAC proves the host knows the write key.
  if (!temp_key_.valid || !temp_key_.gen_dig_data || temp_key_.key_id != config.write_key()) {
    return fail(status::execution_error);
  }
  Bytes plain(value.begin(), value.end());
  for (size_t i = 0; i < plain.size(); ++i) plain[i] ^= temp_key_.value[i];
  crypto::Sha256 h;
  h.update(temp_key_.value);
  append_command_header(h, Opcode::write, param1, command.param2, state_.serial_number(), 25);
  h.update(plain);
  const auto mac = h.finish();
  temp_key_.valid = false;
  if (!constant_time_equal(mac, ByteView(command.data).subspan(32, 32)))
    return fail(status::execution_error);
  std::copy(plain.begin(), plain.end(), target.begin() + span->offset);
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

Emulator::Reply Emulator::gen_dig(const Command& command) {
  const uint8_t zone = command.param1;
  if (zone > 2 || !command.data.empty())
    return fail(status::parse_error);  // shared-nonce etc. not emulated
  const uint16_t id = command.param2;
  ByteView stored;
  if (zone == 0) {
    if (id > 3) return fail(status::parse_error);
    stored = ByteView(state_.config).subspan(id * block_size, block_size);
  } else if (zone == 1) {
    if (id > 1) return fail(status::parse_error);
    stored = ByteView(state_.otp).subspan(id * block_size, block_size);
  } else {
    if (id >= slot_count) return fail(status::parse_error);
    if (!state_.config_locked() || state_.key_config(id).is_private())
      return fail(status::execution_error);
    stored = ByteView(state_.slots[id]).first(block_size);
  }
  if (!temp_key_.valid) return fail(status::execution_error);
  crypto::Sha256 h;
  h.update(stored);
  append_command_header(h, Opcode::gen_dig, zone, id, state_.serial_number(), 25);
  h.update(temp_key_.value);
  temp_key_.value = h.finish();
  temp_key_.gen_dig_data = zone == 2;
  temp_key_.gen_key_data = false;
  temp_key_.key_id = zone == 2 ? id : 0;
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
  if (!state_.config_locked()) return fail(status::execution_error);
  uint32_t value = state_.counter(command.param2);
  if (command.param1 == 1) {
    if (value >= counter_max) return fail(status::execution_error);
    state_.set_counter(command.param2, ++value);
  }
  return output(Bytes{static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
                      static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)});
}

Emulator::Reply Emulator::update_extra(const Command& command) {
  // Mode 0 writes UserExtra (byte 84), mode 1 Selector (85), each once: only while it is 0x00.
  // Mode 2 (decrement a limited-use counter) is not emulated.
  if (command.param1 > 1 || (command.param2 >> 8) != 0 || !command.data.empty())
    return fail(status::parse_error);
  if (!state_.config_locked()) return fail(status::execution_error);
  uint8_t& target =
      state_.config[command.param1 == 0 ? config_offset::user_extra : config_offset::selector];
  if (target != 0x00) return fail(status::execution_error);
  target = static_cast<uint8_t>(command.param2);
  return done();
}

}  // namespace zt::se
