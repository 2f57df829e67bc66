// CA registration (proof of possession), device certificates, DescribeEndpoint
// (reference/aws-iot.md §1.6, §2).
#include <algorithm>

#include "cloud/api/handler_util.hpp"
#include "cloud/local_ca.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_checks.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::CaCertificate;
using registry::Certificate;

std::string generation_id() { return to_hex(crypto::random_bytes(16)); }

struct ParsedCertificate {
  crypto::X509Ptr x509;
  std::string id;
  std::string pem;  // normalised PEM as we re-encode it
  int64_t not_before = 0;
  int64_t not_after = 0;
};

std::optional<ParsedCertificate> parse_certificate(std::string_view pem, std::string_view what,
                                                   Reply& error) {
  if (pem.empty() || pem.size() > crypto::kMaxCertificateBytes) {
    error = error_reply(400, "CertificateValidationException",
                        std::string(what) + " is empty or too large");
    return std::nullopt;
  }
  auto x509 = crypto::certificate_from_pem(pem, what);
  if (!x509) {
    error = error_reply(400, "CertificateValidationException",
                        std::string(what) + " is not a valid PEM X.509 certificate");
    return std::nullopt;
  }
  auto der = crypto::certificate_to_der(x509->get());
  auto pem_out = crypto::certificate_to_pem(x509->get());
  auto not_before = crypto::certificate_not_before(x509->get());
  auto not_after = crypto::certificate_not_after(x509->get());
  if (!der || !pem_out || !not_before || !not_after) {
    error = error_reply(400, "CertificateValidationException",
                        std::string(what) + " could not be decoded");
    return std::nullopt;
  }
  // Certificate id = lowercase hex SHA-256 of the DER (reference §2).
  return ParsedCertificate{std::move(*x509), to_hex(crypto::sha256(*der)), *pem_out, *not_before,
                           *not_after};
}

bool currently_valid(const ParsedCertificate& cert) {
  int64_t now = static_cast<int64_t>(now_seconds());
  return cert.not_before <= now && now <= cert.not_after;
}

json validity(int64_t not_before, int64_t not_after) {
  return {{"notBefore", not_before}, {"notAfter", not_after}};
}

json ca_description(const ServiceContext& ctx, const CaCertificate& ca) {
  return {{"certificateArn", ctx.arn("cacert/" + ca.id)},
          {"certificateId", ca.id},
          {"status", ca.status},
          {"certificatePem", ca.pem},
          {"ownedBy", ctx.account_id},
          {"creationDate", ca.creation_date},
          {"autoRegistrationStatus", ca.auto_registration},
          {"lastModifiedDate", ca.last_modified},
          {"customerVersion", ca.customer_version},
          {"generationId", ca.generation_id},
          {"validity", validity(ca.not_before, ca.not_after)},
          {"certificateMode", ca.certificate_mode}};
}

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

std::optional<std::string> id_param(const ApiRequest& request, const char* name, Reply& error) {
  std::string id = request.path.at(name);
  if (!valid_certificate_id(id)) {
    error = invalid_request(std::string(name) + " must be 64 hexadecimal characters");
    return std::nullopt;
  }
  std::transform(id.begin(), id.end(), id.begin(), ::tolower);
  return id;
}

Reply get_registration_code(ServiceContext& ctx, const ApiRequest&) {
  ZT_API_TRY_ASSIGN(std::string code, ctx.registry.registration_code());
  return json_reply({{"registrationCode", code}});
}

