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
// A fresh generationId (changes on every update).
std::string generation_id();

// The path parameter `name` as a certificate id (64 hex, lowercased).
ApiResult<std::string> id_param(const ApiRequest& request, const char* name);
// The registered CA certificate the path parameter caCertificateId names.
ApiResult<registry::CaCertificate> require_ca(ServiceContext& ctx, const ApiRequest& request);

}  // namespace zt::cloud::api
