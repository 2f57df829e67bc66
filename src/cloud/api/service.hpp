// What every control-plane handler sees: the registry, the account identity and the issuer the
// cloud uses for certificates it creates (CreateKeysAndCertificate, CreateCertificateFromCsr).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cloud/api/router.hpp"
#include "cloud/lambda/invoker.hpp"
#include "cloud/registry/registry.hpp"
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
  // Set by the API server: drops an access key from its cache of secrets (IAM's DeleteAccessKey),
  // so a deleted key stops signing at once.
  std::function<void(std::string_view access_key_id)> forget_access_key{};
  lambda::Invoker* lambda = nullptr;  // Lambda's Invoke; set with the Lambda routes

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
void add_provisioning_routes(Router& router);  // provisioning templates (handlers_provisioning*.cpp)

// IAM (handlers_iam*.cpp): the query protocol's POST / with its Action, XML answers.
Router make_iam_router();

}  // namespace zt::cloud::api
