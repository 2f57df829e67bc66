// `ztp cloud function add|log` and `ztp cloud setup-jitr`: configure the data plane of a
// local cloud's state directory. They write the registry directly (SQLite WAL: safe while
// `ztp cloud run` is serving; the running cloud reads rules and functions on every message).
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.hpp"
#include "cli/steps.hpp"
#include "cloud/rules/rule.hpp"
#include "cloud/service/rules_runtime.hpp"
#include "cloud/state.hpp"
#include "common/time.hpp"

namespace zt::cli {
namespace {

struct FunctionOptions {
  std::string state_dir;
  std::string name;
  std::string command;
  int timeout_seconds = 30;
  int limit = 20;
};

struct SetupJitrOptions {
  std::string state_dir;
  std::string function = cloud::service::kBuiltinJitrFunction;
};

// An existing state directory only: these commands must not create a new account by accident.
Result<cloud::CloudState> open_existing(const std::string& dir) {
  if (!std::filesystem::exists(std::filesystem::path(dir) / "registry.db")) {
    return make_error(
        Errc::not_found,
        "no local cloud in '" + dir + "' (start one with ztp cloud run --state-dir " + dir + ")");
  }
  return cloud::open_cloud_state(dir, "us-east-1");
}

Status function_add(const FunctionOptions& options) {
  ZT_TRY_ASSIGN(auto state, open_existing(options.state_dir));
  ZT_TRY(cloud::service::register_function(*state.registry, options.name, options.command,
                                           std::chrono::seconds(options.timeout_seconds)));
  fmt::print("function {} = {} (timeout {} s)\narn:aws:lambda:{}:{}:function:{}\n", options.name,
             options.command, options.timeout_seconds, state.region, state.account_id,
             options.name);
  return ok();
}

Status function_log(const FunctionOptions& options) {
  ZT_TRY_ASSIGN(auto state, open_existing(options.state_dir));
  ZT_TRY_ASSIGN(auto attempts, cloud::service::recent_invocations(*state.registry, options.limit));
  for (const auto& attempt : attempts) fmt::print("{}\n", attempt.dump());
  return ok();
}

}  // namespace

Status setup_jitr(const std::string& state_dir, const std::string& function) {
  ZT_TRY_ASSIGN(auto state, open_existing(state_dir));
  cloud::service::AccountInfo account{state.account_id, state.region};
  nlohmann::json payload = cloud::service::jitr_rule_payload(account, function);
  ZT_TRY(cloud::rules::parse_rule(cloud::service::kJitrRuleName, payload));
  auto& registry = *state.registry;
  ZT_TRY(registry.transaction([&]() -> Status {
    // The rule may invoke the function only with its permission (as on AWS): granted here, as
    // `aws lambda add-permission --principal iot.amazonaws.com` would.
    ZT_TRY(cloud::service::grant_rules_invoke(registry, function));
    ZT_TRY_ASSIGN(auto existing, registry.find_topic_rule(cloud::service::kJitrRuleName));
    if (existing) return registry.replace_topic_rule(cloud::service::kJitrRuleName, payload.dump());
    return registry.insert_topic_rule({.name = cloud::service::kJitrRuleName,
                                       .payload = payload.dump(),
                                       .created_at = unix_now_seconds()});
  }));
  fmt::print("rule {}: {} -> {}\n", cloud::service::kJitrRuleName,
             payload["sql"].get<std::string>(),
             payload["actions"][0]["lambda"]["functionArn"].get<std::string>());
  return ok();
}

void register_cloud_service_commands(CLI::App& cloud) {
  auto function_options = std::make_shared<FunctionOptions>();
  auto* function = cloud.add_subcommand("function", "Functions that rule lambda actions invoke");
  function->require_subcommand(1);
  auto* add = function->add_subcommand(
      "add",
      "Create (or replace) the `provided` Lambda function NAME running a command, with the "
      "permission that lets rules (iot.amazonaws.com) invoke it");
  add->add_option("name", function_options->name, "Function name (the last part of the Lambda ARN)")
      ->required();
  add->add_option("--exec", function_options->command,
                  "Command run by /bin/sh -c with the event JSON on stdin and AWS_ENDPOINT_URL, "
                  "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION of the local cloud")
      ->required();
  add->add_option("--state-dir", function_options->state_dir, "State directory of the local cloud")
      ->required();
  add->add_option("--timeout", function_options->timeout_seconds,
                  "Seconds an invocation may run before its process group is killed (Lambda's "
                  "Timeout: 1-900)")
      ->check(CLI::Range(1, 900))
      ->capture_default_str();
  add->callback(run_command([function_options] { return function_add(*function_options); }));
  auto* log =
      function->add_subcommand("log", "Recent invocation attempts (newest first, JSON lines)");
  log->add_option("--state-dir", function_options->state_dir, "State directory of the local cloud")
      ->required();
  log->add_option("--limit", function_options->limit, "How many attempts")->capture_default_str();
  log->callback(run_command([function_options] { return function_log(*function_options); }));

  auto jitr_options = std::make_shared<SetupJitrOptions>();
  auto* jitr = cloud.add_subcommand(
      "setup-jitr", "Create the rule ZeroTouchJustInTimeRegistration (seed guide §V)");
  jitr->add_option("--state-dir", jitr_options->state_dir, "State directory of the local cloud")
      ->required();
  jitr->add_option("--function", jitr_options->function, "Function the rule invokes")
      ->capture_default_str();
  jitr->callback(run_command(
      [jitr_options] { return setup_jitr(jitr_options->state_dir, jitr_options->function); }));
}

}  // namespace zt::cli
