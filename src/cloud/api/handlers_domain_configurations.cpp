// Domain configurations (API reference: CreateDomainConfiguration, DescribeDomainConfiguration,
// ListDomainConfigurations, UpdateDomainConfiguration, DeleteDomainConfiguration). Each one is an
// endpoint name the broker accepts by SNI, with its own server certificate: the local cloud has no
// ACM, so the cloud's server CA (the anchor of its default endpoint, server-ca.crt) issues one for
// the name at creation; serverCertificateArns are stored and shown. A DISABLED configuration's
// name is refused at the TLS handshake (cloud/service/auth.cpp). docs/compatibility.md.
#include "cloud/api/handler_util.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "pki/profiles.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using registry::DomainConfiguration;

constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";

ApiResult<std::string> name_param(const ApiRequest& request) {
  const std::string& name = request.path.at("domainConfigurationName");
  bool valid =
      !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
      });
  if (!valid) return constraint_violation(name, "domainConfigurationName", "[\\w.-]+");
  return name;
}

// A DNS name: labels of [a-z0-9-] (1..63, no leading/trailing '-'), 1..253 in all; lowercased.
std::optional<std::string> dns_name(std::string_view text) {
  if (text.empty() || text.size() > 253) return std::nullopt;
  std::string out;
  size_t label = 0;
  for (char c : text) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == '.') {
      if (label == 0 || out.back() == '-') return std::nullopt;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(lower)) || lower == '-') {
      if ((label == 0 && lower == '-') || ++label > 63) return std::nullopt;
    } else {
      return std::nullopt;
    }
    out.push_back(lower);
  }
  if (label == 0 || out.back() == '-') return std::nullopt;
  return out;
}

std::string arn_of(const ServiceContext& ctx, const DomainConfiguration& c, const json& details) {
  return ctx.arn("domainconfiguration/" + c.name + "/" + details.value("arnSuffix", ""));
}

json details_of(const DomainConfiguration& c) {
  json details = parse_json(c.details).value_or(json::object());
  return details.is_object() ? details : json::object();
}

ApiResult<DomainConfiguration> require_configuration(ServiceContext& ctx,
                                                     const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_domain_configuration(name));
  if (!found) return not_found("Domain configuration " + name + " does not exist");
  return std::move(*found);
}

// The members stored as given and shown by Describe (each checked for its type).
ApiResult<void> copy_stored_members(const json& body, json& details) {
  for (const char* key :
       {"authorizerConfig", "tlsConfig", "serverCertificateConfig", "clientCertificateConfig"}) {
    ZT_API_TRY_ASSIGN(const json* member, object_member(body, key));
    if (member) details[key] = *member;
  }
  for (const char* key : {"authenticationType", "applicationProtocol"}) {
    ZT_API_TRY_ASSIGN(auto member, string_member(body, key));
    if (member) details[key] = *member;
  }
  return {};
}

// A server certificate for `domain_name` from the cloud's server CA, with a key of its own.
ApiResult<std::pair<std::string, std::string>> issue_server_identity(
    const ServiceContext& ctx, const std::string& domain_name) {
  if (!ctx.server_ca_cert || !ctx.server_ca_key)
    return api_error(500, "InternalFailureException", "this cloud has no server CA to sign with");
  ZT_API_TRY_ASSIGN(auto key, crypto::generate_p256_key());
  ZT_API_TRY_ASSIGN(auto cert,
                    pki::issue_server_certificate(key.get(), {domain_name}, ctx.server_ca_cert,
                                                  ctx.server_ca_key, unix_now()));
  ZT_API_TRY_ASSIGN(std::string cert_pem, crypto::certificate_to_pem(cert.get()));
  ZT_API_TRY_ASSIGN(std::string ca_pem, crypto::certificate_to_pem(ctx.server_ca_cert));
  ZT_API_TRY_ASSIGN(std::string key_pem, crypto::private_key_to_pem(key.get()));
  return std::make_pair(cert_pem + ca_pem, key_pem);
}

