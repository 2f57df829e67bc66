// The chip's non-volatile memory: configuration zone (128 bytes), OTP zone (64 bytes), 16 data
// slots (0-7: 36 bytes, 8: 416, 9-15: 72); the two monotonic counters live in the config zone. A
// private key lives in its slot exactly as on the chip: 4 zero pad bytes then the 32-byte scalar.
// This struct is what the state file stores; volatile state (TempKey, SHA context, wake state)
// lives in Emulator.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "secure_element/atecc508a.hpp"

namespace zt::se {

struct ChipState {
  std::array<uint8_t, config_size> config{};
  std::array<uint8_t, otp_size> otp{};
  std::array<Bytes, slot_count> slots;

  bool operator==(const ChipState&) const = default;

  bool config_locked() const { return config[config_offset::lock_config] != unlocked; }
  bool data_locked() const { return config[config_offset::lock_value] != unlocked; }
  bool slot_locked(unsigned slot) const;
  void set_slot_locked(unsigned slot);
  SlotConfig slot_config(unsigned slot) const;
  KeyConfig key_config(unsigned slot) const;
  // Validation state of a public key slot with KeyConfig.PubInfo (Verify validate/invalidate): the
  // high nibble of the slot's first pad byte, 0x5 = validated, 0xA = invalidated (Microchip's
  // public-key-rotation example reads "valid_buf[0] >> 4 == 0x05" for a validated key).
  bool public_key_validated(unsigned slot) const { return (slots[slot][0] >> 4) == 0x5; }
  void set_public_key_validated(unsigned slot, bool validated) {
    slots[slot][0] = static_cast<uint8_t>((slots[slot][0] & 0x0F) | (validated ? 0x50 : 0xA0));
  }
  // SN[0:8], 9 bytes, from config bytes 0-3 and 8-12.
  std::array<uint8_t, 9> serial_number() const;
  // Monotonic counters 0/1 live in config bytes 52-59 / 60-67 in the encoding cryptoauthlib's
  // calib_write_config_counter writes: lin_a, lin_b (16-bit BE, 0xFFFF >> n), bin_a, bin_b (BE).
  uint32_t counter(unsigned id) const;
  void set_counter(unsigned id, uint32_t value);
  // The data zone in slot order, then OTP: what Lock(data) summarises (see emulator_memory.cpp).
  Bytes data_and_otp() const;
};

// A blank, unlocked ATECC508A as it leaves the factory: SN[0:1] = 01 23, SN[2:7] random,
// SN[8] = EE, RevNum 00 00 50 00, I2C address 0xC0, lock bytes 0x55, data zeroed. The factory's
// default SlotConfig/KeyConfig values are not public; a blank chip here has them all zero.
ChipState blank_chip();
ChipState blank_chip(const std::array<uint8_t, 6>& serial_2_7);

}  // namespace zt::se
