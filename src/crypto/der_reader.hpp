// A bounds-checked DER cursor (X.690 §10: definite, minimal lengths) for reading the few structures
// we take apart ourselves, where OpenSSL's generic decoders are too slow or too lenient.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::crypto {

namespace der_tag {
inline constexpr uint8_t kInteger = 0x02, kBitString = 0x03, kOctetString = 0x04, kNull = 0x05,
                         kOid = 0x06, kSequence = 0x30, kSet = 0x31, kContext0 = 0xA0,
                         kContext3 = 0xA3;
}

class DerReader {
 public:
  explicit DerReader(ByteView data) : data_(data) {}

  bool empty() const { return data_.empty(); }
  // The next tag, or 0 at the end.
  uint8_t peek_tag() const { return data_.empty() ? 0 : data_[0]; }

  // Reads one TLV whose tag must be `tag`; returns its contents and, if asked, the whole TLV.
  // Only single-byte tags (all we need); lengths must be definite and minimally encoded.
  Result<ByteView> read(uint8_t tag, ByteView* whole = nullptr);
  // Fails unless everything was consumed.
  Status expect_end(std::string_view what) const;

 private:
  ByteView data_;
};

}  // namespace zt::crypto
