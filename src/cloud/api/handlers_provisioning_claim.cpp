// CreateProvisioningClaim (API reference; developer guide "Provisioning by trusted user"): POST
// /provisioning-templates/{templateName}/provisioning-claim answers a temporary claim certificate
// and its key pair, {certificateId, certificatePem, keyPair {PublicKey, PrivateKey}, expiration}.
// AWS: the claim certificate is valid for five minutes. Here its X.509 notAfter is that
// expiration, so the broker's own chain verification refuses it afterwards (no clock of ours in the
// way); it is ACTIVE with a policy that allows only fleet provisioning's topics for this template
// (docs/fleet-provisioning.md: AWS grants that without a visible policy).
#include <spdlog/spdlog.h>

#include <vector>

#include "cloud/api/certificate_util.hpp"
#include "cloud/api/handlers_provisioning.hpp"
#include "cloud/api/service.hpp"
#include "cloud/local_ca.hpp"
#include "common/bytes.hpp"
#include "common/uuid.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

// AWS: "The provisioning claim certificate … expires after five minutes".
constexpr int64_t kClaimLifetimeSeconds = 300;

// What a claim certificate of `template_name` may do: connect, and the request/answer topics of
// CreateKeysAndCertificate, CreateCertificateFromCsr and this template's RegisterThing.
std::string claim_policy_document(const ServiceContext& ctx, const std::string& template_name) {
  json topics = json::array(), filters = json::array();
  const std::vector<std::string> patterns = {
      "$aws/certificates/create/*", "$aws/certificates/create-from-csr/*",
      "$aws/provisioning-templates/" + template_name + "/provision/*"};
  for (const std::string& topic : patterns) {
    topics.push_back(ctx.arn("topic/" + topic));
    filters.push_back(ctx.arn("topicfilter/" + topic));
  }
  json document = {
      {"Version", "2012-10-17"},
      {"Statement",
       {{{"Effect", "Allow"}, {"Action", "iot:Connect"}, {"Resource", ctx.arn("client/*")}},
        {{"Effect", "Allow"}, {"Action", {"iot:Publish", "iot:Receive"}}, {"Resource", topics}},
        {{"Effect", "Allow"}, {"Action", "iot:Subscribe"}, {"Resource", filters}}}}};
  return document.dump();
}

ApiResult<Reply> create_provisioning_claim(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string name, provisioning_handlers::template_name_param(request));
  ZT_API_TRY(provisioning_handlers::require_template(ctx, name));
  if (!ctx.issuer_cert || !ctx.issuer_key)
    return api_error(500, "InternalFailureException", "this cloud has no certificate issuer");

  ZT_API_TRY_ASSIGN(crypto::PkeyPtr key, crypto::generate_p256_key());
  int64_t now = unix_now();
  int64_t expiration = now + kClaimLifetimeSeconds;
  CertificateRequest spec{.subject = {{"CN", "AWS IoT Provisioning Claim"}},
                          .client_auth = true,
                          .not_before = now - 60,
                          .not_after = expiration};
  ZT_API_TRY_ASSIGN(auto x509, issue_certificate(spec, key.get(), ctx.issuer_cert, ctx.issuer_key));
  ZT_API_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(x509.get()));
  ZT_API_TRY_ASSIGN(ParsedCertificate cert, parse_certificate(pem, "claim certificate"));

  double created = now_seconds();
  ZT_API_TRY(ctx.registry.insert_certificate({.id = cert.id,
                                              .pem = cert.pem,
                                              .ca_id = std::nullopt,
                                              .status = registry::kActive,
                                              .certificate_mode = "DEFAULT",
                                              .creation_date = created,
                                              .last_modified = created,
                                              .customer_version = 1,
                                              .generation_id = generation_id(),
                                              .not_before = cert.not_before,
                                              .not_after = cert.not_after}));
  std::string policy = "zt-provisioning-claim-" + name;
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_policy(policy));
  if (!existing) {
    ZT_API_TRY(
        ctx.registry.insert_policy(policy, claim_policy_document(ctx, name), created, new_uuid()));
  }
  ZT_API_TRY(ctx.registry.attach_policy(policy, ctx.arn("cert/" + cert.id)));

  ZT_API_TRY_ASSIGN(std::string public_pem, crypto::public_key_to_pem(key.get()));
  ZT_API_TRY_ASSIGN(std::string private_pem, crypto::private_key_to_pem(key.get()));
  json out = {{"certificateId", cert.id},
              {"certificatePem", cert.pem},
              {"keyPair", {{"PublicKey", public_pem}, {"PrivateKey", private_pem}}},
              {"expiration", expiration}};
  secure_zero(private_pem.data(), private_pem.size());
  spdlog::info("provisioning claim {} for template {} (expires {})", cert.id, name,
               format_iso8601(expiration));
  return json_reply(out);
}

}  // namespace

void add_provisioning_claim_routes(Router& router) {
  router.add("POST", "/provisioning-templates/{templateName}/provisioning-claim",
             "CreateProvisioningClaim", create_provisioning_claim);
}

}  // namespace zt::cloud::api
