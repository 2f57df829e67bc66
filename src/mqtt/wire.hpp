// Bounds-checked reading and writing of MQTT's primitive fields (§1.5): every read checks what is
// left, so a short or lying body becomes an error naming the field, never an out-of-bounds access.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::mqtt::wire {

class Reader {
 public:
  Reader(ByteView data, std::string_view packet) : data_(data), packet_(packet) {}

  size_t remaining() const { return data_.size() - position_; }
  bool empty() const { return remaining() == 0; }

  Result<uint8_t> u8(std::string_view field);
  Result<uint16_t> u16(std::string_view field);
  Result<uint32_t> u32(std::string_view field);
  // MQTT 5 §1.5.5 variable byte integer: 1–4 bytes; a fifth byte or a non-minimal form is
  // malformed.
  Result<uint32_t> vbi(std::string_view field);
  Result<ByteView> take(size_t count, std::string_view field);
  ByteView rest();
  // §1.5.3: a two-byte length then that many bytes of well-formed UTF-8.
  Result<std::string> utf8(std::string_view field);
  // §1.5.3 framing without the UTF-8 rule (will payload, password).
  Result<Bytes> binary(std::string_view field);

  // An Errc::parse error "<packet>: <field>: <what>" (MQTT 5: a Malformed Packet, 0x81).
  Error error(std::string_view field, std::string_view what) const;
  // The same as Errc::invalid_argument (MQTT 5: a Protocol Error, 0x82; properties.hpp).
  Error protocol_error(std::string_view field, std::string_view what) const;

  std::string_view packet() const { return packet_; }

 private:
  ByteView data_;
  size_t position_ = 0;
  std::string_view packet_;
};

// Writing cannot overflow: the caller checks lengths (checked_string) before encoding.
inline void put_u8(Bytes& out, uint8_t value) { out.push_back(value); }
inline void put_u16(Bytes& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value & 0xff));
}
inline void put_u32(Bytes& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}
// §1.5.5 (MQTT 5) = §2.2.3 (3.1.1): the caller keeps `value` within kMaxVariableByteInteger.
void put_vbi(Bytes& out, uint32_t value);
inline void put_bytes(Bytes& out, ByteView bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}
inline void put_string(Bytes& out, ByteView bytes) {
  put_u16(out, static_cast<uint16_t>(bytes.size()));
  put_bytes(out, bytes);
}

// Fails when `bytes` does not fit a two-byte length prefix.
Status check_string_length(ByteView bytes, std::string_view field);

// Writes the fixed header (§2.2) for a body of `body_length` bytes.
Status put_fixed_header(Bytes& out, uint8_t first_byte, size_t body_length);

}  // namespace zt::mqtt::wire
