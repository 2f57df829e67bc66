// What the CA-certificate and certificate handlers share: a PEM certificate parsed and checked as
// AWS checks it, its validity JSON, the id path parameter and the CA a request names.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cloud/api/handler_util.hpp"
#include "crypto/ossl.hpp"

namespace zt::cloud::api {

struct ParsedCertificate {
  crypto::X509Ptr x509;
  std::string id;   // lowercase hex SHA-256 of the DER (reference §2)
  std::string pem;  // normalised PEM as we re-encode it
  int64_t not_before = 0;
  int64_t not_after = 0;
};

// A PEM certificate named `what` in the messages; CertificateValidationException when it is not
// one.
ApiResult<ParsedCertificate> parse_certificate(std::string_view pem, std::string_view what);
bool currently_valid(const ParsedCertificate& cert);

nlohmann::json validity(int64_t not_before, int64_t not_after);
// Certificates the cloud itself issues (CreateKeysAndCertificate / CreateCertificateFromCsr, over
// REST and over fleet provisioning's MQTT API): subject "CN=AWS IoT Certificate", valid until
// 2049-12-31T23:59:59Z like AWS's (reference §2), signed by the cloud's issuer. Its failures are
// the cloud's, not the client's (500).
Result<ParsedCertificate> issue_cloud_certificate(ServiceContext& ctx, const EVP_PKEY* public_key);

// A fresh generationId (changes on every update).
std::string generation_id();

// The path parameter `name` as a certificate id (64 hex, lowercased).
ApiResult<std::string> id_param(const ApiRequest& request, const char* name);
// The registered CA certificate the path parameter caCertificateId names.
ApiResult<registry::CaCertificate> require_ca(ServiceContext& ctx, const ApiRequest& request);

}  // namespace zt::cloud::api
