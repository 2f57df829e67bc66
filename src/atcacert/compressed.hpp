// The 72-byte compressed certificate (cryptoauthlib atcacert_get_comp_cert /
// atcacert_set_comp_cert, layout confirmed in atcacert_def.c):
//   0..63  signature R ‖ S (32 + 32 bytes, big-endian)
//   64..66 compressed issue date + expire years (date.hpp)
//   67..68 signer id
//   69     template id (high nibble) | chain id (low nibble)
//   70     serial-number source (high nibble) | format version (low nibble: 0, or 1 for dates past
//          2031 / expire years past 31; cryptoauthlib reads 0..2)
//   71     version 0: reserved (0); versions 1 and 2: extended date bits 7-4 (date.hpp), 3-0
//          reserved
#pragma once

#include <array>
#include <string>

#include "atcacert/date.hpp"
#include "atcacert/definition.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ecdsa.hpp"

namespace zt::atcacert {

inline constexpr size_t kCompressedCertSize = 72;
using CompressedBytes = std::array<uint8_t, kCompressedCertSize>;

struct CompressedCert {
  crypto::RawSignature signature{};
  EncodedDates encoded_dates{};
  std::array<uint8_t, 2> signer_id{};
  uint8_t template_id = 0;  // 4 bits
  uint8_t chain_id = 0;     // 4 bits
  uint8_t sn_source = 0;    // 4 bits, raw (a SnSource value when well-formed)
  uint8_t format_version = 0;
  uint8_t reserved = 0;  // byte 71 as stored (its high nibble: extended dates in versions 1, 2)

  CompressedDates dates() const {
    return decode_compressed_dates(encoded_dates, reserved, format_version);
  }
};

CompressedBytes serialize(const CompressedCert& cert);
// Any 72 bytes parse; only the size is checked here. check_format() refuses what cryptoauthlib
// refuses (atcacert_set_comp_cert: format version above 2).
Result<CompressedCert> parse_compressed(ByteView bytes);
Status check_format(const CompressedCert& cert);

// Human-readable fields, one "name: value" per line (ztp cert show).
std::string describe(const CompressedCert& cert);

}  // namespace zt::atcacert