Reply register_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto body = json_body(request, error, true);
  if (!body) return error;
  std::optional<std::string> ca_pem, verification_pem, mode;
  if (!string_member(*body, "caCertificate", ca_pem, error) ||
      !string_member(*body, "verificationCertificate", verification_pem, error) ||
      !string_member(*body, "certificateMode", mode, error)) {
    return error;
  }
  if (!ca_pem) return invalid_request("caCertificate is required");
  auto set_active = query_bool(request, "setAsActive", error);
  auto auto_registration = query_bool(request, "allowAutoRegistration", error);
  if (!set_active || !auto_registration) return error;
  std::string certificate_mode = mode.value_or("DEFAULT");
  if (certificate_mode != "DEFAULT" && certificate_mode != "SNI_ONLY") {
    return invalid_request("certificateMode must be DEFAULT or SNI_ONLY");
  }
  json registration_config = json::object();
  if (body->contains("registrationConfig") && !(*body)["registrationConfig"].is_null()) {
    registration_config = (*body)["registrationConfig"];
    if (!registration_config.is_object())
      return invalid_request("registrationConfig must be an object");
  }

  auto ca = parse_certificate(*ca_pem, "caCertificate", error);
  if (!ca) return error;
  if (!crypto::is_ca_certificate(ca->x509.get())) {
    return error_reply(400, "CertificateValidationException",
                       "The CA certificate does not have the basicConstraints extension as true");
  }
  if (!currently_valid(*ca)) {
    return error_reply(400, "CertificateValidationException",
                       "The CA certificate is expired or not yet valid");
  }
  // Proof of possession (reference §2): DEFAULT mode needs a verification certificate whose
  // CN is this account's registration code and which the CA's private key signed.
  if (certificate_mode == "SNI_ONLY") {
    if (verification_pem && !verification_pem->empty()) {
      return invalid_request(
          "verificationCertificate must be empty when certificateMode is SNI_ONLY");
    }
  } else {
    if (!verification_pem || verification_pem->empty()) {
      return invalid_request("verificationCertificate is required when certificateMode is DEFAULT");
    }
    auto verification = parse_certificate(*verification_pem, "verificationCertificate", error);
    if (!verification) return error;
    ZT_API_TRY_ASSIGN(crypto::PkeyPtr ca_key, crypto::certificate_public_key(ca->x509.get()));
    if (!crypto::verify_certificate_signature(verification->x509.get(), ca_key.get())) {
      return error_reply(400, "CertificateValidationException",
                         "The verification certificate is not signed by the CA certificate's "
                         "private key");
    }
    ZT_API_TRY_ASSIGN(std::string code, ctx.registry.registration_code());
    std::string cn = crypto::name_entry(X509_get_subject_name(verification->x509.get()), "CN");
    if (cn != code) {
      return error_reply(400, "RegistrationCodeValidationException",
                         "The registration code is invalid: the verification certificate's "
                         "common name '" +
                             cn.substr(0, 80) +
                             "' is not this account's "
                             "registration code");
    }
  }
  std::string arn = ctx.arn("cacert/" + ca->id);
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_ca(ca->id));
  // "ID:<id>" in the message: Microchip's aws_register_signer.py, written against AWS, reads the
  // existing CA's id from this message with re.search('ID:([0-9a-zA-Z]+)', …) on a re-run.
  if (existing)
    return already_exists("The CA certificate is already registered. ID:" + ca->id, ca->id, arn);
  std::string subject = crypto::subject_text(ca->x509.get());
  ZT_API_TRY_ASSIGN(int64_t same_subject, ctx.registry.count_cas_with_subject(subject));
  if (same_subject >= 10) {
    return error_reply(410, "LimitExceededException",
                       "At most 10 CA certificates with the same subject can be registered");
  }
  double now = now_seconds();
  CaCertificate record{.id = ca->id,
                       .pem = ca->pem,
                       .subject = subject,
                       .status = *set_active ? registry::kActive : registry::kInactive,
                       .auto_registration = *auto_registration ? "ENABLE" : "DISABLE",
                       .registration_config = registration_config.dump(),
                       .certificate_mode = certificate_mode,
                       .creation_date = now,
                       .last_modified = now,
                       .customer_version = 1,
                       .generation_id = generation_id(),
                       .not_before = ca->not_before,
                       .not_after = ca->not_after};
  ZT_API_TRY(ctx.registry.insert_ca(record));
  return json_reply({{"certificateArn", arn}, {"certificateId", ca->id}});
}

std::optional<CaCertificate> require_ca(ServiceContext& ctx, const ApiRequest& request,
                                        Reply& error) {
  auto id = id_param(request, "caCertificateId", error);
  if (!id) return std::nullopt;
  auto found = ctx.registry.find_ca(*id);
  if (!found) {
    error = registry_failure(found.error());
    return std::nullopt;
  }
  if (!*found) {
    error = not_found("The CA certificate " + *id + " does not exist");
    return std::nullopt;
  }
  return std::move(**found);
}

Reply describe_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto ca = require_ca(ctx, request, error);
  if (!ca) return error;
  json out = {{"certificateDescription", ca_description(ctx, *ca)}};
  json config = json::parse(ca->registration_config, nullptr, false);
  if (config.is_object() && !config.empty()) out["registrationConfig"] = config;
  return json_reply(out);
}

Reply list_ca_certificates(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto page = page_request(request, error, "marker", "pageSize", 250);
  if (!page) return error;
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_cas(*page));
  json items = json::array();
  for (const auto& ca : result.items) {
    items.push_back({{"certificateArn", ctx.arn("cacert/" + ca.id)},
                     {"certificateId", ca.id},
                     {"status", ca.status},
                     {"creationDate", ca.creation_date}});
  }
  json out = {{"certificates", items}};
  if (!result.next_key.empty()) out["nextMarker"] = page_token(result.next_key);
  return json_reply(out);
}

