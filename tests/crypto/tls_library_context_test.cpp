#include "crypto/tls_library_context.hpp"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <string>

#include "crypto/ossl.hpp"

namespace zt::crypto {
namespace {

// A fresh key of `type` ("EC" on `group`, "RSA", "DSA", "ED25519") made in OpenSSL's default
// context.
PkeyPtr make_key(const std::string& type, const std::string& group = "P-256") {
  if (type == "DSA") {  // DSA keys need their domain parameters first
    UniquePtr<EVP_PKEY_CTX> params_ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
    EVP_PKEY* params = nullptr;
    if (!params_ctx || EVP_PKEY_paramgen_init(params_ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_dsa_paramgen_bits(params_ctx.get(), 1024) != 1 ||
        EVP_PKEY_paramgen(params_ctx.get(), &params) != 1)
      return nullptr;
    PkeyPtr owned(params);
    UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, params, nullptr));
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &key) != 1)
      return nullptr;
    return PkeyPtr(key);
  }
  if (type == "EC") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group.c_str()));
  if (type == "RSA") return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type.c_str()));
}

// The DER of a self-signed certificate for `key` (SHA-256, or no digest for Ed25519).
std::string self_signed_der(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key);
  bool edwards = EVP_PKEY_is_a(key, "ED25519");
  if (X509_sign(cert.get(), key, edwards ? nullptr : EVP_sha256()) <= 0) return {};
  unsigned char* der = nullptr;
  int size = i2d_X509(cert.get(), &der);
  if (size <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

// `der` parsed in `context`.
X509Ptr parse_in(OSSL_LIB_CTX* context, const std::string& der) {
  X509* cert = X509_new_ex(context, nullptr);
  const auto* bytes = reinterpret_cast<const unsigned char*>(der.data());
  if (d2i_X509(&cert, &bytes, static_cast<long>(der.size())) == nullptr) return nullptr;
  return X509Ptr(cert);
}

TEST(TlsLibraryContext, IsAContextOfItsOwnWhenTheProcessDoesNotRunFips) {
  ASSERT_NE(tls_library_context(), nullptr);
  EXPECT_EQ(tls_library_context(), tls_library_context());  // one for the process
}

// The key types AWS IoT accepts in certificates (RSA, DSA, ECDSA: reference/aws-iot.md §2) decode,
// and their keys verify the certificates' signatures; a forged signature still fails.
TEST(TlsLibraryContext, DecodesAndVerifiesCertificatesOfTheKeyTypesAwsIotAccepts) {
  OSSL_LIB_CTX* context = tls_library_context();
  ASSERT_NE(context, nullptr);
  for (auto [type, group] :
       {std::pair{"EC", "P-256"}, {"EC", "P-384"}, {"EC", "P-521"}, {"RSA", ""}, {"DSA", ""}}) {
    SCOPED_TRACE(std::string(type) + " " + group);
    PkeyPtr key = make_key(type, group);
    ASSERT_TRUE(key);
    std::string der = self_signed_der(key.get());
    ASSERT_FALSE(der.empty());
    X509Ptr cert = parse_in(context, der);
    ASSERT_TRUE(cert);
    EVP_PKEY* decoded = X509_get0_pubkey(cert.get());
    ASSERT_NE(decoded, nullptr);
    EXPECT_TRUE(EVP_PKEY_is_a(decoded, type));
    EXPECT_EQ(EVP_PKEY_eq(decoded, key.get()), 1);  // across the two contexts' key managers
    EXPECT_EQ(X509_verify(cert.get(), decoded), 1);

    std::string forged = der;
    forged[forged.size() - 2] ^= 0x01;  // inside the signature, the last field
    X509Ptr forged_cert = parse_in(context, forged);
    ASSERT_TRUE(forged_cert);
    EXPECT_NE(X509_verify(forged_cert.get(), X509_get0_pubkey(forged_cert.get())), 1);
  }
}

// The filter is real: an Ed25519 certificate (a key type AWS IoT's list does not name) has its key
// decoded in OpenSSL's default context and not in this one, so it fails verification here.
TEST(TlsLibraryContext, LeavesOutTheDecodersAHandshakeDoesNotNeed) {
  OSSL_LIB_CTX* context = tls_library_context();
  ASSERT_NE(context, nullptr);
  PkeyPtr key = make_key("ED25519");
  ASSERT_TRUE(key);
  std::string der = self_signed_der(key.get());
  ASSERT_FALSE(der.empty());
  X509Ptr in_default = parse_in(nullptr, der);
  ASSERT_TRUE(in_default);
  EXPECT_NE(X509_get0_pubkey(in_default.get()), nullptr);
  X509Ptr here = parse_in(context, der);
  ASSERT_TRUE(here);
  EXPECT_EQ(X509_get0_pubkey(here.get()), nullptr);

  // Private keys are not decoded here (the broker loads its key in the default context).
  UniquePtr<OSSL_DECODER> private_key_decoder(
      OSSL_DECODER_fetch(context, "EC", "input=der,structure=PrivateKeyInfo"));
  EXPECT_EQ(private_key_decoder, nullptr);
  UniquePtr<OSSL_DECODER> in_default_context(
      OSSL_DECODER_fetch(nullptr, "EC", "input=der,structure=PrivateKeyInfo"));
  EXPECT_NE(in_default_context, nullptr);
}

// What a TLS server handshake fetches is all there, from the default provider's implementations.
TEST(TlsLibraryContext, KeepsWhatATlsHandshakeNeeds) {
  OSSL_LIB_CTX* context = tls_library_context();
  ASSERT_NE(context, nullptr);
  for (const char* name : {"EC", "RSA", "RSA-PSS", "DSA", "X25519", "X448", "DH", "HMAC"}) {
    UniquePtr<EVP_KEYMGMT> keymgmt(EVP_KEYMGMT_fetch(context, name, nullptr));
    EXPECT_NE(keymgmt, nullptr) << name;
  }
  for (const char* name : {"SHA256", "SHA384", "SHA1"}) {
    UniquePtr<EVP_MD> md(EVP_MD_fetch(context, name, nullptr));
    EXPECT_NE(md, nullptr) << name;
  }
  for (const char* name : {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-128-CBC"}) {
    UniquePtr<EVP_CIPHER> cipher(EVP_CIPHER_fetch(context, name, nullptr));
    EXPECT_NE(cipher, nullptr) << name;
  }
  for (const char* name : {"TLS13-KDF", "TLS1-PRF", "HKDF"}) {
    UniquePtr<EVP_KDF> kdf(EVP_KDF_fetch(context, name, nullptr));
    EXPECT_NE(kdf, nullptr) << name;
  }
  unsigned char random[32] = {};
  EXPECT_EQ(RAND_bytes_ex(context, random, sizeof random, 0), 1);
  // A key exchange in the context: X25519 both ways gives one secret.
  PkeyPtr a(EVP_PKEY_Q_keygen(context, nullptr, "X25519"));
  PkeyPtr b(EVP_PKEY_Q_keygen(context, nullptr, "X25519"));
  ASSERT_TRUE(a && b);
  auto derive = [&](EVP_PKEY* own, EVP_PKEY* peer) {
    UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(context, own, nullptr));
    size_t size = 32;
    std::string secret(size, '\0');
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
        EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &size) != 1)
      return std::string();
    return secret;
  };
  std::string secret = derive(a.get(), b.get());
  EXPECT_EQ(secret.size(), 32u);
  EXPECT_EQ(secret, derive(b.get(), a.get()));
}

}  // namespace
}  // namespace zt::crypto
