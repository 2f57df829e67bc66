// Device certificates: registration (with or without a registered CA), the certificates the cloud
// issues itself (CreateKeysAndCertificate, CreateCertificateFromCsr), describe, list, update and
// delete (reference/aws-iot.md §1.6, §2).
#include <algorithm>

#include "cloud/api/certificate_util.hpp"
#include "cloud/local_ca.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_checks.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::CaCertificate;
using registry::Certificate;

json certificate_description(const ServiceContext& ctx, const Certificate& c) {
  json out = {{"certificateArn", ctx.arn("cert/" + c.id)},
              {"certificateId", c.id},
              {"status", c.status},
              {"certificatePem", c.pem},
              {"ownedBy", ctx.account_id},
              {"creationDate", c.creation_date},
              {"lastModifiedDate", c.last_modified},
              {"customerVersion", c.customer_version},
              {"transferData", json::object()},
              {"generationId", c.generation_id},
              {"validity", validity(c.not_before, c.not_after)},
              {"certificateMode", c.certificate_mode}};
  if (c.ca_id) out["caCertificateId"] = *c.ca_id;
  return out;
}

// The status of a certificate being registered: the body's "status", else ?setAsActive.
ApiResult<std::string> initial_status(const ApiRequest& request, const json& body) {
  ZT_API_TRY_ASSIGN(std::optional<std::string> status, string_member(body, "status"));
  ZT_API_TRY_ASSIGN(bool set_active, query_bool(request, "setAsActive"));
  if (!status) return std::string(set_active ? registry::kActive : registry::kInactive);
  static const std::vector<std::string> allowed = {"ACTIVE", "INACTIVE", "REVOKED",
                                                   "REGISTER_INACTIVE", "PENDING_ACTIVATION"};
  if (std::find(allowed.begin(), allowed.end(), *status) == allowed.end()) {
    return invalid_request("status '" + status->substr(0, 40) +
                           "' is not a valid certificate status");
  }
  return std::move(*status);
}

ApiResult<Reply> store_certificate(ServiceContext& ctx, const ParsedCertificate& cert,
                                   std::optional<std::string> ca_id, std::string status,
                                   std::string mode) {
  std::string arn = ctx.arn("cert/" + cert.id);
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_certificate(cert.id));
  if (existing) {
    return already_exists("The certificate is already provisioned or registered. ID:" + cert.id,
                          cert.id, arn);
  }
  double now = now_seconds();
  Certificate record{.id = cert.id,
                     .pem = cert.pem,
                     .ca_id = std::move(ca_id),
                     .status = std::move(status),
                     .certificate_mode = std::move(mode),
                     .creation_date = now,
                     .last_modified = now,
                     .customer_version = 1,
                     .generation_id = generation_id(),
                     .not_before = cert.not_before,
                     .not_after = cert.not_after};
  ZT_API_TRY(ctx.registry.insert_certificate(record));
  return json_reply({{"certificateArn", arn}, {"certificateId", cert.id}});
}

// The registered CA that signed `cert`: the one caCertificatePem names, else the one among all
// whose subject is the issuer and whose key verifies the signature. It must be ACTIVE.
ApiResult<CaCertificate> signing_ca(ServiceContext& ctx, const ParsedCertificate& cert,
                                    const std::optional<std::string>& ca_pem) {
  std::vector<CaCertificate> candidates;
  if (ca_pem) {
    ZT_API_TRY_ASSIGN(ParsedCertificate given, parse_certificate(*ca_pem, "caCertificatePem"));
    ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_ca(given.id));
    if (!found) return invalid_request("caCertificatePem is not a registered CA certificate");
    candidates.push_back(std::move(*found));
  } else {
    registry::PageRequest all{.after = "", .limit = 100000};
    ZT_API_TRY_ASSIGN(auto page, ctx.registry.list_cas(all));
    candidates = std::move(page.items);
  }
  std::string issuer = crypto::issuer_text(cert.x509.get());
  std::vector<CaCertificate*> signers;
  for (auto& ca : candidates) {
    if (ca.subject != issuer) continue;
    auto ca_x509 = crypto::certificate_from_pem(ca.pem);
    if (!ca_x509) continue;
    auto key = crypto::certificate_public_key(ca_x509->get());
    if (key && crypto::verify_certificate_signature(cert.x509.get(), key->get()))
      signers.push_back(&ca);
  }
  if (signers.empty()) {
    return api_error(400, "CertificateValidationException",
                     "The certificate is not signed by a registered CA certificate");
  }
  if (signers.size() > 1) {
    return api_error(409, "CertificateConflictException",
                     "Several registered CA certificates match; pass caCertificatePem");
  }
  if (signers.front()->status != registry::kActive) {
    return api_error(406, "CertificateStateException",
                     "The CA certificate " + signers.front()->id + " is not ACTIVE");
  }
  return std::move(*signers.front());
}

