// AWS IoT policies (reference/aws-iot.md §5): documents parsed and validated once, then evaluated
// per MQTT action with IAM glob matching, explicit-deny precedence and policy variables.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::policy {

struct Statement {
  bool allow = true;
  std::vector<std::string> actions;    // "iot:Publish", "iot:*", …
  std::vector<std::string> resources;  // ARNs with globs and ${…} variables
  bool has_condition = false;          // conditions are not evaluated (see evaluate())
};

struct Policy {
  std::string name;
  std::vector<Statement> statements;
};

// Validates a policy document as CreatePolicy does; the error names the offending member.
Result<Policy> parse_policy(std::string_view document, std::string name = {});

// What a request carries for variable substitution.
struct RequestContext {
  std::string client_id{};
  std::optional<std::string>
      thing_name{};  // set only when the client id is a thing attached to the cert
  std::optional<std::string> thing_type_name{};
  std::map<std::string, std::string> thing_attributes{};
  // Certificate variables without the "iot:Certificate." prefix, e.g. "Subject.CommonName",
  // "SerialNumber".
  std::map<std::string, std::string> certificate{};
};

enum class Decision { allow, explicit_deny, implicit_deny };

// Default deny; any matching Deny wins over every Allow. Statements with a Condition block are
// treated conservatively: an Allow with a condition never matches, a Deny with a condition always
// does.
Decision evaluate(const std::vector<Policy>& policies, std::string_view action,
                  std::string_view resource, const RequestContext& context);

// IAM glob: `*` any run of characters (crossing `/`), `?` exactly one; everything else literal.
bool glob_match(std::string_view pattern, std::string_view text);

// Replaces ${iot:…} variables (and the literals ${*} ${?} ${$}); nullopt when a variable cannot be
// resolved or its value may not be substituted (contains * $ + ? # or is longer than 1024 bytes).
// The result marks characters that must match literally with a preceding '\\'.
std::optional<std::string> substitute(std::string_view resource_pattern,
                                      const RequestContext& context);

}  // namespace zt::cloud::policy
