#include "crypto/aead.hpp"

#include <openssl/evp.h>

#include "crypto/digest.hpp"
#include "crypto/ossl.hpp"

namespace zt::crypto {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

Status check_key(ByteView key) {
  if (key.size() != kAeadKeySize) {
    return make_error(Errc::invalid_argument,
                      "AES-256-GCM key must be 32 bytes, got " + std::to_string(key.size()));
  }
  return ok();
}

}  // namespace

Result<Sealed> aes_256_gcm_seal(ByteView key, ByteView plaintext, ByteView associated_data) {
  ZT_TRY(check_key(key));
  Sealed sealed{random_bytes(kAeadNonceSize), Bytes(plaintext.size() + kAeadTagSize)};
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int length = 0, final_length = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.nonce.data()) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &length, associated_data.data(),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), sealed.ciphertext.data(), &length, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), sealed.ciphertext.data() + length, &final_length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagSize,
                          sealed.ciphertext.data() + plaintext.size()) != 1) {
    return openssl_error("AES-256-GCM encryption");
  }
  return sealed;
}

Result<Bytes> aes_256_gcm_open(ByteView key, const Sealed& sealed, ByteView associated_data) {
  ZT_TRY(check_key(key));
  if (sealed.nonce.size() != kAeadNonceSize || sealed.ciphertext.size() < kAeadTagSize) {
    return make_error(Errc::parse, "AES-256-GCM: nonce or ciphertext has the wrong size");
  }
  size_t size = sealed.ciphertext.size() - kAeadTagSize;
  Bytes plaintext(size);
  Bytes tag(sealed.ciphertext.begin() + static_cast<std::ptrdiff_t>(size), sealed.ciphertext.end());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int length = 0, final_length = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.nonce.data()) !=
          1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &length, associated_data.data(),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plaintext.data(), &length, sealed.ciphertext.data(),
                        static_cast<int>(size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagSize, tag.data()) != 1) {
    return openssl_error("AES-256-GCM decryption");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + length, &final_length) != 1) {
    clear_openssl_errors();
    secure_zero(plaintext.data(), plaintext.size());
    return make_error(Errc::crypto,
                      "AES-256-GCM: authentication failed (wrong key or altered data)");
  }
  return plaintext;
}

}  // namespace zt::crypto
