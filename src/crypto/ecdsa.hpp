// ECDSA P-256 over precomputed digests (as the ATECC508A signs), signature encodings, ECDH.
#pragma once

#include <array>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::crypto {

using RawSignature = std::array<uint8_t, 64>;  // R || S, 32 bytes each, big-endian

// Signs a 32-byte digest; returns the DER Ecdsa-Sig-Value. Works with PKCS#11-backed keys too.
Result<Bytes> ecdsa_sign_digest(EVP_PKEY* key, ByteView digest);
Result<RawSignature> ecdsa_sign_digest_raw(EVP_PKEY* key, ByteView digest);

// True only for a valid signature; a malformed signature is simply not valid.
bool ecdsa_verify_digest(EVP_PKEY* public_key, ByteView digest, ByteView der_signature);
bool ecdsa_verify_digest_raw(EVP_PKEY* public_key, ByteView digest, ByteView raw_signature);

Result<Bytes> signature_raw_to_der(ByteView raw);         // 64 bytes -> DER
Result<RawSignature> signature_der_to_raw(ByteView der);  // DER -> 64 bytes (strict DER)

// ECDH on P-256: the 32-byte X coordinate of the shared point.
Result<Bytes> ecdh_shared_secret(EVP_PKEY* private_key, EVP_PKEY* peer_public_key);

}  // namespace zt::crypto
