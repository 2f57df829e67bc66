// Certificates the local cloud mints that have no zt::pki profile: the "AWS IoT" issuer CA and the
// certificates CreateKeysAndCertificate / CreateCertificateFromCsr return. (The server CA, the
// endpoint certificate and verification certificates come from zt::pki.)
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

}  // namespace zt::cloud
