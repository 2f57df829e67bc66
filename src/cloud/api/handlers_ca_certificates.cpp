// The registration code and CA certificates: registration with proof of possession, describe,
// list, update, delete (reference/aws-iot.md §1.6, §2).
#include <map>
#include <regex>

#include "cloud/api/certificate_util.hpp"
#include "cloud/iam/policy_document.hpp"
#include "cloud/provisioning/template.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_checks.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::CaCertificate;

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

// The template a CA's registration config carries is checked as CreateProvisioningTemplate checks
// one: a template AWS would refuse is refused here (AWS: InvalidRequestException "Invalid
// registration template. …").
ApiResult<void> check_jitp_template(const std::string& body) {
  auto parsed = provisioning::parse_template(body);
  if (!parsed) return invalid_request("Invalid registration template. " + parsed.error().message);
  return {};
}

// templateName: a provisioning template of this account made for JITP (developer guide, "Register
// CA using provisioning template name": create-provisioning-template --type JITP).
ApiResult<void> check_jitp_template_name(ServiceContext& ctx, const std::string& name) {
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_provisioning_template(name));
  if (!found) return not_found("The provisioning template " + name + " does not exist");
  if (found->type != "JITP")
    return invalid_request("The provisioning template " + name +
                           " is not of type JITP (its type is " + found->type + ")");
  return {};
}

ApiError constraint(const std::string& field, const std::string& value, const std::string& rule) {
  return invalid_request("1 validation error detected: Value '" + value.substr(0, 200) +
                         "' at 'registrationConfig." + field +
                         "' failed to satisfy constraint: Member must " + rule);
}

