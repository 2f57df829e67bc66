#include "secure_element/zones.hpp"

#include <algorithm>

#include "crypto/digest.hpp"

namespace zt::se {

namespace {
uint16_t read_le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
}  // namespace

bool ChipState::slot_locked(unsigned slot) const {
  const uint16_t bits = read_le16(&config[config_offset::slot_locked]);
  return (bits & (1u << slot)) == 0;  // a 0 bit means locked
}

void ChipState::set_slot_locked(unsigned slot) {
  const size_t byte = config_offset::slot_locked + slot / 8;
  config[byte] = static_cast<uint8_t>(config[byte] & ~(1u << (slot % 8)));
}

SlotConfig ChipState::slot_config(unsigned slot) const {
  return SlotConfig{read_le16(&config[config_offset::slot_config + 2 * slot])};
}

KeyConfig ChipState::key_config(unsigned slot) const {
  return KeyConfig{read_le16(&config[config_offset::key_config + 2 * slot])};
}

std::array<uint8_t, 9> ChipState::serial_number() const {
  std::array<uint8_t, 9> sn{};
  for (size_t i = 0; i < 4; ++i) sn[i] = config[config_offset::serial_0_3 + i];
  for (size_t i = 0; i < 5; ++i) sn[4 + i] = config[config_offset::serial_4_7 + i];
  return sn;
}

namespace {
uint16_t read_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
unsigned zero_bits(uint16_t value) {
  return 16u - static_cast<unsigned>(__builtin_popcount(value));
}
}  // namespace

// value v is stored as lin_a = 0xFFFF >> (v % 32), lin_b = 0xFFFF >> ((v - 16) % 32) (v >= 16),
// bin_a = v / 32, bin_b = (v - 16) / 32. lin_a is all zeros exactly when v % 32 >= 16, and then the
// "b" half carries v. A blank counter (FF FF FF FF 00 00 00 00) is 0.
uint32_t ChipState::counter(unsigned id) const {
  const uint8_t* p = &config[config_offset::counter0 + 8 * id];
  const uint16_t lin_a = read_be16(p), lin_b = read_be16(p + 2), bin_a = read_be16(p + 4),
                 bin_b = read_be16(p + 6);
  if (lin_a != 0) return 32u * bin_a + zero_bits(lin_a);
  return 16u + 32u * bin_b + std::min(zero_bits(lin_b), 15u);
}

void ChipState::set_counter(unsigned id, uint32_t value) {
  const uint16_t lin_a = static_cast<uint16_t>(value % 32 >= 16 ? 0 : 0xFFFFu >> (value % 32));
  const uint16_t lin_b = static_cast<uint16_t>(
      value >= 16 && (value - 16) % 32 < 16 ? 0xFFFFu >> ((value - 16) % 32) : 0);
  const uint16_t bin_a = static_cast<uint16_t>(value / 32);
  const uint16_t bin_b = static_cast<uint16_t>(value >= 16 ? (value - 16) / 32 : 0);
  uint8_t* p = &config[config_offset::counter0 + 8 * id];
  const uint16_t words[4] = {lin_a, value >= 16 ? lin_b : uint16_t{0xFFFF}, bin_a, bin_b};
  for (size_t i = 0; i < 4; ++i) {
    p[2 * i] = static_cast<uint8_t>(words[i] >> 8);
    p[2 * i + 1] = static_cast<uint8_t>(words[i] & 0xFF);
  }
}

Bytes ChipState::data_and_otp() const {
  Bytes all;
  for (const Bytes& slot : slots) all.insert(all.end(), slot.begin(), slot.end());
  all.insert(all.end(), otp.begin(), otp.end());
  return all;
}

ChipState blank_chip(const std::array<uint8_t, 6>& serial_2_7) {
  ChipState chip;
  auto& c = chip.config;
  c[0] = 0x01;
  c[1] = 0x23;
  c[2] = serial_2_7[0];
  c[3] = serial_2_7[1];
  c[4] = 0x00;  // RevNum 00 00 50 00 (ATECC508A)
  c[5] = 0x00;
  c[6] = 0x50;
  c[7] = 0x00;
  for (size_t i = 0; i < 4; ++i) c[8 + i] = serial_2_7[2 + i];
  c[config_offset::serial_8] = 0xEE;
  c[config_offset::i2c_enable] = 0x01;   // I2C interface selected
  c[config_offset::i2c_address] = 0xC0;  // factory default address (reference/kit.md)
  c[config_offset::otp_mode] = otp_mode_consumption;
  for (size_t i = 0; i < 4; ++i) {  // counters as in the kit's aws_config: FF FF FF FF 00 00 00 00
    c[config_offset::counter0 + i] = 0xFF;
    c[config_offset::counter1 + i] = 0xFF;
  }
  c[config_offset::lock_value] = unlocked;
  c[config_offset::lock_config] = unlocked;
  c[config_offset::slot_locked] = 0xFF;
  c[config_offset::slot_locked + 1] = 0xFF;
  for (unsigned slot = 0; slot < slot_count; ++slot) chip.slots[slot].assign(slot_size(slot), 0);
  return chip;
}

ChipState blank_chip() {
  const Bytes random = crypto::random_bytes(6);
  std::array<uint8_t, 6> serial{};
  for (size_t i = 0; i < serial.size(); ++i) serial[i] = random[i];
  return blank_chip(serial);
}

}  // namespace zt::se
