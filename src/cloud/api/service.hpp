// What every control-plane handler sees: the registry, the account identity and the issuer the
// cloud uses for certificates it creates (CreateKeysAndCertificate, CreateCertificateFromCsr).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/api/router.hpp"
#include "cloud/lambda/invoker.hpp"
#include "cloud/registry/registry.hpp"
#include "common/time.hpp"
#include "crypto/ossl.hpp"

namespace zt::cloud::api {

struct ServiceContext {
  registry::Registry& registry;
  std::string account_id;
  std::string region;
  std::string endpoint_prefix;  // DescribeEndpoint: <prefix>-ats.iot.<region>.<domain>
  std::string endpoint_domain = "localhost";
  const X509* issuer_cert = nullptr;
  EVP_PKEY* issuer_key = nullptr;
  // The trust anchor of the cloud's TLS endpoints: signs each domain configuration's server
  // certificate (CreateDomainConfiguration). nullptr: domain configurations cannot be created.
  const X509* server_ca_cert = nullptr;
  EVP_PKEY* server_ca_key = nullptr;
  // Set by the API server: drops an access key from its cache of secrets (IAM's DeleteAccessKey),
  // so a deleted key stops signing at once.
  std::function<void(std::string_view access_key_id)> forget_access_key{};
  lambda::Invoker* lambda = nullptr;  // Lambda's Invoke; set with the Lambda routes
  // The wall clock (seconds since the epoch) of rules that wait (DeleteThingType: five minutes
  // after deprecation); tests set a fake one.
  std::function<double()> now = [] { return unix_now_seconds(); };

  std::string arn(std::string_view resource) const {
    return "arn:aws:iot:" + region + ":" + account_id + ":" + std::string(resource);
  }
};

// The full control-plane route table (reference/aws-iot.md §1.6).
Router make_control_plane_router();

void add_ca_certificate_routes(Router& router);
void add_certificate_routes(Router& router);
void add_endpoint_routes(Router& router);
void add_thing_routes(Router& router);
void add_policy_routes(Router& router);
void add_rule_routes(Router& router);
// AWS Lambda (handlers_lambda.cpp): signing name "lambda"; needs ServiceContext::lambda.
void add_lambda_routes(Router& router);
// Provisioning templates (handlers_provisioning*.cpp) and CreateProvisioningClaim.
void add_provisioning_routes(Router& router);
void add_provisioning_claim_routes(Router& router);
// Role aliases and domain configurations (handlers_role_aliases.cpp,
// handlers_domain_configurations.cpp).
void add_role_alias_routes(Router& router);
void add_domain_configuration_routes(Router& router);
// AWS IoT Jobs, control plane (handlers_jobs*.cpp).
void add_jobs_routes(Router& router);
// Fleet indexing (handlers_indexing*.cpp): indexing configuration, SearchIndex, aggregations.
void add_indexing_routes(Router& router);
// Thing groups, dynamic thing groups, billing groups, thing types (handlers_thing_groups*.cpp).
void add_thing_group_routes(Router& router);

// IAM (handlers_iam*.cpp): the query protocol's POST / with its Action, XML answers.
Router make_iam_router();
// The IAM actions make_iam_router's one route serves (its Action parameter), sorted.
std::vector<std::string> iam_action_names();

}  // namespace zt::cloud::api
