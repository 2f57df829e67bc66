// The little DER this layer needs: bounds-checked TLV headers, definite lengths, and the X.509
// signatureValue of an ECDSA P-256 signature (cryptoauthlib atcacert_der.h does the same job).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ecdsa.hpp"

namespace zt::atcacert {

struct Tlv {
  uint8_t tag = 0;
  size_t offset = 0;       // of the tag byte
  size_t header_size = 0;  // tag + length octets
  size_t length = 0;       // of the value
  size_t value_offset() const { return offset + header_size; }
  size_t end() const { return offset + header_size + length; }
};

// Reads the TLV at `offset`; the value must lie inside `data`. Single-byte tags, definite
// lengths of at most 3 length octets (no certificate here comes near 16 MiB), minimal encoding.
Result<Tlv> read_tlv(ByteView data, size_t offset);

// DER length octets (X.690 §8.1.3): short form below 0x80, else 0x8N + big-endian bytes.
Bytes encode_length(size_t length);

// X.509 signatureValue for ECDSA: BIT STRING (no unused bits) holding
// SEQUENCE { INTEGER r, INTEGER s }, integers minimal and positive. 70..75 bytes for P-256;
// cryptoauthlib's atcacert_der_enc_ecdsa_sig_value produces the same bytes.
inline constexpr size_t kMaxSignatureBitStringSize = 75;
Bytes encode_signature_bit_string(const crypto::RawSignature& signature);
// Strict inverse: the whole of `der` must be one such BIT STRING, encoded minimally.
Result<crypto::RawSignature> decode_signature_bit_string(ByteView der);

}  // namespace zt::atcacert
