#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::crypto {

using Sha256Digest = std::array<uint8_t, 32>;
using Sha1Digest = std::array<uint8_t, 20>;

Sha256Digest sha256(ByteView data);
Sha1Digest sha1(ByteView data);
Sha256Digest hmac_sha256(ByteView key, ByteView data);

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(ByteView data);
  Sha256Digest finish();

 private:
  struct State;
  State* state_;
};

// Cryptographically secure random bytes (OpenSSL's DRBG).
Bytes random_bytes(size_t count);
// Uniformly random text of `length` characters over `alphabet` (1..256 characters): account ids,
// access keys and their secrets, IAM's unique ids.
std::string random_text(std::string_view alphabet, size_t length);

}  // namespace zt::crypto
