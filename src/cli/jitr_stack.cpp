#include "cli/jitr_stack.hpp"

#include <fmt/format.h>

#include "aws/zip_writer.hpp"
#include "cli/aws_command_line.hpp"
#include "common/json.hpp"

namespace zt::cli {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The account id in an ARN (arn:partition:service:region:account:resource).
std::string account_of(std::string_view arn) {
  size_t at = 0;
  for (int field = 0; field < 4; ++field) {
    at = arn.find(':', at);
    if (at == std::string_view::npos) return {};
    ++at;
  }
  size_t end = arn.find(':', at);
  return end == std::string_view::npos ? std::string() : std::string(arn.substr(at, end - at));
}

// A member of an answer (AWS's or the local cloud's): its text, or "" when absent or not a string
// (never nlohmann's throwing value() on outside data).
std::string text_of(const json& object, const char* key) {
  auto it = object.is_object() ? object.find(key) : object.end();
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A member of an answer, or null.
const json& member_of(const json& object, const char* key) {
  static const json null;
  auto it = object.is_object() ? object.find(key) : object.end();
  return it != object.end() ? *it : null;
}

// Two policy documents are the same policy when they parse to the same JSON.
bool same_document(std::string_view a, std::string_view b) {
  auto left = parse_json(a), right = parse_json(b);
  return left && right && *left == *right;
}

class Stack {
 public:
  Stack(JitrClients clients, const JitrStackOptions& options)
      : iam_(clients.iam), lambda_(clients.lambda), iot_(clients.iot), options_(options) {}

  Result<JitrStackReport> deploy();
  Result<JitrStackReport> teardown();

 private:
  AwsCommand aws(std::string_view service, std::string_view operation) const {
    return AwsCommand(options_.aws_options, service, operation);
  }
  void say(std::string_view line) const { options_.print(line); }
  // A call that reads: printed, then made (never in a dry run).
  void read(const AwsCommand& command) const { say("$ " + command.line()); }
  // A call that changes something: printed, counted, and made unless this is a dry run.
  void change(const AwsCommand& command) {
    say("$ " + command.line());
    ++report_.changes;
  }
  void step(std::string_view title) const { say(fmt::format("-- {}", title)); }

  Status deploy_role();
  Result<aws::FunctionDefinition> deploy_function();
  Status wait_for_function_update(const std::string& name);
  Status deploy_permission(const std::string& rule_arn);
  Status deploy_rule(const std::string& function_arn);
  Status gone(Status status, std::string_view what) const;

  aws::IamClient& iam_;
  aws::LambdaClient& lambda_;
  aws::IotClient& iot_;
  const JitrStackOptions& options_;
  JitrStackReport report_;
  std::string role_arn_, account_;
};

Status Stack::deploy_role() {
  step("IAM role " + std::string(kJitrRoleName) + " (seed guide III.4-5)");
  std::string trust = lambda_trust_policy();
  auto create = aws("iam", "create-role")
                    .option("--role-name", kJitrRoleName)
                    .option("--assume-role-policy-document", trust);
  auto put = aws("iam", "put-role-policy")
                 .option("--role-name", kJitrRoleName)
                 .option("--policy-name", kJitrRolePolicyName)
                 .option("--policy-document", jitr_role_policy());
  auto attach = aws("iam", "attach-role-policy")
                    .option("--role-name", kJitrRoleName)
                    .option("--policy-arn", kLambdaBasicExecutionPolicy);
  if (options_.dry_run) {
    account_ = std::string(kAccountIdVariable);
    role_arn_ = "arn:aws:iam::" + account_ + ":role/" + kJitrRoleName;
    for (const auto* command : {&create, &put, &attach}) change(*command);
    return ok();
  }
  read(aws("iam", "get-role").option("--role-name", kJitrRoleName));
  ZT_TRY_ASSIGN(auto role, with_context(iam_.get_role(kJitrRoleName), "GetRole"));
  if (!role) {
    change(create);
    ZT_TRY_ASSIGN(auto created, with_context(iam_.create_role(kJitrRoleName, trust), "CreateRole"));
    role = std::move(created);
    say("created " + role->arn);
  } else if (!same_document(role->assume_role_policy, trust)) {
    change(aws("iam", "update-assume-role-policy")
               .option("--role-name", kJitrRoleName)
               .option("--policy-document", trust));
    ZT_TRY(with_context(iam_.update_assume_role_policy(kJitrRoleName, trust),
                        "UpdateAssumeRolePolicy"));
  } else {
    say("exists: " + role->arn);
  }
  role_arn_ = role->arn;
  account_ = account_of(role_arn_);
  if (account_.empty())
    return make_error(Errc::parse, "role ARN '" + role_arn_ + "' has no account");

  read(aws("iam", "get-role-policy")
           .option("--role-name", kJitrRoleName)
           .option("--policy-name", kJitrRolePolicyName));
  ZT_TRY_ASSIGN(
      auto document,
      with_context(iam_.get_role_policy(kJitrRoleName, kJitrRolePolicyName), "GetRolePolicy"));
  if (document && same_document(*document, jitr_role_policy())) {
    say("unchanged: inline policy " + std::string(kJitrRolePolicyName));
  } else {
    change(put);
    ZT_TRY(
        with_context(iam_.put_role_policy(kJitrRoleName, kJitrRolePolicyName, jitr_role_policy()),
                     "PutRolePolicy"));
  }

  read(aws("iam", "list-attached-role-policies").option("--role-name", kJitrRoleName));
  ZT_TRY_ASSIGN(auto attached, with_context(iam_.list_attached_role_policies(kJitrRoleName),
                                            "ListAttachedRolePolicies"));
  if (std::find(attached.begin(), attached.end(), kLambdaBasicExecutionPolicy) != attached.end()) {
    say("unchanged: AWSLambdaBasicExecutionRole is attached");
  } else {
    change(attach);
    ZT_TRY(with_context(iam_.attach_role_policy(kJitrRoleName, kLambdaBasicExecutionPolicy),
                        "AttachRolePolicy"));
  }
  return ok();
}

// Lambda reports a function being created or updated (State Pending, LastUpdateStatus
// InProgress) and refuses another update until it is done (Lambda Developer Guide, "Lambda
// function states"): wait, bounded.
Status Stack::wait_for_function_update(const std::string& name) {
  for (int attempt = 0; attempt < 60; ++attempt) {
    ZT_TRY_ASSIGN(auto function, with_context(lambda_.get_function(name), "GetFunction"));
    if (!function) return make_error(Errc::not_found, "function " + name + " disappeared");
    const json& configuration = member_of(*function, "Configuration");
    if (text_of(configuration, "State") != "Pending" &&
        text_of(configuration, "LastUpdateStatus") != "InProgress") {
      return ok();
    }
    options_.sleep(1s);
  }
  return make_error(Errc::timeout, "function " + name + " is still being updated after 60 s");
}

Result<aws::FunctionDefinition> Stack::deploy_function() {
  step("Lambda function " + std::string(kJitrFunctionName) + " (seed guide V.2)");
  aws::FunctionDefinition function{kJitrFunctionName,
                                   options_.runtime,
                                   role_arn_,
                                   kJitrHandler,
                                   30,
                                   "Zero Touch just-in-time registration (zerotouch)"};
  ZT_TRY_ASSIGN(Bytes zip, aws::make_zip({{"lambda_function.py", options_.code}}));
  std::string sha = aws::code_sha256(zip);
  std::string package = std::string(kJitrFunctionName) + ".zip";
  auto create = aws("lambda", "create-function")
                    .option("--function-name", function.name)
                    .option("--runtime", function.runtime)
                    .option("--role", function.role_arn)
                    .option("--handler", function.handler)
                    .option("--timeout", std::to_string(function.timeout_seconds))
                    .option("--description", function.description)
                    .option("--zip-file", "fileb://" + package);
  say(fmt::format("$ zip -j {} {}", package, shell_quote(options_.code_label)));
  say(fmt::format("({}: lambda_function.py, {} bytes, CodeSha256 {})", package, zip.size(), sha));
  if (options_.dry_run) {
    change(create);
    return function;
  }
  read(aws("lambda", "get-function").option("--function-name", function.name));
  ZT_TRY_ASSIGN(auto existing, with_context(lambda_.get_function(function.name), "GetFunction"));
  if (!existing) {
    change(create);
    // A role created a moment ago may not be assumable by Lambda yet (IAM is eventually
    // consistent): CreateFunction answers InvalidParameterValueException "The role defined for
    // the function cannot be assumed by Lambda." — retried for up to 30 s.
    for (int attempt = 1;; ++attempt) {
      auto created = lambda_.create_function(function, zip);
      if (created) break;
      bool role_not_ready = created.error().code == Errc::invalid_argument &&
                            created.error().message.find("cannot be assumed") != std::string::npos;
      if (!role_not_ready || attempt >= 15) {
        return with_context(std::move(created), "CreateFunction").error();
      }
      say("the new role is not assumable by Lambda yet (IAM is eventually consistent): retrying");
      options_.sleep(2s);
    }
    ZT_TRY(wait_for_function_update(function.name));
    return function;
  }
  const json& configuration = member_of(*existing, "Configuration");
  if (text_of(configuration, "CodeSha256") == sha) {
    say("unchanged: code (CodeSha256 " + sha + ")");
  } else {
    change(aws("lambda", "update-function-code")
               .option("--function-name", function.name)
               .option("--zip-file", "fileb://" + package));
    ZT_TRY(with_context(lambda_.update_function_code(function.name, zip), "UpdateFunctionCode"));
    ZT_TRY(wait_for_function_update(function.name));
  }
  bool same = text_of(configuration, "Runtime") == function.runtime &&
              text_of(configuration, "Role") == function.role_arn &&
              text_of(configuration, "Handler") == function.handler &&
              member_of(configuration, "Timeout") == function.timeout_seconds &&
              text_of(configuration, "Description") == function.description;
  if (same) {
    say("unchanged: configuration");
  } else {
    change(aws("lambda", "update-function-configuration")
               .option("--function-name", function.name)
               .option("--runtime", function.runtime)
               .option("--role", function.role_arn)
               .option("--handler", function.handler)
               .option("--timeout", std::to_string(function.timeout_seconds))
               .option("--description", function.description));
    ZT_TRY(with_context(
        lambda_.update_function_configuration(function.name, aws::configuration_of(function)),
        "UpdateFunctionConfiguration"));
    ZT_TRY(wait_for_function_update(function.name));
  }
  return function;
}

Status Stack::deploy_permission(const std::string& rule_arn) {
  step("permission for AWS IoT to invoke " + std::string(kJitrFunctionName) + " from the rule");
  // Lambda Developer Guide, "Using resource-based policies": the rule's service principal, scoped
  // to the rule's ARN and the account.
  json statement{{"StatementId", kJitrPermissionId},
                 {"Action", "lambda:InvokeFunction"},
                 {"Principal", "iot.amazonaws.com"},
                 {"SourceArn", rule_arn},
                 {"SourceAccount", account_}};
  auto add = aws("lambda", "add-permission")
                 .option("--function-name", kJitrFunctionName)
                 .option("--statement-id", kJitrPermissionId)
                 .option("--action", "lambda:InvokeFunction")
                 .option("--principal", "iot.amazonaws.com")
                 .option("--source-arn", rule_arn)
                 .option("--source-account", account_);
  if (options_.dry_run) {
    change(add);
    return ok();
  }
  read(aws("lambda", "get-policy").option("--function-name", kJitrFunctionName));
  ZT_TRY_ASSIGN(auto policy, with_context(lambda_.get_policy(kJitrFunctionName), "GetPolicy"));
  bool present = false, current = false;
  if (policy && member_of(*policy, "Statement").is_array()) {
    for (const auto& existing : member_of(*policy, "Statement")) {
      if (!existing.is_object() || text_of(existing, "Sid") != kJitrPermissionId) continue;
      present = true;
      // Lambda stores the statement as a policy: Principal.Service and the SourceArn condition.
      std::string dumped = existing.dump();
      current = dumped.find("iot.amazonaws.com") != std::string::npos &&
                dumped.find("\"" + rule_arn + "\"") != std::string::npos &&
                dumped.find("lambda:InvokeFunction") != std::string::npos;
    }
  }
  if (current) {
    say("unchanged: statement " + std::string(kJitrPermissionId));
    return ok();
  }
  if (present) {
    change(aws("lambda", "remove-permission")
               .option("--function-name", kJitrFunctionName)
               .option("--statement-id", kJitrPermissionId));
    ZT_TRY(with_context(lambda_.remove_permission(kJitrFunctionName, kJitrPermissionId),
                        "RemovePermission"));
  }
  change(add);
  return with_context(lambda_.add_permission(kJitrFunctionName, statement), "AddPermission");
}

Status Stack::deploy_rule(const std::string& function_arn) {
  step("rule " + std::string(kJitrRuleName) + " (seed guide V.3)");
  json payload = jitr_rule_payload(function_arn);
  auto create = aws("iot", "create-topic-rule")
                    .option("--rule-name", kJitrRuleName)
                    .option("--topic-rule-payload", payload.dump());
  if (options_.dry_run) {
    change(create);
    return ok();
  }
  read(aws("iot", "get-topic-rule").option("--rule-name", kJitrRuleName));
  ZT_TRY_ASSIGN(auto existing, with_context(iot_.get_topic_rule(kJitrRuleName), "GetTopicRule"));
  if (!existing) {
    change(create);
    return with_context(iot_.create_topic_rule(kJitrRuleName, payload), "CreateTopicRule");
  }
  const json& rule = member_of(*existing, "rule");
  bool same = text_of(rule, "sql") == payload["sql"] &&
              text_of(rule, "awsIotSqlVersion") == payload["awsIotSqlVersion"] &&
              member_of(rule, "ruleDisabled") != true &&
              member_of(rule, "actions") == payload["actions"];
  if (same) {
    say("unchanged: rule " + std::string(kJitrRuleName));
    return ok();
  }
  change(aws("iot", "replace-topic-rule")
             .option("--rule-name", kJitrRuleName)
             .option("--topic-rule-payload", payload.dump()));
  return with_context(iot_.replace_topic_rule(kJitrRuleName, payload), "ReplaceTopicRule");
}

Result<JitrStackReport> Stack::deploy() {
  if (options_.dry_run) {
    say("# on an account without the stack, with "
        "ACCOUNT_ID=$(aws sts get-caller-identity --query Account --output text)");
  }
  ZT_TRY(deploy_role());
  ZT_TRY_ASSIGN(aws::FunctionDefinition function, deploy_function());
  std::string region = iot_.config().region;
  report_.function_arn = "arn:aws:lambda:" + region + ":" + account_ + ":function:" + function.name;
  report_.rule_arn = "arn:aws:iot:" + region + ":" + account_ + ":rule/" + kJitrRuleName;
  ZT_TRY(deploy_permission(report_.rule_arn));
  ZT_TRY(deploy_rule(report_.function_arn));
  if (options_.dry_run) {
    say(fmt::format("# dry run: {} calls printed, nothing sent", report_.changes));
  } else if (report_.changes == 0) {
    say("deploy-jitr: everything was already deployed; nothing changed");
  } else {
    say(fmt::format("deploy-jitr: {} change(s); rule {} invokes {}", report_.changes,
                    report_.rule_arn, report_.function_arn));
  }
  return report_;
}

// A removal that finds nothing to remove is what a second teardown sees.
Status Stack::gone(Status status, std::string_view what) const {
  if (!status && status.error().code == Errc::not_found) {
    say("already gone: " + std::string(what));
    return ok();
  }
  return with_context(std::move(status), what);
}

Result<JitrStackReport> Stack::teardown() {
  auto remove = [&](const AwsCommand& command, const std::function<Status()>& call,
                    std::string_view what) -> Status {
    say("$ " + command.line());
    if (options_.dry_run) return ok();
    Status status = call();
    if (status) ++report_.changes;
    return gone(std::move(status), what);
  };
  // DeleteTopicRule answers a missing rule with UnauthorizedException (as GetTopicRule does):
  // whether it is there is read first.
  bool rule_exists = true;
  if (!options_.dry_run) {
    read(aws("iot", "get-topic-rule").option("--rule-name", kJitrRuleName));
    ZT_TRY_ASSIGN(auto rule, with_context(iot_.get_topic_rule(kJitrRuleName), "GetTopicRule"));
    rule_exists = rule.has_value();
    if (!rule_exists) say("already gone: " + std::string(kJitrRuleName));
  }
  if (rule_exists) {
    ZT_TRY(remove(
        aws("iot", "delete-topic-rule").option("--rule-name", kJitrRuleName),
        [&] { return iot_.delete_topic_rule(kJitrRuleName); }, kJitrRuleName));
  }
  // Deleting the function deletes its resource policy (the permission) with it.
  ZT_TRY(remove(
      aws("lambda", "delete-function").option("--function-name", kJitrFunctionName),
      [&] { return lambda_.delete_function(kJitrFunctionName); }, kJitrFunctionName));
  // IAM refuses to delete a role that still has policies (DeleteConflict): every managed policy is
  // detached and every inline one deleted first.
  std::vector<std::string> attached{kLambdaBasicExecutionPolicy};
  std::vector<std::string> inline_policies{kJitrRolePolicyName};
  if (!options_.dry_run) {
    read(aws("iam", "list-attached-role-policies").option("--role-name", kJitrRoleName));
    auto listed = iam_.list_attached_role_policies(kJitrRoleName);
    if (!listed && listed.error().code != Errc::not_found) return std::move(listed).error();
    attached = listed ? *listed : std::vector<std::string>{};
    read(aws("iam", "list-role-policies").option("--role-name", kJitrRoleName));
    auto names = iam_.list_role_policies(kJitrRoleName);
    if (!names && names.error().code != Errc::not_found) return std::move(names).error();
    inline_policies = names ? *names : std::vector<std::string>{};
  }
  for (const auto& arn : attached) {
    ZT_TRY(remove(
        aws("iam", "detach-role-policy")
            .option("--role-name", kJitrRoleName)
            .option("--policy-arn", arn),
        [&] { return iam_.detach_role_policy(kJitrRoleName, arn); }, arn));
  }
  for (const auto& name : inline_policies) {
    ZT_TRY(remove(
        aws("iam", "delete-role-policy")
            .option("--role-name", kJitrRoleName)
            .option("--policy-name", name),
        [&] { return iam_.delete_role_policy(kJitrRoleName, name); }, name));
  }
  ZT_TRY(remove(
      aws("iam", "delete-role").option("--role-name", kJitrRoleName),
      [&] { return iam_.delete_role(kJitrRoleName); }, kJitrRoleName));
  if (options_.dry_run) {
    say("# dry run: nothing sent");
  } else if (report_.changes == 0) {
    say("teardown-jitr: nothing was deployed; nothing changed");
  } else {
    say(fmt::format("teardown-jitr: {} resource(s) removed", report_.changes));
  }
  return report_;
}

}  // namespace

std::string lambda_trust_policy() {
  // IAM User Guide, "Creating a role for an AWS service": Lambda's service principal.
  return json{{"Version", "2012-10-17"},
              {"Statement", json::array({{{"Effect", "Allow"},
                                          {"Principal", {{"Service", "lambda.amazonaws.com"}}},
                                          {"Action", "sts:AssumeRole"}}})}}
      .dump();
}

std::string jitr_role_policy() {
  // The seed guide's ZTLambdaJITRPolicy (§III.4e), plus iot:AttachThingPrincipal: our function
  // attaches the thing to the certificate, which the seed's does not.
  return json{
      {"Version", "2012-10-17"},
      {"Statement",
       json::array(
           {{{"Effect", "Allow"},
             {"Action",
              json::array({"iot:UpdateCertificate", "iot:CreatePolicy", "iot:AttachPrincipalPolicy",
                           "iot:CreateThing", "iot:CreateThingType", "iot:DescribeCertificate",
                           "iot:DescribeCaCertificate", "iot:DescribeThing",
                           "iot:DescribeThingType", "iot:GetPolicy", "iot:AttachThingPrincipal"})},
             {"Resource", "*"}}})}}
      .dump();
}

nlohmann::json jitr_rule_payload(std::string_view function_arn) {
  // Seed guide §V.3: any CA's registration events, SQL version 2016-03-23, a lambda action.
  return json{{"sql", "SELECT * FROM '$aws/events/certificates/registered/#'"},
              {"awsIotSqlVersion", "2016-03-23"},
              {"ruleDisabled", false},
              {"actions", json::array({{{"lambda", {{"functionArn", function_arn}}}}})}};
}

Result<JitrStackReport> deploy_jitr_stack(JitrClients clients, const JitrStackOptions& options) {
  return Stack(clients, options).deploy();
}

Result<JitrStackReport> teardown_jitr_stack(JitrClients clients, const JitrStackOptions& options) {
  return Stack(clients, options).teardown();
}

}  // namespace zt::cli
