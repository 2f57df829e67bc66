// AES-256-GCM (NIST SP 800-38D) for small secrets at rest, e.g. the Wi-Fi password that
// `ztp kit set-wifi` keeps in kit-info.json. 96-bit random nonce, 128-bit tag appended to the
// ciphertext.
#pragma once

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;

struct Sealed {
  Bytes nonce;       // 12 bytes
  Bytes ciphertext;  // plaintext size + 16-byte tag
};

Result<Sealed> aes_256_gcm_seal(ByteView key, ByteView plaintext, ByteView associated_data);
// Fails (Errc::crypto) when the tag does not verify: wrong key, altered data or associated data.
Result<Bytes> aes_256_gcm_open(ByteView key, const Sealed& sealed, ByteView associated_data);

}  // namespace zt::crypto
