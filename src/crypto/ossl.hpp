// RAII over OpenSSL handles (BoringSSL's bssl::UniquePtr shape) and error draining.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>

#include "common/result.hpp"

namespace zt::crypto {

template <class T>
struct Deleter;

#define ZT_OSSL_DELETER(type, free_fn)                      \
  template <>                                               \
  struct Deleter<type> {                                    \
    void operator()(type* p) const noexcept { free_fn(p); } \
  }

ZT_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free);
ZT_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
ZT_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
ZT_OSSL_DELETER(EVP_MD, EVP_MD_free);
ZT_OSSL_DELETER(EVP_CIPHER, EVP_CIPHER_free);
ZT_OSSL_DELETER(EVP_KDF, EVP_KDF_free);
ZT_OSSL_DELETER(EVP_KEYMGMT, EVP_KEYMGMT_free);
ZT_OSSL_DELETER(OSSL_DECODER, OSSL_DECODER_free);
ZT_OSSL_DELETER(EVP_MAC, EVP_MAC_free);
ZT_OSSL_DELETER(EVP_MAC_CTX, EVP_MAC_CTX_free);
ZT_OSSL_DELETER(X509, X509_free);
ZT_OSSL_DELETER(X509_REQ, X509_REQ_free);
ZT_OSSL_DELETER(X509_NAME, X509_NAME_free);
ZT_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
ZT_OSSL_DELETER(X509_STORE, X509_STORE_free);
ZT_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
ZT_OSSL_DELETER(BIO, BIO_free_all);
ZT_OSSL_DELETER(BIGNUM, BN_clear_free);
ZT_OSSL_DELETER(BN_CTX, BN_CTX_free);
ZT_OSSL_DELETER(ECDSA_SIG, ECDSA_SIG_free);
ZT_OSSL_DELETER(EC_POINT, EC_POINT_free);
ZT_OSSL_DELETER(EC_GROUP, EC_GROUP_free);
ZT_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free);  // also ASN1_INTEGER, ASN1_TIME, ASN1_OCTET_STRING
ZT_OSSL_DELETER(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free);
ZT_OSSL_DELETER(OSSL_PARAM, OSSL_PARAM_free);
ZT_OSSL_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free);
ZT_OSSL_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
template <>
struct Deleter<STACK_OF(X509_EXTENSION)> {
  void operator()(STACK_OF(X509_EXTENSION) * s) const noexcept {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
template <>
struct Deleter<STACK_OF(X509)> {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};

#undef ZT_OSSL_DELETER

template <class T>
using UniquePtr = std::unique_ptr<T, Deleter<T>>;

using PkeyPtr = UniquePtr<EVP_PKEY>;
using X509Ptr = UniquePtr<X509>;
using X509ReqPtr = UniquePtr<X509_REQ>;

// An Error whose message is `what` followed by every queued OpenSSL error (the queue is emptied).
Error openssl_error(std::string_view what, Errc code = Errc::crypto);

// Discards queued OpenSSL errors (after an expected failure that we report ourselves).
void clear_openssl_errors();

}  // namespace zt::crypto
