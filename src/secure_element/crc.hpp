// CRC-16 of ATECC508A packets: polynomial 0x8005, initial value 0, each data byte fed LSB first,
// result sent little-endian. Confirmed against Microchip's published example packet (Info
// `07 30 00 00 00` -> `03 5D`), the wake answer `04 11 33 43`, and cryptoauthlib's atCRC.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.hpp"

namespace zt::se {

uint16_t crc16(ByteView data);
// The two CRC bytes as they appear on the wire (low byte first).
std::array<uint8_t, 2> crc16_le(ByteView data);

}  // namespace zt::se
