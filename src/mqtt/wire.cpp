#include "mqtt/wire.hpp"

#include <fmt/format.h>

#include "mqtt/packet.hpp"

namespace zt::mqtt::wire {

Error Reader::error(std::string_view field, std::string_view what) const {
  return make_error(Errc::parse, fmt::format("{}: {}: {}", packet_, field, what));
}

Error Reader::protocol_error(std::string_view field, std::string_view what) const {
  return make_error(Errc::invalid_argument, fmt::format("{}: {}: {}", packet_, field, what));
}

Result<uint32_t> Reader::u32(std::string_view field) {
  if (remaining() < 4) return error(field, "packet ends before this four-byte field");
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = value << 8 | data_[position_ + static_cast<size_t>(i)];
  position_ += 4;
  return value;
}

Result<uint32_t> Reader::vbi(std::string_view field) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    if (remaining() < 1) return error(field, "packet ends inside this variable byte integer");
    uint8_t digit = data_[position_++];
    value |= static_cast<uint32_t>(digit & 0x7f) << (7 * i);
    if ((digit & 0x80) == 0) {
      // §1.5.5: "the minimum number of bytes" — a trailing zero digit is a longer form.
      if (i > 0 && digit == 0) return error(field, "variable byte integer is not minimal");
      return value;
    }
  }
  return error(field, "variable byte integer longer than four bytes (§1.5.5)");
}

void put_vbi(Bytes& out, uint32_t value) { encode_remaining_length(value, out); }

Result<uint8_t> Reader::u8(std::string_view field) {
  if (remaining() < 1) return error(field, "packet ends before this field");
  return data_[position_++];
}

Result<uint16_t> Reader::u16(std::string_view field) {
  if (remaining() < 2) return error(field, "packet ends before this two-byte field");
  uint16_t value = static_cast<uint16_t>((data_[position_] << 8) | data_[position_ + 1]);
  position_ += 2;
  return value;
}

Result<ByteView> Reader::take(size_t count, std::string_view field) {
  if (remaining() < count) {
    return error(field, fmt::format("needs {} bytes but only {} remain", count, remaining()));
  }
  ByteView view = data_.subspan(position_, count);
  position_ += count;
  return view;
}

ByteView Reader::rest() {
  ByteView view = data_.subspan(position_);
  position_ = data_.size();
  return view;
}

Result<Bytes> Reader::binary(std::string_view field) {
  ZT_TRY_ASSIGN(uint16_t length, u16(field));
  ZT_TRY_ASSIGN(ByteView bytes, take(length, field));
  return Bytes(bytes.begin(), bytes.end());
}

Result<std::string> Reader::utf8(std::string_view field) {
  ZT_TRY_ASSIGN(uint16_t length, u16(field));
  ZT_TRY_ASSIGN(ByteView bytes, take(length, field));
  std::string text(as_chars(bytes));
  // §1.5.3: a receiver MUST close the connection on ill-formed UTF-8 or U+0000.
  if (!is_valid_mqtt_utf8(text)) return error(field, "not well-formed UTF-8 (or contains U+0000)");
  return text;
}

Status check_string_length(ByteView bytes, std::string_view field) {
  if (bytes.size() > 0xffff) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("{} is {} bytes; MQTT strings hold at most 65535", field, bytes.size()));
  }
  return ok();
}

Status put_fixed_header(Bytes& out, uint8_t first_byte, size_t body_length) {
  if (body_length > kMaxRemainingLength) {
    return make_error(Errc::invalid_argument,
                      fmt::format("packet body of {} bytes exceeds the MQTT maximum of {}",
                                  body_length, kMaxRemainingLength));
  }
  out.push_back(first_byte);
  encode_remaining_length(body_length, out);
  return ok();
}

}  // namespace zt::mqtt::wire