// registrationConfig (RegisterCACertificate, UpdateCACertificate): {templateBody?, roleArn?,
// templateName?}, all strings, with the RegistrationConfig shape's constraints (API reference,
// RegistrationConfig: templateBody ≤ 10240, roleArn 20–2048, templateName 1–36
// ^[0-9A-Za-z_-]+$). A JITP template body comes with the role AWS IoT assumes to provision
// (developer guide, "Just-in-time provisioning": "templateBody" and "roleArn"); the role must
// exist and trust iot.amazonaws.com, as AWS checks it for a provisioning template's role
// (InvalidRequestException "The provisioning role cannot be assumed by AWS IoT"). The other form
// names a provisioning template instead (its own provisioningRoleArn applies).
ApiResult<const json*> registration_config_of(ServiceContext& ctx, const json& body) {
  ZT_API_TRY_ASSIGN(const json* config, object_member(body, "registrationConfig"));
  if (!config) return config;
  std::map<std::string, std::string> values;
  for (const char* key : {"templateBody", "roleArn", "templateName"}) {
    ZT_API_TRY_ASSIGN(auto value,
                      string_member(*config, key, std::string("registrationConfig.") + key));
    if (value) values[key] = *value;
  }
  static const std::regex role_pattern(
      "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  static const std::regex name_pattern("[0-9A-Za-z_-]+");
  if (values.contains("templateBody") && values["templateBody"].size() > 10240)
    return constraint("templateBody", values["templateBody"],
                      "have length less than or equal to 10240");
  if (auto it = values.find("templateName"); it != values.end()) {
    if (it->second.empty() || it->second.size() > 36 || !std::regex_match(it->second, name_pattern))
      return constraint("templateName", it->second,
                        "satisfy regular expression pattern: ^[0-9A-Za-z_-]+$ (length 1-36)");
  }
  if (auto it = values.find("roleArn"); it != values.end()) {
    if (it->second.size() < 20 || it->second.size() > 2048 ||
        !std::regex_match(it->second, role_pattern))
      return constraint("roleArn", it->second,
                        "satisfy regular expression pattern: "
                        "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  }
  bool has_body = values.contains("templateBody") && !values["templateBody"].empty();
  if (has_body && values.contains("templateName"))
    return invalid_request(
        "Invalid registration config: give either templateBody (with roleArn) or templateName, "
        "not both");
  if (has_body && !values.contains("roleArn"))
    return invalid_request("Invalid registration config: roleArn is required with templateBody");
  if (auto it = values.find("roleArn"); it != values.end()) {
    ZT_API_TRY_ASSIGN(auto role, ctx.registry.find_role_by_arn(it->second));
    if (!role || !iam::trust_document_allows_service(role->trust_policy, "iot.amazonaws.com"))
      return invalid_request("The provisioning role cannot be assumed by AWS IoT");
  }
  if (has_body) ZT_API_TRY(check_jitp_template(values["templateBody"]));
  if (auto it = values.find("templateName"); it != values.end())
    ZT_API_TRY(check_jitp_template_name(ctx, it->second));
  return config;
}

ApiResult<Reply> get_registration_code(ServiceContext& ctx, const ApiRequest&) {
  ZT_API_TRY_ASSIGN(std::string code, ctx.registry.registration_code());
  return json_reply({{"registrationCode", code}});
}

// Proof of possession (reference §2): DEFAULT mode needs a verification certificate whose CN is
// this account's registration code and which the CA's private key signed.
ApiResult<void> check_verification_certificate(ServiceContext& ctx, const ParsedCertificate& ca,
                                               const std::string& verification_pem) {
  ZT_API_TRY_ASSIGN(ParsedCertificate verification,
                    parse_certificate(verification_pem, "verificationCertificate"));
  ZT_API_TRY_ASSIGN(crypto::PkeyPtr ca_key, crypto::certificate_public_key(ca.x509.get()));
  if (!crypto::verify_certificate_signature(verification.x509.get(), ca_key.get())) {
    return api_error(400, "CertificateValidationException",
                     "The verification certificate is not signed by the CA certificate's "
                     "private key");
  }
  ZT_API_TRY_ASSIGN(std::string code, ctx.registry.registration_code());
  std::string cn = crypto::name_entry(X509_get_subject_name(verification.x509.get()), "CN");
  if (cn != code) {
    return api_error(400, "RegistrationCodeValidationException",
                     "The registration code is invalid: the verification certificate's "
                     "common name '" +
                         cn.substr(0, 80) +
                         "' is not this account's "
                         "registration code");
  }
  return {};
}

ApiResult<Reply> register_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  ZT_API_TRY_ASSIGN(auto ca_pem, string_member(body, "caCertificate"));
  ZT_API_TRY_ASSIGN(auto verification_pem, string_member(body, "verificationCertificate"));
  ZT_API_TRY_ASSIGN(auto mode, string_member(body, "certificateMode"));
  if (!ca_pem) return invalid_request("caCertificate is required");
  auto set_active = query_bool(request, "setAsActive");
  auto auto_registration = query_bool(request, "allowAutoRegistration");
  if (!auto_registration) return auto_registration.error();  // both wrong: the last one named
  if (!set_active) return set_active.error();
  std::string certificate_mode = mode.value_or("DEFAULT");
  if (certificate_mode != "DEFAULT" && certificate_mode != "SNI_ONLY") {
    return invalid_request("certificateMode must be DEFAULT or SNI_ONLY");
  }
  ZT_API_TRY_ASSIGN(const json* config, registration_config_of(ctx, body));
  json registration_config = config ? *config : json::object();

  ZT_API_TRY_ASSIGN(ParsedCertificate ca, parse_certificate(*ca_pem, "caCertificate"));
  if (!crypto::is_ca_certificate(ca.x509.get())) {
    return api_error(400, "CertificateValidationException",
                     "The CA certificate does not have the basicConstraints extension as true");
  }
  if (!currently_valid(ca)) {
    return api_error(400, "CertificateValidationException",
                     "The CA certificate is expired or not yet valid");
  }
  if (certificate_mode == "SNI_ONLY") {
    if (verification_pem && !verification_pem->empty()) {
      return invalid_request(
          "verificationCertificate must be empty when certificateMode is SNI_ONLY");
    }
  } else {
    if (!verification_pem || verification_pem->empty()) {
      return invalid_request("verificationCertificate is required when certificateMode is DEFAULT");
    }
    ZT_API_TRY(check_verification_certificate(ctx, ca, *verification_pem));
  }
  std::string arn = ctx.arn("cacert/" + ca.id);
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_ca(ca.id));
  // "ID:<id>" in the message: Microchip's aws_register_signer.py, written against AWS, reads the
  // existing CA's id from this message with re.search('ID:([0-9a-zA-Z]+)', …) on a re-run.
  if (existing)
    return already_exists("The CA certificate is already registered. ID:" + ca.id, ca.id, arn);
  std::string subject = crypto::subject_text(ca.x509.get());
  ZT_API_TRY_ASSIGN(int64_t same_subject, ctx.registry.count_cas_with_subject(subject));
  if (same_subject >= 10) {
    return api_error(410, "LimitExceededException",
                     "At most 10 CA certificates with the same subject can be registered");
  }
  double now = now_seconds();
  CaCertificate record{.id = ca.id,
                       .pem = ca.pem,
                       .subject = subject,
                       .status = *set_active ? registry::kActive : registry::kInactive,
                       .auto_registration = *auto_registration ? "ENABLE" : "DISABLE",
                       .registration_config = registration_config.dump(),
                       .certificate_mode = certificate_mode,
                       .creation_date = now,
                       .last_modified = now,
                       .customer_version = 1,
                       .generation_id = generation_id(),
                       .not_before = ca.not_before,
                       .not_after = ca.not_after};
  ZT_API_TRY(ctx.registry.insert_ca(record));
  return json_reply({{"certificateArn", arn}, {"certificateId", ca.id}});
}

ApiResult<Reply> describe_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(CaCertificate ca, require_ca(ctx, request));
  json out = {{"certificateDescription", ca_description(ctx, ca)}};
  json config = json::parse(ca.registration_config, nullptr, false);
  if (config.is_object() && !config.empty()) out["registrationConfig"] = config;
  return json_reply(out);
}

