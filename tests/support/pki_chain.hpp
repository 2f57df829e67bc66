// Certificate fixtures shared by the pki and cloud tests: an in-process root → signer chain, device
// CSRs, chain verification.
#pragma once

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <string>

#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "pki/profiles.hpp"

namespace zt::pki::testing {

// 2026-11-25 14:37:21 UTC: a fixed "now" so dates in the DER are predictable.
inline constexpr int64_t kNow = 1795617441;

struct Chain {
  crypto::PkeyPtr root_key, signer_key;
  crypto::X509Ptr root, signer;
};

inline Chain make_chain(int64_t now = kNow) {
  Chain chain;
  chain.root_key = std::move(*crypto::generate_p256_key());
  chain.signer_key = std::move(*crypto::generate_p256_key());
  auto root = create_root_certificate(chain.root_key.get(), now);
  EXPECT_TRUE(root) << (root ? "" : root.error().message);
  chain.root = std::move(*root);
  auto csr = create_signer_csr(chain.signer_key.get());
  EXPECT_TRUE(csr) << (csr ? "" : csr.error().message);
  auto signer = issue_signer_certificate(csr->get(), chain.root.get(), chain.root_key.get(), now);
  EXPECT_TRUE(signer) << (signer ? "" : signer.error().message);
  chain.signer = std::move(*signer);
  return chain;
}

// A device CSR as the kit's CSR template makes it: O=Example Inc, CN=Example Device, no extensions.
inline crypto::X509ReqPtr make_device_csr(EVP_PKEY* device_key,
                                          std::vector<crypto::X509ExtensionPtr> extensions = {}) {
  auto name = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  crypto::CsrFields fields{.subject = name->get(), .extensions = std::move(extensions)};
  auto csr = crypto::build_csr(fields, device_key);
  EXPECT_TRUE(csr) << (csr ? "" : csr.error().message);
  return std::move(*csr);
}

// OpenSSL's own path validation of leaf → intermediates → root at time `at`; returns its verdict
// text.
inline std::string verify_chain(const X509* leaf, const X509* intermediate, const X509* root,
                                int64_t at) {
  crypto::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), const_cast<X509*>(root));
  crypto::UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (intermediate != nullptr) {
    X509_up_ref(const_cast<X509*>(intermediate));
    sk_X509_push(untrusted.get(), const_cast<X509*>(intermediate));
  }
  crypto::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(leaf), untrusted.get());
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), static_cast<time_t>(at));
  if (X509_verify_cert(ctx.get()) == 1) return "ok";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

inline Bytes der_of(const X509* cert) { return std::move(*crypto::certificate_to_der(cert)); }

inline crypto::PkeyPtr generate_key(const char* type, const char* curve_or_bits) {
  crypto::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  EVP_PKEY_keygen_init(ctx.get());
  if (std::string(type) == "RSA") {
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), std::stoi(curve_or_bits));
  } else {
    EVP_PKEY_CTX_set_group_name(ctx.get(), curve_or_bits);
  }
  EVP_PKEY_generate(ctx.get(), &raw);
  return crypto::PkeyPtr(raw);
}

}  // namespace zt::pki::testing