Reply update_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto ca = require_ca(ctx, request, error);
  if (!ca) return error;
  auto body = json_body(request, error, false);
  if (!body) return error;
  if (auto status = request.query_value("newStatus")) {
    if (*status != registry::kActive && *status != registry::kInactive) {
      return invalid_request("newStatus must be ACTIVE or INACTIVE");
    }
    ca->status = *status;
  }
  if (auto auto_status = request.query_value("newAutoRegistrationStatus")) {
    if (*auto_status != "ENABLE" && *auto_status != "DISABLE") {
      return invalid_request("newAutoRegistrationStatus must be ENABLE or DISABLE");
    }
    ca->auto_registration = *auto_status;
  }
  if (body->contains("registrationConfig") && (*body)["registrationConfig"].is_object()) {
    ca->registration_config = (*body)["registrationConfig"].dump();
  }
  if (body->value("removeAutoRegistration", false)) ca->registration_config = "{}";
  ca->last_modified = now_seconds();
  ca->generation_id = generation_id();
  ZT_API_TRY(ctx.registry.update_ca(*ca));
  return no_content();
}

Reply delete_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto ca = require_ca(ctx, request, error);
  if (!ca) return error;
  if (ca->status == registry::kActive) {
    return error_reply(406, "CertificateStateException",
                       "The CA certificate must be deactivated (INACTIVE) before deletion");
  }
  ZT_API_TRY(ctx.registry.delete_ca(ca->id));
  return no_content();
}

std::optional<std::string> initial_status(const ApiRequest& request, const json& body,
                                          Reply& error) {
  std::optional<std::string> status;
  if (!string_member(body, "status", status, error)) return std::nullopt;
  auto set_active = query_bool(request, "setAsActive", error);
  if (!set_active) return std::nullopt;
  if (!status) return std::string(*set_active ? registry::kActive : registry::kInactive);
  static const std::vector<std::string> allowed = {"ACTIVE", "INACTIVE", "REVOKED",
                                                   "REGISTER_INACTIVE", "PENDING_ACTIVATION"};
  if (std::find(allowed.begin(), allowed.end(), *status) == allowed.end()) {
    error =
        invalid_request("status '" + status->substr(0, 40) + "' is not a valid certificate status");
    return std::nullopt;
  }
  return status;
}

Reply store_certificate(ServiceContext& ctx, const ParsedCertificate& cert,
                        std::optional<std::string> ca_id, std::string status, std::string mode) {
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

Reply register_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto body = json_body(request, error, true);
  if (!body) return error;
  std::optional<std::string> pem, ca_pem;
  if (!string_member(*body, "certificatePem", pem, error) ||
      !string_member(*body, "caCertificatePem", ca_pem, error)) {
    return error;
  }
  if (!pem) return invalid_request("certificatePem is required");
  auto status = initial_status(request, *body, error);
  if (!status) return error;
  auto cert = parse_certificate(*pem, "certificatePem", error);
  if (!cert) return error;
  // The issuing CA must be registered (and ACTIVE); with several candidates the signature decides.
  std::vector<CaCertificate> candidates;
  if (ca_pem) {
    auto given = parse_certificate(*ca_pem, "caCertificatePem", error);
    if (!given) return error;
    ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_ca(given->id));
    if (!found) return invalid_request("caCertificatePem is not a registered CA certificate");
    candidates.push_back(std::move(*found));
  } else {
    registry::PageRequest all{.after = "", .limit = 100000};
    ZT_API_TRY_ASSIGN(auto page, ctx.registry.list_cas(all));
    candidates = std::move(page.items);
  }
  std::string issuer = crypto::issuer_text(cert->x509.get());
  std::vector<const CaCertificate*> signers;
  for (const auto& ca : candidates) {
    if (ca.subject != issuer) continue;
    auto ca_x509 = crypto::certificate_from_pem(ca.pem);
    if (!ca_x509) continue;
    auto key = crypto::certificate_public_key(ca_x509->get());
    if (key && crypto::verify_certificate_signature(cert->x509.get(), key->get()))
      signers.push_back(&ca);
  }
  if (signers.empty()) {
    return error_reply(400, "CertificateValidationException",
                       "The certificate is not signed by a registered CA certificate");
  }
  if (signers.size() > 1) {
    return error_reply(409, "CertificateConflictException",
                       "Several registered CA certificates match; pass caCertificatePem");
  }
  if (signers.front()->status != registry::kActive) {
    return error_reply(406, "CertificateStateException",
                       "The CA certificate " + signers.front()->id + " is not ACTIVE");
  }
  return store_certificate(ctx, *cert, signers.front()->id, *status,
                           signers.front()->certificate_mode);
}

