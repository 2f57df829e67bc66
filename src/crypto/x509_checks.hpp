// Checks the local cloud makes on certificates it is asked to register (reference/aws-iot.md §2):
// basicConstraints CA:TRUE for CA certificates, and "was this signed by that key".
#pragma once

#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::crypto {

// True when the certificate carries basicConstraints with cA = TRUE.
bool is_ca_certificate(const X509* cert);

// Verifies the certificate's signature with `issuer_key`; Errc::crypto if it does not verify.
Status verify_certificate_signature(const X509* cert, const EVP_PKEY* issuer_key);

// The subject/issuer names as one-line RFC 2253 text (stable for comparisons).
std::string subject_text(const X509* cert);
std::string issuer_text(const X509* cert);

}  // namespace zt::crypto
