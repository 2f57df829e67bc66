#include "crypto/der_reader.hpp"

#include <cstdio>
#include <string>

namespace zt::crypto {

namespace {

std::string hex_byte(uint8_t b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", b);
  return text;
}

}  // namespace

Result<ByteView> DerReader::read(uint8_t tag, ByteView* whole) {
  if (data_.size() < 2)
    return make_error(Errc::parse, "DER: truncated, expected tag " + hex_byte(tag));
  if (data_[0] != tag) {
    return make_error(Errc::parse,
                      "DER: expected tag " + hex_byte(tag) + ", found " + hex_byte(data_[0]));
  }
  size_t header = 2;
  size_t length = data_[1];
  if (length & 0x80) {
    const size_t count = length & 0x7F;
    // 0x80 is BER's indefinite form; more than 3 length octets is far beyond our 64 KiB inputs.
    if (count == 0 || count > 3) return make_error(Errc::parse, "DER: unsupported length form");
    if (data_.size() < 2 + count) return make_error(Errc::parse, "DER: truncated length");
    length = 0;
    for (size_t i = 0; i < count; ++i) length = (length << 8) | data_[2 + i];
    // X.690 §10.1: the shortest form — no leading zero octet, and long form only from 128 on.
    if (data_[2] == 0 || length < 0x80)
      return make_error(Errc::parse, "DER: length not minimally encoded");
    header += count;
  }
  if (length > data_.size() - header)
    return make_error(Errc::parse, "DER: element runs past the end");
  ByteView content = data_.subspan(header, length);
  if (whole != nullptr) *whole = data_.subspan(0, header + length);
  data_ = data_.subspan(header + length);
  return content;
}

Status DerReader::expect_end(std::string_view what) const {
  if (!data_.empty())
    return make_error(Errc::parse, "DER: unexpected bytes after " + std::string(what));
  return ok();
}

}  // namespace zt::crypto
