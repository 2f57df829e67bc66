// Where CA signing keys live: a PEM file (PKCS#8, mode 0600) or a PKCS#11 token addressed by an RFC
// 7512 URI ("pkcs11:token=factory;object=signer-ca;pin-value=1234"), so a factory can keep its
// signer key in an HSM. Token keys never leave the token: the returned EVP_PKEY forwards signing to
// it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::pki {

inline bool is_pkcs11_uri(std::string_view text) { return text.starts_with("pkcs11:"); }

// A P-256 signing key from a PEM file path or a pkcs11: URI. For URIs, the PKCS#11 module is taken
// from the URI's `module-path` query attribute, else $ZT_PKCS11_MODULE, else libp11's default
// (p11-kit-proxy); the PIN from `pin-value`, else $ZT_PKCS11_PIN. RSA / other curves are refused.
Result<crypto::PkeyPtr> load_signing_key(std::string_view file_or_pkcs11_uri);

// The URI without its pin-value (and module-path), for messages and summaries.
std::string redact_pkcs11_uri(std::string_view uri);

// The PKCS#11 half of load_signing_key (pkcs11_key.cpp, over the libp11 engine).
Result<crypto::PkeyPtr> load_pkcs11_private_key(std::string_view uri);

}  // namespace zt::pki
