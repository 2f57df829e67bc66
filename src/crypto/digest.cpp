#include "crypto/digest.hpp"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "crypto/ossl.hpp"

namespace zt::crypto {

Sha256Digest sha256(ByteView data) {
  Sha256Digest out{};
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Sha1Digest sha1(ByteView data) {
  Sha1Digest out{};
  SHA1(data.data(), data.size(), out.data());
  return out;
}

Sha256Digest hmac_sha256(ByteView key, ByteView data) {
  Sha256Digest out{};
  unsigned int length = 0;
  static const uint8_t kEmpty = 0;
  if (HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
           data.data(), data.size(), out.data(), &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");  // only on allocation failure
  }
  return out;
}

struct Sha256::State {
  UniquePtr<EVP_MD_CTX> ctx{EVP_MD_CTX_new()};
};

Sha256::Sha256() : state_(new State) {
  if (!state_->ctx || EVP_DigestInit_ex(state_->ctx.get(), EVP_sha256(), nullptr) != 1) {
    delete state_;
    throw std::runtime_error("SHA-256 init failed");
  }
}

Sha256::~Sha256() { delete state_; }

void Sha256::update(ByteView data) {
  EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size());
}

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->ctx.get(), out.data(), &length);
  return out;
}

Bytes random_bytes(size_t count) {
  Bytes out(count);
  if (count > 0 && RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
    throw std::runtime_error("RAND_bytes failed");  // the DRBG cannot fail once seeded
  }
  return out;
}

std::string random_text(std::string_view alphabet, size_t length) {
  std::string out;
  // Rejection sampling keeps it unbiased: bytes at or above the largest multiple of the alphabet's
  // size are dropped.
  size_t limit = 256 - 256 % alphabet.size();
  while (out.size() < length) {
    for (uint8_t byte : random_bytes(length)) {
      if (byte < limit && out.size() < length) out.push_back(alphabet[byte % alphabet.size()]);
    }
  }
  return out;
}

}  // namespace zt::crypto
