#include "atcacert/der.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace zt::atcacert {

namespace {

Error der_error(size_t offset, std::string_view why) {
  return make_error(Errc::parse, fmt::format("DER error at byte {}: {}", offset, why));
}

// Appends INTEGER for an unsigned big-endian value: leading zeros trimmed, a 0x00 added when the
// top bit is set (X.690 §8.3.2 minimal two's complement).
void append_unsigned_integer(Bytes& out, ByteView value) {
  size_t start = 0;
  while (start + 1 < value.size() && value[start] == 0) ++start;
  const bool pad = (value[start] & 0x80) != 0;
  out.push_back(0x02);
  out.push_back(static_cast<uint8_t>(value.size() - start + (pad ? 1 : 0)));
  if (pad) out.push_back(0x00);
  out.insert(out.end(), value.begin() + static_cast<ptrdiff_t>(start), value.end());
}

// Reads a minimal positive INTEGER of at most 32 significant bytes into `out` (right-aligned).
Result<size_t> read_unsigned_integer(ByteView der, size_t offset, uint8_t* out) {
  ZT_TRY_ASSIGN(Tlv tlv, read_tlv(der, offset));
  if (tlv.tag != 0x02) return der_error(offset, "expected INTEGER");
  if (tlv.length == 0) return der_error(offset, "empty INTEGER");
  ByteView value = der.subspan(tlv.value_offset(), tlv.length);
  if (value[0] & 0x80) return der_error(offset, "negative INTEGER in a signature");
  if (value.size() > 1 && value[0] == 0 && !(value[1] & 0x80)) {
    return der_error(offset, "INTEGER with a superfluous leading zero");
  }
  if (value[0] == 0) value = value.subspan(1);
  if (value.size() > 32) return der_error(offset, "signature INTEGER longer than 32 bytes");
  std::fill(out, out + 32, 0);
  std::copy(value.begin(), value.end(), out + (32 - value.size()));
  return tlv.end();
}

}  // namespace

Result<Tlv> read_tlv(ByteView data, size_t offset) {
  if (offset + 2 > data.size()) return der_error(offset, "truncated TLV header");
  Tlv tlv;
  tlv.tag = data[offset];
  tlv.offset = offset;
  if ((tlv.tag & 0x1F) == 0x1F) return der_error(offset, "multi-byte tags are not used here");
  uint8_t first = data[offset + 1];
  if (first < 0x80) {
    tlv.header_size = 2;
    tlv.length = first;
  } else {
    size_t count = first & 0x7F;
    if (count == 0) return der_error(offset, "indefinite length is not DER");
    if (count > 3) return der_error(offset, "length longer than 3 octets");
    if (offset + 2 + count > data.size()) return der_error(offset, "truncated length");
    size_t length = 0;
    for (size_t i = 0; i < count; ++i) length = length << 8 | data[offset + 2 + i];
    if (data[offset + 2] == 0 || length < 0x80) return der_error(offset, "non-minimal length");
    tlv.header_size = 2 + count;
    tlv.length = length;
  }
  if (tlv.length > data.size() - offset - tlv.header_size) {
    return der_error(offset, fmt::format("value of {} bytes runs past the end ({} bytes)",
                                         tlv.length, data.size()));
  }
  return tlv;
}

Bytes encode_length(size_t length) {
  if (length < 0x80) return {static_cast<uint8_t>(length)};
  Bytes digits;
  for (size_t v = length; v != 0; v >>= 8) digits.insert(digits.begin(), static_cast<uint8_t>(v));
  digits.insert(digits.begin(), static_cast<uint8_t>(0x80 | digits.size()));
  return digits;
}

Bytes encode_signature_bit_string(const crypto::RawSignature& signature) {
  Bytes sequence_body;
  append_unsigned_integer(sequence_body, ByteView(signature).first(32));
  append_unsigned_integer(sequence_body, ByteView(signature).last(32));
  // At most 2 * 35 = 70 bytes: every length here fits the short form.
  const auto body_size = static_cast<uint8_t>(sequence_body.size());
  Bytes out;
  out.reserve(5 + sequence_body.size());
  for (uint8_t b : {uint8_t{0x03}, static_cast<uint8_t>(body_size + 3), uint8_t{0x00},
                    uint8_t{0x30}, body_size}) {
    out.push_back(b);
  }
  for (uint8_t b : sequence_body) out.push_back(b);
  return out;
}

Result<crypto::RawSignature> decode_signature_bit_string(ByteView der) {
  ZT_TRY_ASSIGN(Tlv bit_string, read_tlv(der, 0));
  if (bit_string.tag != 0x03) return der_error(0, "signatureValue is not a BIT STRING");
  if (bit_string.end() != der.size())
    return der_error(bit_string.end(), "bytes after signatureValue");
  if (bit_string.length < 1 || der[bit_string.value_offset()] != 0x00) {
    return der_error(bit_string.value_offset(), "signatureValue must have 0 unused bits");
  }
  ZT_TRY_ASSIGN(Tlv sequence, read_tlv(der, bit_string.value_offset() + 1));
  if (sequence.tag != 0x30) return der_error(sequence.offset, "expected ECDSA-Sig-Value SEQUENCE");
  if (sequence.end() != der.size()) return der_error(sequence.end(), "bytes after ECDSA-Sig-Value");
  crypto::RawSignature raw{};
  ZT_TRY_ASSIGN(size_t after_r, read_unsigned_integer(der, sequence.value_offset(), raw.data()));
  ZT_TRY_ASSIGN(size_t after_s, read_unsigned_integer(der, after_r, raw.data() + 32));
  if (after_s != sequence.end()) return der_error(after_s, "bytes after s in ECDSA-Sig-Value");
  return raw;
}

}  // namespace zt::atcacert
