// Command and response packets as they travel on the I2C bus (ATECC508A datasheet §6, "I/O
// blocks"): host -> chip `count opcode param1 param2(LE) data... crc(LE)`, chip -> host
// `count data... crc`; count includes itself and the CRC. On I2C a write transaction starts with
// the word-address byte (atecc508a.hpp word_address); a command is word address 0x03 + packet.
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "secure_element/atecc508a.hpp"

namespace zt::se {

struct Command {
  uint8_t opcode = 0;
  uint8_t param1 = 0;
  uint16_t param2 = 0;
  Bytes data;
};

// Builds `count opcode param1 param2 data crc`.
Bytes encode_command(const Command& command);
inline Bytes encode_command(Opcode opcode, uint8_t param1, uint16_t param2, ByteView data = {}) {
  return encode_command(
      Command{static_cast<uint8_t>(opcode), param1, param2, Bytes(data.begin(), data.end())});
}

// Why a received command packet was rejected; the chip answers with the matching status byte.
enum class PacketFault { none, framing, crc };

// Parses a command packet; on failure returns the fault (framing -> parse error 0x03 when the
// count byte disagrees with the length, crc -> 0xFF).
struct DecodedCommand {
  PacketFault fault = PacketFault::none;
  Command command;
};
DecodedCommand decode_command(ByteView packet);

// Chip -> host.
Bytes encode_response(ByteView data);
Bytes encode_status(uint8_t status);
// The answer to a wake pulse: 04 11 33 43.
Bytes wake_response();

// Host side: checks count and CRC and returns the data bytes (a 1-byte payload is a status byte,
// which the caller interprets).
Result<Bytes> decode_response(ByteView packet);

}  // namespace zt::se
