// Certificates the local cloud mints itself: its server CA and endpoint certificate, the
// "AWS IoT" issuer of CreateKeysAndCertificate / CreateCertificateFromCsr, and (for `ztp ca
// register`) the proof-of-possession verification certificate.
// Interim: once zt::pki (create_server_ca, issue_server_certificate,
// create_verification_certificate) is on main these delegate to it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::cloud {

struct CertificateRequest {
  std::vector<std::pair<std::string, std::string>> subject{};  // {"CN", "..."}, {"O", "..."}
  bool is_ca = false;
  std::vector<std::string> dns_names{};  // SAN dNSName (IP literals become iPAddress)
  bool server_auth = false;
  bool client_auth = false;
  int64_t not_before = 0;
  int64_t not_after = 0;
};

// Signs a certificate for `subject_key` with `issuer_key`; issuer_cert == nullptr = self-signed.
Result<crypto::X509Ptr> issue_certificate(const CertificateRequest& request,
                                          const EVP_PKEY* subject_key, const X509* issuer_cert,
                                          EVP_PKEY* issuer_key);

// Verification certificate for RegisterCACertificate: CN = registration code, the CA's own
// public key, issuer = CA subject, signed by the CA key, valid one day (reference §2).
Result<crypto::X509Ptr> create_verification_certificate(std::string_view registration_code,
                                                        const X509* ca_cert, EVP_PKEY* ca_key,
                                                        int64_t now);

}  // namespace zt::cloud