Reply register_certificate_without_ca(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto body = json_body(request, error, true);
  if (!body) return error;
  std::optional<std::string> pem;
  if (!string_member(*body, "certificatePem", pem, error)) return error;
  if (!pem) return invalid_request("certificatePem is required");
  auto status = initial_status(request, *body, error);
  if (!status) return error;
  auto cert = parse_certificate(*pem, "certificatePem", error);
  if (!cert) return error;
  return store_certificate(ctx, *cert, std::nullopt, *status, "SNI_ONLY");
}

std::optional<Certificate> require_certificate(ServiceContext& ctx, const ApiRequest& request,
                                               Reply& error) {
  auto id = id_param(request, "certificateId", error);
  if (!id) return std::nullopt;
  auto found = ctx.registry.find_certificate(*id);
  if (!found) {
    error = registry_failure(found.error());
    return std::nullopt;
  }
  if (!*found) {
    error = not_found("The certificate " + *id + " does not exist");
    return std::nullopt;
  }
  return std::move(**found);
}

Reply describe_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto cert = require_certificate(ctx, request, error);
  if (!cert) return error;
  return json_reply({{"certificateDescription", certificate_description(ctx, *cert)}});
}

Reply update_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto cert = require_certificate(ctx, request, error);
  if (!cert) return error;
  auto status = request.query_value("newStatus");
  if (!status) return invalid_request("newStatus is required");
  static const std::vector<std::string> allowed = {"ACTIVE", "INACTIVE", "REVOKED",
                                                   "REGISTER_INACTIVE"};
  if (std::find(allowed.begin(), allowed.end(), *status) == allowed.end()) {
    // AWS: PENDING_TRANSFER / PENDING_ACTIVATION "will result in an exception being thrown".
    return invalid_request("newStatus '" + status->substr(0, 40) + "' cannot be set");
  }
  if (cert->status == registry::kRevoked && *status != registry::kRevoked) {
    return error_reply(406, "CertificateStateException",
                       "A revoked certificate cannot be reactivated");
  }
  ZT_API_TRY(ctx.registry.update_certificate_status(cert->id, *status));
  return no_content();
}

Reply delete_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto cert = require_certificate(ctx, request, error);
  if (!cert) return error;
  auto force = query_bool(request, "forceDelete", error);
  if (!force) return error;
  std::string arn = ctx.arn("cert/" + cert->id);
  if (cert->status == registry::kActive) {
    return error_reply(406, "CertificateStateException",
                       "Certificate must be deactivated (not ACTIVE) before deletion.");
  }
  ZT_API_TRY_ASSIGN(auto things,
                    ctx.registry.list_principal_things(arn, {.after = "", .limit = 1}));
  if (!things.items.empty()) {
    return error_reply(409, "DeleteConflictException",
                       "Things must be detached before deletion (arn: " + arn + ")");
  }
  ZT_API_TRY_ASSIGN(auto policies,
                    ctx.registry.list_attached_policies(arn, {.after = "", .limit = 1000}));
  if (!policies.items.empty()) {
    if (!*force) {
      return error_reply(
          409, "DeleteConflictException",
          "Certificate policies must be detached before deletion (arn: " + arn + ")");
    }
    for (const auto& policy : policies.items)
      ZT_API_TRY(ctx.registry.detach_policy(policy.name, arn));
  }
  ZT_API_TRY(ctx.registry.delete_certificate(cert->id));
  return no_content();
}

Reply list_certificates_page(ServiceContext& ctx, const ApiRequest& request,
                             std::optional<std::string> ca_id) {
  Reply error;
  auto page = page_request(request, error, "marker", "pageSize", 250);
  if (!page) return error;
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_certificates(*page, std::move(ca_id)));
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

Reply list_certificates(ServiceContext& ctx, const ApiRequest& request) {
  return list_certificates_page(ctx, request, std::nullopt);
}

Reply list_certificates_by_ca(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto ca = require_ca(ctx, request, error);
  if (!ca) return error;
  return list_certificates_page(ctx, request, ca->id);
}