ApiResult<Reply> register_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto pem, string_member(body, "certificatePem"));
  ZT_API_TRY_ASSIGN(auto ca_pem, string_member(body, "caCertificatePem"));
  if (!pem) return invalid_request("certificatePem is required");
  ZT_API_TRY_ASSIGN(std::string status, initial_status(request, body));
  ZT_API_TRY_ASSIGN(ParsedCertificate cert, parse_certificate(*pem, "certificatePem"));
  ZT_API_TRY_ASSIGN(CaCertificate ca, signing_ca(ctx, cert, ca_pem));
  return store_certificate(ctx, cert, ca.id, std::move(status), ca.certificate_mode);
}

ApiResult<Reply> register_certificate_without_ca(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto pem, string_member(body, "certificatePem"));
  if (!pem) return invalid_request("certificatePem is required");
  ZT_API_TRY_ASSIGN(std::string status, initial_status(request, body));
  ZT_API_TRY_ASSIGN(ParsedCertificate cert, parse_certificate(*pem, "certificatePem"));
  return store_certificate(ctx, cert, std::nullopt, std::move(status), "SNI_ONLY");
}

ApiResult<Certificate> require_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "certificateId"));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_certificate(id));
  if (!found) return not_found("The certificate " + id + " does not exist");
  return std::move(*found);
}

ApiResult<Reply> describe_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Certificate cert, require_certificate(ctx, request));
  return json_reply({{"certificateDescription", certificate_description(ctx, cert)}});
}

ApiResult<Reply> update_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Certificate cert, require_certificate(ctx, request));
  auto status = request.query_value("newStatus");
  if (!status) return invalid_request("newStatus is required");
  static const std::vector<std::string> allowed = {"ACTIVE", "INACTIVE", "REVOKED",
                                                   "REGISTER_INACTIVE"};
  if (std::find(allowed.begin(), allowed.end(), *status) == allowed.end()) {
    // AWS: PENDING_TRANSFER / PENDING_ACTIVATION "will result in an exception being thrown".
    return invalid_request("newStatus '" + status->substr(0, 40) + "' cannot be set");
  }
  if (cert.status == registry::kRevoked && *status != registry::kRevoked) {
    return api_error(406, "CertificateStateException",
                     "A revoked certificate cannot be reactivated");
  }
  ZT_API_TRY(ctx.registry.update_certificate_status(cert.id, *status));
  return no_content();
}

ApiResult<Reply> delete_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(Certificate cert, require_certificate(ctx, request));
  ZT_API_TRY_ASSIGN(bool force, query_bool(request, "forceDelete"));
  std::string arn = ctx.arn("cert/" + cert.id);
  if (cert.status == registry::kActive) {
    return api_error(406, "CertificateStateException",
                     "Certificate must be deactivated (not ACTIVE) before deletion.");
  }
  ZT_API_TRY_ASSIGN(auto things,
                    ctx.registry.list_principal_things(arn, {.after = "", .limit = 1}));
  if (!things.items.empty()) {
    return api_error(409, "DeleteConflictException",
                     "Things must be detached before deletion (arn: " + arn + ")");
  }
  ZT_API_TRY_ASSIGN(auto policies,
                    ctx.registry.list_attached_policies(arn, {.after = "", .limit = 1000}));
  if (!policies.items.empty()) {
    if (!force) {
      return api_error(409, "DeleteConflictException",
                       "Certificate policies must be detached before deletion (arn: " + arn + ")");
    }
    for (const auto& policy : policies.items)
      ZT_API_TRY(ctx.registry.detach_policy(policy.name, arn));
  }
  ZT_API_TRY(ctx.registry.delete_certificate(cert.id));
  return no_content();
}

ApiResult<Reply> list_certificates_page(ServiceContext& ctx, const ApiRequest& request,
                                        std::optional<std::string> ca_id) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "marker", "pageSize", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_certificates(page, std::move(ca_id)));
  json items = json::array();
  for (const auto& c : result.items) {
    items.push_back({{"certificateArn", ctx.arn("cert/" + c.id)},
                     {"certificateId", c.id},
                     {"status", c.status},
                     {"certificateMode", c.certificate_mode},
                     {"creationDate", c.creation_date}});
  }
  json out = {{"certificates", items}};
  if (!result.next_key.empty()) out["nextMarker"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> list_certificates(ServiceContext& ctx, const ApiRequest& request) {
  return list_certificates_page(ctx, request, std::nullopt);
}

ApiResult<Reply> list_certificates_by_ca(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(CaCertificate ca, require_ca(ctx, request));
  return list_certificates_page(ctx, request, ca.id);
}

}  // namespace

