// evaluate(): a parsed template and one device's parameters → the Plan of what to create. Pure (no
// registry): the Provisioner applies the plan in one registry transaction.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cloud/provisioning/template.hpp"
#include "common/result.hpp"

namespace zt::cloud::provisioning {

// OverrideSettings: what to do with a property of a resource that already exists.
enum class Override { do_nothing, replace, fail, merge };

struct ThingPlan {
  std::string logical_name;
  std::string name;
  std::optional<std::string> type_name;
  std::optional<std::map<std::string, std::string>> attributes;
  std::optional<std::vector<std::string>> groups;
  std::optional<std::string> billing_group;
  // Defaults when OverrideSettings does not name a property: DO_NOTHING (our choice, documented
  // in docs/provisioning-templates.md: an existing thing keeps what it has).
  Override attributes_override = Override::do_nothing;
  Override type_override = Override::do_nothing;
  Override groups_override = Override::do_nothing;
};

struct CertificatePlan {
  std::string logical_name;
  std::optional<std::string> certificate_id;  // CertificateId (the only way for fleet provisioning)
  std::optional<std::string> certificate_pem;  // CertificatePem (JITP, bulk registration)
  bool has_csr = false;                        // CertificateSigningRequest (bulk registration)
  std::string status = "ACTIVE";               // ACTIVE | INACTIVE ("Active" accepted)
  Override status_override = Override::replace;
};

struct PolicyPlan {
  std::string logical_name;
  std::string name;                     // PolicyName, or the hash of the document
  std::optional<std::string> document;  // inline PolicyDocument (a JSON object as text)
};

struct Plan {
  std::optional<ThingPlan> thing;
  std::optional<CertificatePlan> certificate;
  std::vector<PolicyPlan> policies;
  nlohmann::json device_configuration = nlohmann::json::object();
};

// The values of the declared parameters: from `parameters` (strings; a Number's may be a JSON
// number), else the Default. A declared parameter without either is an error ("The certificate must
// contain values for all of the parameters in the template body", JITP), as is a value of the
// wrong type. Undeclared parameters are ignored.
Result<nlohmann::json> resolve_parameters(const Template& parsed, const nlohmann::json& parameters);

// Errors: Errc::invalid_argument with the reason.
Result<Plan> evaluate(const Template& parsed, const nlohmann::json& parameters,
                      EvaluationLimits limits = {});

// A policy created from an inline document without a PolicyName is named by the document's hash
// (developer guide: "Defaults to a hash of the policy document"): lowercase hex SHA-256.
std::string policy_name_for_document(const std::string& document);

}  // namespace zt::cloud::provisioning
