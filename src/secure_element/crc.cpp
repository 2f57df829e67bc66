#include "secure_element/crc.hpp"

namespace zt::se {

uint16_t crc16(ByteView data) {
  uint16_t reg = 0;
  for (uint8_t byte : data) {
    for (uint8_t mask = 0x01; mask != 0; mask = static_cast<uint8_t>(mask << 1)) {
      const bool data_bit = (byte & mask) != 0;
      const bool top_bit = (reg & 0x8000) != 0;
      reg = static_cast<uint16_t>(reg << 1);
      if (data_bit != top_bit) reg ^= 0x8005;
    }
  }
  return reg;
}

std::array<uint8_t, 2> crc16_le(ByteView data) {
  const uint16_t crc = crc16(data);
  return {static_cast<uint8_t>(crc & 0xFF), static_cast<uint8_t>(crc >> 8)};
}

}  // namespace zt::se
