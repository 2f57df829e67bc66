#include "cloud/api/certificate_util.hpp"

#include <algorithm>

#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_checks.hpp"

namespace zt::cloud::api {

ApiResult<ParsedCertificate> parse_certificate(std::string_view pem, std::string_view what) {
  if (pem.empty() || pem.size() > crypto::kMaxCertificateBytes) {
    return api_error(400, "CertificateValidationException",
                     std::string(what) + " is empty or too large");
  }
  auto x509 = crypto::certificate_from_pem(pem, what);
  if (!x509) {
    return api_error(400, "CertificateValidationException",
                     std::string(what) + " is not a valid PEM X.509 certificate");
  }
  auto der = crypto::certificate_to_der(x509->get());
  auto pem_out = crypto::certificate_to_pem(x509->get());
  auto not_before = crypto::certificate_not_before(x509->get());
  auto not_after = crypto::certificate_not_after(x509->get());
  if (!der || !pem_out || !not_before || !not_after) {
    return api_error(400, "CertificateValidationException",
                     std::string(what) + " could not be decoded");
  }
  // Certificate id = lowercase hex SHA-256 of the DER (reference §2).
  return ParsedCertificate{std::move(*x509), to_hex(crypto::sha256(*der)), *pem_out, *not_before,
                           *not_after};
}

bool currently_valid(const ParsedCertificate& cert) {
  int64_t now = static_cast<int64_t>(now_seconds());
  return cert.not_before <= now && now <= cert.not_after;
}

nlohmann::json validity(int64_t not_before, int64_t not_after) {
  return {{"notBefore", not_before}, {"notAfter", not_after}};
}

std::string generation_id() { return to_hex(crypto::random_bytes(16)); }

ApiResult<std::string> id_param(const ApiRequest& request, const char* name) {
  std::string id = request.path.at(name);
  if (!valid_certificate_id(id))
    return invalid_request(std::string(name) + " must be 64 hexadecimal characters");
  std::transform(id.begin(), id.end(), id.begin(), ::tolower);
  return id;
}

ApiResult<registry::CaCertificate> require_ca(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "caCertificateId"));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_ca(id));
  if (!found) return not_found("The CA certificate " + id + " does not exist");
  return std::move(*found);
}

}  // namespace zt::cloud::api