// Certificates the cloud itself issues (CreateKeysAndCertificate / CreateCertificateFromCsr):
// subject "CN=AWS IoT Certificate", valid until 2049-12-31T23:59:59Z like AWS's (reference §2).
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
  Reply ignored;
  auto parsed = parse_certificate(pem, "issued certificate", ignored);
  if (!parsed) return make_error(Errc::internal, "could not re-read an issued certificate");
  return std::move(*parsed);
}

Reply create_keys_and_certificate(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto set_active = query_bool(request, "setAsActive", error);
  if (!set_active) return error;
  ZT_API_TRY_ASSIGN(crypto::PkeyPtr key, crypto::generate_p256_key());
  ZT_API_TRY_ASSIGN(ParsedCertificate cert, issue_cloud_certificate(ctx, key.get()));
  Reply stored = store_certificate(
      ctx, cert, std::nullopt, *set_active ? registry::kActive : registry::kInactive, "DEFAULT");
  if (stored.status != 200) return stored;
  ZT_API_TRY_ASSIGN(std::string public_pem, crypto::public_key_to_pem(key.get()));
  ZT_API_TRY_ASSIGN(std::string private_pem, crypto::private_key_to_pem(key.get()));
  json out = {{"certificateArn", ctx.arn("cert/" + cert.id)},
              {"certificateId", cert.id},
              {"certificatePem", cert.pem},
              {"keyPair", {{"PublicKey", public_pem}, {"PrivateKey", private_pem}}}};
  secure_zero(private_pem.data(), private_pem.size());
  return json_reply(out);
}

Reply create_certificate_from_csr(ServiceContext& ctx, const ApiRequest& request) {
  Reply error;
  auto body = json_body(request, error, true);
  if (!body) return error;
  std::optional<std::string> csr_pem;
  if (!string_member(*body, "certificateSigningRequest", csr_pem, error)) return error;
  if (!csr_pem || csr_pem->empty() || csr_pem->size() > 4096) {
    return invalid_request("certificateSigningRequest is required (1..4096 characters)");
  }
  auto set_active = query_bool(request, "setAsActive", error);
  if (!set_active) return error;
  auto csr = crypto::csr_from_pem(*csr_pem);
  if (!csr || !crypto::verify_csr_signature(csr->get())) {
    return invalid_request("certificateSigningRequest is not a valid, self-signed PEM CSR");
  }
  ZT_API_TRY_ASSIGN(crypto::PkeyPtr key, crypto::csr_public_key(csr->get()));
  ZT_API_TRY_ASSIGN(ParsedCertificate cert, issue_cloud_certificate(ctx, key.get()));
  Reply stored = store_certificate(
      ctx, cert, std::nullopt, *set_active ? registry::kActive : registry::kInactive, "DEFAULT");
  if (stored.status != 200) return stored;
  return json_reply({{"certificateArn", ctx.arn("cert/" + cert.id)},
                     {"certificateId", cert.id},
                     {"certificatePem", cert.pem}});
}

Reply describe_endpoint(ServiceContext& ctx, const ApiRequest& request) {
  std::string type = request.query_value("endpointType").value_or("iot:Data");
  std::string suffix = ".iot." + ctx.region + "." + ctx.endpoint_domain;
  std::string address;
  if (type == "iot:Data-ATS") {
    address = ctx.endpoint_prefix + "-ats" + suffix;
  } else if (type == "iot:Data") {
    address = ctx.endpoint_prefix + suffix;
  } else if (type == "iot:CredentialProvider") {
    address = ctx.endpoint_prefix + ".credentials" + suffix;
  } else if (type == "iot:Jobs") {
    address = ctx.endpoint_prefix + ".jobs" + suffix;
  } else {
    return invalid_request("endpointType '" + type.substr(0, 40) +
                           "' is not iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs");
  }
  return json_reply({{"endpointAddress", address}});
}

}  // namespace

void add_certificate_routes(Router& r) {
  r.add("GET", "/registrationcode", "GetRegistrationCode", get_registration_code);
  r.add("POST", "/cacertificate", "RegisterCACertificate", register_ca_certificate);
  r.add("GET", "/cacertificate/{caCertificateId}", "DescribeCACertificate",
        describe_ca_certificate);
  r.add("PUT", "/cacertificate/{caCertificateId}", "UpdateCACertificate", update_ca_certificate);
  r.add("DELETE", "/cacertificate/{caCertificateId}", "DeleteCACertificate", delete_ca_certificate);
  r.add("GET", "/cacertificates", "ListCACertificates", list_ca_certificates);
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
  r.add("GET", "/endpoint", "DescribeEndpoint", describe_endpoint);
}

}  // namespace zt::cloud::api