ApiResult<Reply> create_domain_configuration(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, name_param(request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(auto domain, string_member(body, "domainName"));
  ZT_API_TRY_ASSIGN(const json* certificate_arns, array_member(body, "serverCertificateArns"));
  ZT_API_TRY_ASSIGN(auto validation_arn, string_member(body, "validationCertificateArn"));
  ZT_API_TRY_ASSIGN(auto service_type, string_member(body, "serviceType"));
  if (service_type && *service_type != "DATA" && *service_type != "CREDENTIAL_PROVIDER" &&
      *service_type != "JOBS") {
    return constraint_violation(*service_type, "serviceType",
                                "enum value set: [DATA, CREDENTIAL_PROVIDER, JOBS]");
  }
  json details = {{"serviceType", service_type.value_or("DATA")},
                  {"serverCertificateArns", json::array()},
                  {"arnSuffix", crypto::random_text(kLowerAlnum, 5)}};
  if (certificate_arns) {
    // serverCertificateArns: at most 1 (API reference), each an ACM certificate ARN.
    if (certificate_arns->size() > 1)
      return invalid_request("serverCertificateArns: at most 1 certificate");
    for (const auto& arn : *certificate_arns) {
      if (!arn.is_string() || arn.get_ref<const std::string&>().rfind("arn:", 0) != 0)
        return invalid_request("serverCertificateArns must be certificate ARNs");
      details["serverCertificateArns"].push_back(arn);
    }
  }
  if (validation_arn) details["validationCertificateArn"] = *validation_arn;
  ZT_API_TRY(copy_stored_members(body, details));
  double now = now_seconds();
  DomainConfiguration configuration{
      .name = name, .status = "ENABLED", .creation_date = now, .last_status_change = now};
  if (domain) {
    auto checked = dns_name(*domain);
    if (!checked) return constraint_violation(*domain, "domainName", "[\\w.-]+", 253);
    configuration.domain_name = *checked;
    configuration.domain_type = "CUSTOMER_MANAGED";
  } else {
    // AWS-managed: a name of the account's own endpoint domain, unique to this configuration.
    configuration.domain_name = ctx.endpoint_prefix + "-" + crypto::random_text(kLowerAlnum, 8) +
                                "-ats.iot." + ctx.region + "." + ctx.endpoint_domain;
    configuration.domain_type = "AWS_MANAGED";
  }
  std::string arn = arn_of(ctx, configuration, details);
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_domain_configuration(name));
  if (existing) {
    return already_exists("Domain configuration " + name + " already exists", name,
                          arn_of(ctx, *existing, details_of(*existing)));
  }
  ZT_API_TRY_ASSIGN(auto same_domain,
                    ctx.registry.find_domain_configuration_by_domain(configuration.domain_name));
  if (same_domain) {
    return invalid_request("Domain name " + configuration.domain_name +
                           " is already used by domain configuration " + same_domain->name);
  }
  ZT_API_TRY_ASSIGN(auto identity, issue_server_identity(ctx, configuration.domain_name));
  configuration.certificate_pem = std::move(identity.first);
  configuration.key_pem = std::move(identity.second);
  configuration.details = details.dump();
  ZT_API_TRY(ctx.registry.insert_domain_configuration(configuration));
  return json_reply({{"domainConfigurationName", name}, {"domainConfigurationArn", arn}});
}

ApiResult<Reply> describe_domain_configuration(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(DomainConfiguration c, require_configuration(ctx, request));
  json details = details_of(c);
  json certificates = json::array();
  for (const auto& arn : details.value("serverCertificateArns", json::array())) {
    certificates.push_back({{"serverCertificateArn", arn},
                            {"serverCertificateStatus", "VALID"},
                            {"serverCertificateStatusDetail", ""}});
  }
  json out = {{"domainConfigurationName", c.name},
              {"domainConfigurationArn", arn_of(ctx, c, details)},
              {"domainName", c.domain_name},
              {"serverCertificates", certificates},
              {"domainConfigurationStatus", c.status},
              {"serviceType", details.value("serviceType", "DATA")},
              {"domainType", c.domain_type},
              {"lastStatusChangeDate", c.last_status_change}};
  for (const char* key : {"authorizerConfig", "tlsConfig", "serverCertificateConfig",
                          "clientCertificateConfig", "authenticationType", "applicationProtocol"}) {
    if (details.contains(key)) out[key] = details[key];
  }
  return json_reply(out);
}

ApiResult<Reply> list_domain_configurations(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "marker", "pageSize", 250));
  auto service_type = request.query_value("serviceType");
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_domain_configurations(page));
  json items = json::array();
  for (const auto& c : result.items) {
    json details = details_of(c);
    std::string type = details.value("serviceType", "DATA");
    if (service_type && *service_type != type) continue;
    items.push_back({{"domainConfigurationName", c.name},
                     {"domainConfigurationArn", arn_of(ctx, c, details)},
                     {"serviceType", type}});
  }
  json out = {{"domainConfigurations", items}};
  if (!result.next_key.empty()) out["nextMarker"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> update_domain_configuration(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(DomainConfiguration c, require_configuration(ctx, request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  json details = details_of(c);
  ZT_API_TRY_ASSIGN(auto status, string_member(body, "domainConfigurationStatus"));
  ZT_API_TRY_ASSIGN(auto remove_authorizer, bool_member(body, "removeAuthorizerConfig"));
  if (status) {
    if (*status != "ENABLED" && *status != "DISABLED") {
      return constraint_violation(*status, "domainConfigurationStatus",
                                  "enum value set: [ENABLED, DISABLED]");
    }
    if (*status != c.status) c.last_status_change = now_seconds();
    c.status = *status;
  }
  ZT_API_TRY(copy_stored_members(body, details));
  if (remove_authorizer.value_or(false)) details.erase("authorizerConfig");
  c.details = details.dump();
  ZT_API_TRY(ctx.registry.update_domain_configuration(c));
  return json_reply(
      {{"domainConfigurationName", c.name}, {"domainConfigurationArn", arn_of(ctx, c, details)}});
}

ApiResult<Reply> delete_domain_configuration(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(DomainConfiguration c, require_configuration(ctx, request));
  ZT_API_TRY(ctx.registry.delete_domain_configuration(c.name));
  return no_content();
}

}  // namespace

void add_domain_configuration_routes(Router& r) {
  r.add("POST", "/domainConfigurations/{domainConfigurationName}", "CreateDomainConfiguration",
        create_domain_configuration);
  r.add("GET", "/domainConfigurations/{domainConfigurationName}", "DescribeDomainConfiguration",
        describe_domain_configuration);
  r.add("PUT", "/domainConfigurations/{domainConfigurationName}", "UpdateDomainConfiguration",
        update_domain_configuration);
  r.add("DELETE", "/domainConfigurations/{domainConfigurationName}", "DeleteDomainConfiguration",
        delete_domain_configuration);
  r.add("GET", "/domainConfigurations", "ListDomainConfigurations", list_domain_configurations);
}

}  // namespace zt::cloud::api
