#include "crypto/ecdsa.hpp"
#include "crypto/der_encode.hpp"

namespace zt::crypto {

Result<Bytes> ecdsa_sign_digest(EVP_PKEY* key, ByteView digest) {
  if (digest.size() != 32)
    return make_error(Errc::invalid_argument, "ECDSA P-256 signs a 32-byte digest");
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(key, nullptr));
  size_t length = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &length, digest.data(), digest.size()) != 1) {
    return openssl_error("ECDSA sign");
  }
  Bytes signature(length);
  if (EVP_PKEY_sign(ctx.get(), signature.data(), &length, digest.data(), digest.size()) != 1) {
    return openssl_error("ECDSA sign");
  }
  signature.resize(length);
  return signature;
}

Result<RawSignature> ecdsa_sign_digest_raw(EVP_PKEY* key, ByteView digest) {
  ZT_TRY_ASSIGN(Bytes der, ecdsa_sign_digest(key, digest));
  return signature_der_to_raw(der);
}

bool ecdsa_verify_digest(EVP_PKEY* public_key, ByteView digest, ByteView der_signature) {
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(public_key, nullptr));
  bool valid = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
               EVP_PKEY_verify(ctx.get(), der_signature.data(), der_signature.size(), digest.data(),
                               digest.size()) == 1;
  clear_openssl_errors();
  return valid;
}

bool ecdsa_verify_digest_raw(EVP_PKEY* public_key, ByteView digest, ByteView raw_signature) {
  auto der = signature_raw_to_der(raw_signature);
  return der && ecdsa_verify_digest(public_key, digest, *der);
}

Result<Bytes> signature_raw_to_der(ByteView raw) {
  if (raw.size() != 64)
    return make_error(Errc::invalid_argument, "raw P-256 signature must be 64 bytes (R||S)");
  UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return openssl_error("building ECDSA signature");
  }
  return encode_der<ECDSA_SIG>(i2d_ECDSA_SIG, sig.get(), "encoding ECDSA signature");
}

Result<RawSignature> signature_der_to_raw(ByteView der) {
  const unsigned char* p = der.data();
  UniquePtr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size()) {
    clear_openssl_errors();
    return make_error(Errc::parse, "not a DER ECDSA signature");
  }
  // Strict DER: re-encoding must give the same bytes.
  unsigned char* again = nullptr;
  int n = i2d_ECDSA_SIG(sig.get(), &again);
  bool canonical = n == static_cast<int>(der.size()) && std::equal(der.begin(), der.end(), again);
  OPENSSL_free(again);
  if (!canonical) return make_error(Errc::parse, "ECDSA signature is not in canonical DER");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  RawSignature out{};
  if (BN_num_bytes(r) > 32 || BN_num_bytes(s) > 32 || BN_bn2binpad(r, out.data(), 32) != 32 ||
      BN_bn2binpad(s, out.data() + 32, 32) != 32) {
    return make_error(Errc::parse, "ECDSA signature component is longer than 32 bytes");
  }
  return out;
}

Result<Bytes> ecdh_shared_secret(EVP_PKEY* private_key, EVP_PKEY* peer_public_key) {
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(private_key, nullptr));
  size_t length = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer_public_key) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &length) != 1) {
    return openssl_error("ECDH");
  }
  Bytes secret(length);
  if (EVP_PKEY_derive(ctx.get(), secret.data(), &length) != 1) return openssl_error("ECDH");
  secret.resize(length);
  return secret;
}

}  // namespace zt::crypto
