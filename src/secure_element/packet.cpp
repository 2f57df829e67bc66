#include "secure_element/packet.hpp"

#include <fmt/format.h>

#include "secure_element/crc.hpp"

namespace zt::se {

Bytes encode_command(const Command& command) {
  Bytes packet;
  packet.reserve(command.data.size() + command_size_min);
  packet.push_back(static_cast<uint8_t>(command.data.size() + command_size_min));
  packet.push_back(command.opcode);
  packet.push_back(command.param1);
  packet.push_back(static_cast<uint8_t>(command.param2 & 0xFF));
  packet.push_back(static_cast<uint8_t>(command.param2 >> 8));
  packet.insert(packet.end(), command.data.begin(), command.data.end());
  const auto crc = crc16_le(packet);
  packet.insert(packet.end(), crc.begin(), crc.end());
  return packet;
}

DecodedCommand decode_command(ByteView packet) {
  DecodedCommand decoded;
  if (packet.size() < command_size_min || packet.size() > command_size_max ||
      packet[0] != packet.size()) {
    decoded.fault = PacketFault::framing;
    return decoded;
  }
  const auto crc = crc16_le(packet.first(packet.size() - 2));
  if (crc[0] != packet[packet.size() - 2] || crc[1] != packet[packet.size() - 1]) {
    decoded.fault = PacketFault::crc;
    return decoded;
  }
  decoded.command.opcode = packet[1];
  decoded.command.param1 = packet[2];
  decoded.command.param2 = static_cast<uint16_t>(packet[3] | (packet[4] << 8));
  decoded.command.data.assign(packet.begin() + 5, packet.end() - 2);
  return decoded;
}

Bytes encode_response(ByteView data) {
  Bytes packet;
  packet.reserve(data.size() + 3);
  packet.push_back(static_cast<uint8_t>(data.size() + 3));
  packet.insert(packet.end(), data.begin(), data.end());
  const auto crc = crc16_le(packet);
  packet.insert(packet.end(), crc.begin(), crc.end());
  return packet;
}

Bytes encode_status(uint8_t status) {
  const uint8_t data[1] = {status};
  return encode_response(data);
}

Bytes wake_response() { return encode_status(status::after_wake); }

Result<Bytes> decode_response(ByteView packet) {
  if (packet.size() < 4 || packet.size() > response_size_max || packet[0] != packet.size()) {
    return make_error(Errc::parse,
                      fmt::format("secure element response: bad length ({} bytes, count byte {})",
                                  packet.size(), packet.empty() ? 0 : packet[0]));
  }
  const auto crc = crc16_le(packet.first(packet.size() - 2));
  if (crc[0] != packet[packet.size() - 2] || crc[1] != packet[packet.size() - 1]) {
    return make_error(Errc::io, "secure element response: CRC mismatch");
  }
  return Bytes(packet.begin() + 1, packet.end() - 2);
}

const char* status_name(uint8_t value) {
  switch (value) {
    case status::success:
      return "success";
    case status::miscompare:
      return "miscompare";
    case status::parse_error:
      return "parse error";
    case status::ecc_fault:
      return "ECC fault";
    case status::execution_error:
      return "execution error";
    case status::after_wake:
      return "after wake";
    case status::watchdog:
      return "watchdog about to expire";
    case status::comm_error:
      return "CRC or communication error";
    default:
      return "unknown status";
  }
}

uint16_t encode_address(Zone zone, unsigned slot, unsigned block, unsigned offset) {
  offset &= 0x07;
  if (zone == Zone::data) return static_cast<uint16_t>((slot << 3) | offset | (block << 8));
  return static_cast<uint16_t>((block << 3) | offset);
}

}  // namespace zt::se