ApiResult<Reply> list_ca_certificates(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "marker", "pageSize", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_cas(page));
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

ApiResult<Reply> update_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(CaCertificate ca, require_ca(ctx, request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  if (auto status = request.query_value("newStatus")) {
    if (*status != registry::kActive && *status != registry::kInactive) {
      return invalid_request("newStatus must be ACTIVE or INACTIVE");
    }
    ca.status = *status;
  }
  if (auto auto_status = request.query_value("newAutoRegistrationStatus")) {
    if (*auto_status != "ENABLE" && *auto_status != "DISABLE") {
      return invalid_request("newAutoRegistrationStatus must be ENABLE or DISABLE");
    }
    ca.auto_registration = *auto_status;
  }
  ZT_API_TRY_ASSIGN(const json* config, registration_config_of(ctx, body));
  if (config) ca.registration_config = config->dump();
  ZT_API_TRY_ASSIGN(auto remove, bool_member(body, "removeAutoRegistration"));
  if (remove.value_or(false)) ca.registration_config = "{}";
  ca.last_modified = now_seconds();
  ca.generation_id = generation_id();
  ZT_API_TRY(ctx.registry.update_ca(ca));
  return no_content();
}

ApiResult<Reply> delete_ca_certificate(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(CaCertificate ca, require_ca(ctx, request));
  if (ca.status == registry::kActive) {
    return api_error(406, "CertificateStateException",
                     "The CA certificate must be deactivated (INACTIVE) before deletion");
  }
  ZT_API_TRY(ctx.registry.delete_ca(ca.id));
  return no_content();
}

}  // namespace

void add_ca_certificate_routes(Router& r) {
  r.add("GET", "/registrationcode", "GetRegistrationCode", get_registration_code);
  r.add("POST", "/cacertificate", "RegisterCACertificate", register_ca_certificate);
  r.add("GET", "/cacertificate/{caCertificateId}", "DescribeCACertificate",
        describe_ca_certificate);
  r.add("PUT", "/cacertificate/{caCertificateId}", "UpdateCACertificate", update_ca_certificate);
  r.add("DELETE", "/cacertificate/{caCertificateId}", "DeleteCACertificate", delete_ca_certificate);
  r.add("GET", "/cacertificates", "ListCACertificates", list_ca_certificates);
}

}  // namespace zt::cloud::api