Result<ParsedCertificate> issue_cloud_certificate(ServiceContext& ctx, const EVP_PKEY* public_key) {
  if (!ctx.issuer_cert || !ctx.issuer_key) {
    return make_error(Errc::unsupported, "this cloud has no certificate issuer configured");
  }
  CertificateRequest spec{.subject = {{"CN", "AWS IoT Certificate"}},
                          .client_auth = true,
                          .not_before = static_cast<int64_t>(now_seconds()) - 60,
                          .not_after = 2524607999};
  ZT_TRY_ASSIGN(auto x509, issue_certificate(spec, public_key, ctx.issuer_cert, ctx.issuer_key));
  ZT_TRY_ASSIGN(auto pem, crypto::certificate_to_pem(x509.get()));
  auto parsed = parse_certificate(pem, "issued certificate");
  if (!parsed) return make_error(Errc::internal, "could not re-read an issued certificate");
  return std::move(*parsed);
}

namespace {

ApiResult<Reply> create_keys_and_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(bool set_active, query_bool(request, "setAsActive"));
  ZT_API_TRY_ASSIGN(crypto::PkeyPtr key, crypto::generate_p256_key());
  ZT_API_TRY_ASSIGN(ParsedCertificate cert, issue_cloud_certificate(ctx, key.get()));
  ZT_API_TRY(store_certificate(ctx, cert, std::nullopt,
                               set_active ? registry::kActive : registry::kInactive, "DEFAULT"));
  ZT_API_TRY_ASSIGN(std::string public_pem, crypto::public_key_to_pem(key.get()));
  ZT_API_TRY_ASSIGN(std::string private_pem, crypto::private_key_to_pem(key.get()));
  json out = {{"certificateArn", ctx.arn("cert/" + cert.id)},
              {"certificateId", cert.id},
              {"certificatePem", cert.pem},
              {"keyPair", {{"PublicKey", public_pem}, {"PrivateKey", private_pem}}}};
  secure_zero(private_pem.data(), private_pem.size());
  return json_reply(out);
}

ApiResult<Reply> create_certificate_from_csr(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto csr_pem, string_member(body, "certificateSigningRequest"));
  if (!csr_pem || csr_pem->empty() || csr_pem->size() > 4096) {
    return invalid_request("certificateSigningRequest is required (1..4096 characters)");
  }
  ZT_API_TRY_ASSIGN(bool set_active, query_bool(request, "setAsActive"));
  auto csr = crypto::csr_from_pem(*csr_pem);
  if (!csr || !crypto::verify_csr_signature(csr->get())) {
    return invalid_request("certificateSigningRequest is not a valid, self-signed PEM CSR");
  }
  ZT_API_TRY_ASSIGN(crypto::PkeyPtr key, crypto::csr_public_key(csr->get()));
  ZT_API_TRY_ASSIGN(ParsedCertificate cert, issue_cloud_certificate(ctx, key.get()));
  ZT_API_TRY(store_certificate(ctx, cert, std::nullopt,
                               set_active ? registry::kActive : registry::kInactive, "DEFAULT"));
  return json_reply({{"certificateArn", ctx.arn("cert/" + cert.id)},
                     {"certificateId", cert.id},
                     {"certificatePem", cert.pem}});
}

}  // namespace

void add_certificate_routes(Router& r) {
  r.add("POST", "/certificate/register", "RegisterCertificate", register_certificate);
  r.add("POST", "/certificate/register-no-ca", "RegisterCertificateWithoutCA",
        register_certificate_without_ca);
  r.add("GET", "/certificates/{certificateId}", "DescribeCertificate", describe_certificate);
  r.add("PUT", "/certificates/{certificateId}", "UpdateCertificate", update_certificate);
  r.add("DELETE", "/certificates/{certificateId}", "DeleteCertificate", delete_certificate);
  r.add("GET", "/certificates", "ListCertificates", list_certificates);
  r.add("POST", "/certificates", "CreateCertificateFromCsr", create_certificate_from_csr);
  r.add("GET", "/certificates-by-ca/{caCertificateId}", "ListCertificatesByCA",
        list_certificates_by_ca);
  r.add("POST", "/keys-and-certificate", "CreateKeysAndCertificate", create_keys_and_certificate);
}

}  // namespace zt::cloud::api
