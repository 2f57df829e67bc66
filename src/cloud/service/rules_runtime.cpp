#include "cloud/service/rules_runtime.hpp"

#include "cloud/jitr/jitr_function.hpp"
#include "cloud/lambda/permissions.hpp"
#include "cloud/service/control_plane.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::service {
namespace {

using nlohmann::json;

// Threads for the built-in function: as many registrations can be waiting for a group commit at
// once (Registry::grouped_transaction); they spend that time blocked, not on a core.
constexpr size_t kBuiltinFunctionThreads = 4;

// A rule's output as text. SELECT * of a payload that is not JSON passes the raw bytes on as a JSON
// string, which need not be UTF-8: dump() would throw type_error on it, so invalid bytes become
// U+FFFD (found by fuzz/hostile_documents).
std::string output_text(const json& output) {
  return output.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_certificate_id(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The device a rule's input is about: the certificate named by an event (the JITR registration
// event's certificateId), else the publishing client's certificate; "" when neither.
std::string device_of(const json& output, const rules::MessageContext& message) {
  if (output.is_object()) {
    auto id = output.find("certificateId");
    if (id != output.end() && id->is_string() && is_certificate_id(id->get<std::string>()))
      return id->get<std::string>();
  }
  return is_certificate_id(message.principal) ? message.principal : std::string();
}

}  // namespace

Status register_function(registry::Registry& registry, const std::string& name,
                         const std::string& command, std::chrono::seconds timeout) {
  // Lambda function names: [a-zA-Z0-9-_]{1,64}.
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
          std::string::npos) {
    return make_error(Errc::invalid_argument,
                      "function name '" + name + "' must match [a-zA-Z0-9-_]{1,64}");
  }
  if (command.empty()) return make_error(Errc::invalid_argument, "--exec must not be empty");
  if (timeout.count() < 1 || timeout.count() > 900)
    return make_error(Errc::invalid_argument, "function timeout must be 1-900 seconds");
  return registry.transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto existing, registry.find_lambda_function(name));
    registry::LambdaFunction function =
        existing.value_or(registry::LambdaFunction{.name = name,
                                                   .runtime = "provided",
                                                   .handler = "command",
                                                   .role = "",
                                                   .command = std::nullopt,
                                                   .code_sha256 = "",
                                                   .code_size = 0});
    function.runtime = "provided";
    function.command = command;
    function.timeout = timeout.count();
    function.last_modified = lambda::last_modified_now();
    function.revision_id = new_uuid();
    if (existing) {
      // The command replaces a package the function may have had.
      function.code_sha256.clear();
      function.code_size = 0;
      ZT_TRY(registry.update_lambda_function(function, std::span<const uint8_t>()));
    } else {
      ZT_TRY(registry.insert_lambda_function(function, {}));
    }
    return grant_rules_invoke(registry, name);
  });
}

Status grant_rules_invoke(registry::Registry& registry, const std::string& function_name) {
  return registry.transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto statements, registry.lambda_permissions(function_name));
    for (const auto& statement : statements) {
      if (statement.sid == kRulesStatementId) return ok();
    }
    ZT_TRY_ASSIGN(auto region, registry.get_setting("region"));
    ZT_TRY_ASSIGN(auto account, registry.get_setting("account_id"));
    std::string arn =
        lambda::function_arn(region.value_or(""), account.value_or(""), function_name);
    json statement = lambda::permission_statement({.statement_id = kRulesStatementId,
                                                   .action = "lambda:InvokeFunction",
                                                   .principal = "iot.amazonaws.com"},
                                                  arn);
    return registry.add_lambda_permission(
        {.function_name = function_name, .sid = kRulesStatementId, .statement = statement.dump()});
  });
}

Result<std::optional<std::string>> find_function(registry::Registry& registry,
                                                 const std::string& name) {
  ZT_TRY_ASSIGN(auto function, registry.find_lambda_function(name));
  if (!function || !function->command) return std::optional<std::string>();
  return function->command;
}

Result<std::vector<json>> recent_invocations(registry::Registry& registry, int limit) {
  ZT_TRY_ASSIGN(auto attempts, registry.recent_function_invocations(limit));
  std::vector<json> out;
  out.reserve(attempts.size());
  for (const auto& attempt : attempts) {
    out.push_back({{"invocationId", attempt.invocation_id},
                   {"functionName", attempt.function_name},
                   {"ruleName", attempt.rule_name},
                   {"attempt", attempt.attempt},
                   {"succeeded", attempt.succeeded},
                   {"final", attempt.final},
                   {"detail", attempt.detail},
                   {"startedMs", attempt.started_ms},
                   {"durationMs", attempt.duration_ms}});
  }
  return out;
}

json jitr_rule_payload(const AccountInfo& account, const std::string& function_name) {
  std::string arn =
      "arn:aws:lambda:" + account.region + ":" + account.account_id + ":function:" + function_name;
  return {{"sql", "SELECT * FROM '$aws/events/certificates/registered/#'"},
          {"description", "Zero Touch just-in-time registration (seed guide section V)"},
          {"ruleDisabled", false},
          {"awsIotSqlVersion", "2016-03-23"},
          {"actions", json::array({{{"lambda", {{"functionArn", arn}}}}})}};
}

RulesRuntime::RulesRuntime(registry::Registry& registry, AccountInfo account,
                           FunctionEnvironment environment, Republish republish,
                           functions::RetryPolicy retry, events::EventRecorder* recorder)
    : registry_(registry),
      account_(std::move(account)),
      environment_(std::move(environment)),
      republish_(std::move(republish)),
      recorder_(recorder),
      invoker_(registry, {.code_cache = environment_.code_cache.empty()
                                            ? std::filesystem::temp_directory_path() /
                                                  ("zt-lambda-" + account_.account_id)
                                            : environment_.code_cache,
                          .cloud = {.endpoint_url = environment_.endpoint_url,
                                    .access_key_id = environment_.access_key_id,
                                    .secret_access_key = environment_.secret_access_key,
                                    .region = environment_.region},
                          .account_id = account_.account_id,
                          .zip_limits = {},
                          .async_workers = 1,
                          .retry = retry}),
      dispatcher_(2, retry,
                  [this](const functions::AttemptRecord& attempt) { record(attempt, true); }),
      builtin_(kBuiltinFunctionThreads, retry,
               [this](const functions::AttemptRecord& attempt) { record(attempt, true); }) {
  registry_.add_change_listener(
      [writes = rule_writes_](const std::vector<registry::Change>& changes) {
        for (const auto& change : changes) {
          if (change.kind == registry::Change::Kind::topic_rule) {
            writes->fetch_add(1, std::memory_order_acq_rel);
            return;
          }
        }
      });
}

RulesRuntime::~RulesRuntime() { stop(); }

void RulesRuntime::set_endpoint_url(std::string url) {
  {
    std::lock_guard lock(environment_mutex_);
    environment_.endpoint_url = url;
  }
  invoker_.set_endpoint_url(std::move(url));
}

void RulesRuntime::drain() {
  // Neither queues work on the other, so draining one after the other leaves both idle.
  builtin_.drain();
  dispatcher_.drain();
}
void RulesRuntime::stop() {
  builtin_.stop();
  dispatcher_.stop();
  invoker_.stop();
}

thread_local const RulesRuntime::Origin* RulesRuntime::inline_origin_ = nullptr;

void RulesRuntime::record(const functions::AttemptRecord& attempt, bool log) {
  if (!log) {
  } else if (attempt.succeeded) {
    spdlog::info("function {} ({}) attempt {} succeeded in {} ms", attempt.function_name,
                 attempt.invocation_id, attempt.attempt, attempt.duration_ms);
  } else {
    spdlog::warn("function {} ({}) attempt {} failed{}: {}", attempt.function_name,
                 attempt.invocation_id, attempt.attempt,
                 attempt.final ? " (giving up)" : ", will retry", attempt.detail);
  }
  Origin origin;
  {
    std::lock_guard lock(origins_mutex_);
    if (auto found = origins_.find(attempt.invocation_id); found != origins_.end()) {
      origin = found->second;
      if (attempt.final) origins_.erase(found);
    } else if (inline_origin_ != nullptr) {
      // A dropped invocation (record_drop), reported on this thread.
      origin = *inline_origin_;
      if (!attempt.final) origins_[attempt.invocation_id] = origin;
    }
  }
  // function-invoked was noted by the handler wrapper (run_action) as the attempt began.
  note(origin.certificate_id,
       attempt.succeeded ? events::kFunctionSucceeded : events::kFunctionFailed,
       attempt.function_name + " attempt " + std::to_string(attempt.attempt) + ": " +
           attempt.detail + (attempt.succeeded || attempt.final ? "" : " (will retry)"));
  // A diagnostic record (Registry::record_function_invocation): committed without waiting for an
  // fsync, so logging does not hold the registry for a disk flush.
  auto stored = registry_.record_function_invocation({.invocation_id = attempt.invocation_id,
                                                      .function_name = attempt.function_name,
                                                      .rule_name = origin.rule_name,
                                                      .certificate_id = origin.certificate_id,
                                                      .thing_name = std::nullopt,
                                                      .attempt = attempt.attempt,
                                                      .succeeded = attempt.succeeded,
                                                      .final = attempt.final,
                                                      .detail = attempt.detail,
                                                      .started_ms = attempt.started_ms,
                                                      .duration_ms = attempt.duration_ms});
  if (!stored)
    spdlog::error("recording invocation {}: {}", attempt.invocation_id, stored.error().message);
}

void RulesRuntime::note(std::string certificate_id, const char* kind, std::string detail) {
  if (!recorder_ || certificate_id.empty()) return;
  recorder_->record(std::move(certificate_id), kind, std::move(detail));
}

void RulesRuntime::check_other_writers() {
  auto read = registry_.data_version();
  task_data_version_.store(read ? *read : -1, std::memory_order_release);
}

std::vector<std::shared_ptr<const rules::Rule>> RulesRuntime::current_rules() {
  // Listed again only when a rule changed since (every message used to list them): read before
  // listing, so a change committed meanwhile makes the next message list them again.
  uint64_t writes = rule_writes_->load(std::memory_order_acquire);
  std::optional<int64_t> version;
  if (!per_task_) {
    if (auto read = registry_.data_version()) version = *read;
  } else if (int64_t read = task_data_version_.load(std::memory_order_acquire); read >= 0) {
    version = read;
  }
  if (version) {
    std::lock_guard lock(rules_mutex_);
    if (listed_at_ && *listed_at_ == std::pair(writes, *version)) return listed_;
  }
  std::vector<std::shared_ptr<const rules::Rule>> out;
  auto stored = registry_.get_topic_rules();
  if (!stored) {
    spdlog::error("rules: {}", stored.error().message);
    return out;
  }
  std::lock_guard lock(rules_mutex_);
  std::map<std::string, std::pair<std::string, std::shared_ptr<const rules::Rule>>> compiled;
  for (const auto& rule : *stored) {
    // Recompiled only when the stored payload changed (ReplaceTopicRule).
    if (auto it = compiled_.find(rule.name);
        it != compiled_.end() && it->second.first == rule.payload) {
      compiled.insert(*it);
    } else {
      // A rule stored by an older build (before CreateTopicRule validated with this parser) may
      // not compile: it is logged and skipped, never run.
      auto payload = parse_json(rule.payload);
      auto parsed =
          payload ? rules::parse_rule(rule.name, *payload) : Result<rules::Rule>(payload.error());
      if (!parsed) {
        spdlog::warn("rules: rule {} does not compile: {}", rule.name, parsed.error().message);
        continue;
      }
      compiled[rule.name] = {rule.payload, std::make_shared<const rules::Rule>(std::move(*parsed))};
    }
    out.push_back(compiled[rule.name].second);
  }
  compiled_ = std::move(compiled);
  listed_ = out;
  if (version) {
    listed_at_.emplace(writes, *version);
  } else {
    listed_at_.reset();
  }
  return out;
}

void RulesRuntime::on_message(const rules::MessageContext& message, MessageOrigin origin) {
  // Basic Ingest (§6.1): `$aws/rules/<rule>/<topic>` goes to that rule only, matched without the
  // prefix.
  std::optional<std::string> only_rule;
  rules::MessageContext effective = message;
  if (message.topic.starts_with("$aws/rules/")) {
    std::string rest = message.topic.substr(11);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return;
    only_rule = rest.substr(0, slash);
    effective.topic = rest.substr(slash + 1);
  }
  for (const auto& rule : current_rules()) {
    if (rule->disabled || (only_rule && *only_rule != rule->name)) continue;
    if (!mqtt::topic_matches(rule->query.topic_filter(), effective.topic)) continue;
    // One rule that fails on a message (a payload the SQL cannot serialise, say) must not keep
    // the message from the other rules: logged, and the next rule runs.
    try {
      auto output = rule->query.evaluate(effective);
      if (!output) continue;
      note(device_of(*output, effective), events::kRuleMatched,
           "rule " + rule->name + " matched " + effective.topic);
      for (const auto& action : rule->actions)
        run_action(*rule, action, *output, effective, origin);
    } catch (const std::exception& e) {
      spdlog::error("rule {}: message on {} skipped: {}", rule->name, effective.topic, e.what());
    }
  }
}

void RulesRuntime::run_action(const rules::Rule& rule, const rules::Action& action,
                              const json& output, const rules::MessageContext& message,
                              MessageOrigin origin) {
  if (const auto* republish = std::get_if<rules::RepublishAction>(&action)) {
    auto topic = rules::expand_template(republish->topic, message);
    if (!topic) {
      spdlog::warn("rule {}: republish topic: {}", rule.name, topic.error().message);
      return;
    }
    // A template may expand to no topic (${get_mqtt_property('response_topic')} of a message
    // without one): that republish fails, the other actions run.
    if (auto valid = mqtt::validate_topic_name(*topic); !valid) {
      spdlog::warn("rule {}: republish topic: {}", rule.name, valid.error().message);
      return;
    }
    // MQTT 5: the triggering message's user properties, then the action's headers (expanded).
    auto properties = rules::publish_properties(republish->headers, message);
    if (!properties) {
      spdlog::warn("rule {}: republish headers: {}", rule.name, properties.error().message);
      return;
    }
    republish_({*topic, output.is_string() ? output.get<std::string>() : output_text(output),
                static_cast<uint8_t>(republish->qos), false, std::move(*properties)});
    return;
  }
  std::string function_name;
  functions::Dispatcher::Handler handler;
  bool in_process = false;
  if (const auto* lambda = std::get_if<rules::LambdaAction>(&action)) {
    auto arn = rules::expand_template(lambda->function_arn, message);
    auto name = arn ? rules::lambda_function_name(*arn) : std::nullopt;
    function_name = name.value_or(lambda->function_arn);
    if (!name) {
      handler = [arn = lambda->function_arn](const json&) -> Status {
        return make_error(Errc::invalid_argument, "'" + arn + "' is not a Lambda function ARN");
      };
    } else if (auto resolved = resolve(*name, rule.name); resolved) {
      handler = std::move(resolved->handler);
      in_process = resolved->in_process;
      if (in_process && origin != MessageOrigin::broker) {
        // The built-in JITR function registers what the broker saw at a TLS handshake, never what a
        // client says it saw: a forged registration event (a will, Basic Ingest to this rule, an
        // HTTP Publish) is refused before it reads the registry.
        handler = [topic = message.topic, client = message.client_id](const json&) -> Status {
          return make_error(Errc::permission, "event on '" + topic + "' was published by client '" +
                                                  client + "', not emitted by the broker: ignored");
        };
      }
    } else {
      handler = [error = resolved.error()](const json&) -> Status { return error; };
    }
  } else {
    function_name = std::get<rules::UnsupportedAction>(action).type;
    handler = [type = function_name](const json&) -> Status {
      return make_error(Errc::unsupported,
                        "rule action '" + type + "' is not supported by the local cloud");
    };
  }
  // Each attempt notes function-invoked as it begins, so the timeline orders it before what the
  // function changes (the registry triggers' rows).
  std::string device = device_of(output, message);
  handler = [this, inner = std::move(handler), device,
             what = function_name + " invoked by rule " + rule.name](const json& event) {
    note(device, events::kFunctionInvoked, what);
    return inner(event);
  };
  // Failures show up as attempt records, like an asynchronous Lambda invocation's. The built-in
  // function runs on its own threads (builtin_), never on this worker: the worker goes on with the
  // next event while a registration waits for its fsync, and the registrations of devices
  // connecting at the same moment share one commit. (Run here, every registration's fsync was
  // serialised on the worker: ~1 / (its CPU + one fsync) registrations a second at most.)
  functions::Dispatcher& dispatcher = in_process ? builtin_ : dispatcher_;
  // One waiting invocation per function and device (or identical event): a device that repeats its
  // registration event while the queue is busy adds nothing (functions::Dispatcher).
  std::string dedupe_key = device.empty() ? output.dump() : device;
  // A forged event waiting for the built-in function (it fails at once) must not make the broker's
  // genuine event for the same device a duplicate.
  if (in_process && origin != MessageOrigin::broker) dedupe_key = "forged\n" + dedupe_key;
  Result<std::string> id = make_error(Errc::internal, "not submitted");
  {
    // The origin is stored under the lock record() takes, so even an instant first attempt finds
    // it.
    std::lock_guard lock(origins_mutex_);
    id = dispatcher.submit(function_name, output, std::move(handler), dedupe_key);
    if (id) origins_[*id] = {rule.name, device};
  }
  if (!id) record_drop(function_name, rule.name, device, id.error().message);
}

void RulesRuntime::record_drop(const std::string& function_name, const std::string& rule_name,
                               const std::string& device, const std::string& why) {
  // Logged at most once a second (a flood of drops is one line), but every drop is in the
  // invocation log and the device's timeline, as a failed final attempt 0.
  if (drop_log_.admit(std::chrono::steady_clock::now(), 1)) {
    spdlog::warn("function {} (rule {}) invocation {}", function_name, rule_name, why);
  }
  functions::AttemptRecord attempt{.function_name = function_name,
                                   .invocation_id = "dropped-" + std::to_string(unix_now_ms()),
                                   .attempt = 0,
                                   .succeeded = false,
                                   .final = true,
                                   .detail = why,
                                   .started_ms = unix_now_ms(),
                                   .duration_ms = 0};
  Origin origin{rule_name, device};
  inline_origin_ = &origin;
  record(attempt, false);
  inline_origin_ = nullptr;
}

Result<RulesRuntime::Resolved> RulesRuntime::resolve(const std::string& function_name,
                                                     const std::string& rule_name) {
  ZT_TRY_ASSIGN(auto function, registry_.find_lambda_function(function_name));
  if (!function && function_name != kBuiltinJitrFunction) {
    return make_error(Errc::not_found, "function " + function_name +
                                           " does not exist (aws lambda create-function, or ztp "
                                           "cloud function add " +
                                           function_name + " --exec CMD)");
  }
  // AWS IoT invokes the function only if its resource-based policy lets it (AWS IoT developer
  // guide, "Lambda" action: the rule needs lambda:InvokeFunction for iot.amazonaws.com). Refused
  // is final: another attempt cannot change it (Errc::permission is not retried).
  ZT_TRY_ASSIGN(auto permissions, registry_.lambda_permissions(function_name));
  std::vector<std::string> statements;
  for (const auto& permission : permissions) statements.push_back(permission.statement);
  std::string rule_arn = account_.arn("rule/" + rule_name);
  if (!lambda::allows(statements, "lambda:InvokeFunction", "iot.amazonaws.com", rule_arn,
                      account_.account_id)) {
    return make_error(Errc::permission,
                      "the resource-based policy of function " + function_name +
                          " does not allow iot.amazonaws.com to lambda:InvokeFunction for " +
                          rule_arn + " (aws lambda add-permission --function-name " +
                          function_name +
                          " --statement-id iot-rules --action lambda:InvokeFunction --principal "
                          "iot.amazonaws.com)");
  }
  if (function) {
    return Resolved{.handler = [this, function_name](const json& event) -> Status {
                      std::string request_id = new_uuid();
                      ZT_TRY_ASSIGN(auto outcome, invoker_.execute(function_name,
                                                                   output_text(event), request_id));
                      if (!outcome.function_error) return ok();
                      return make_error(Errc::internal, lambda::outcome_detail(outcome));
                    },
                    .in_process = false};
  }
  if (function_name == kBuiltinJitrFunction) {
    // All of the function's writes in one transaction: one commit (one fsync, shared with
    // concurrent registrations by the group commit) instead of one per step, and a failed attempt
    // leaves nothing half-done for the retry.
    return Resolved{.handler = [this](const json& event) -> Status {
                      RegistryControlPlane plane(registry_);
                      jitr::Registration registration;
                      ZT_TRY(registry_.grouped_transaction([&]() -> Status {
                        ZT_TRY_ASSIGN(registration, jitr::register_device(event, account_.region,
                                                                          plane, &recent_key_ids_));
                        return ok();
                      }));
                      spdlog::info("jitr: certificate {} ACTIVE, thing {}, policy {}",
                                   registration.certificate_id, registration.thing_name,
                                   registration.policy_name);
                      return ok();
                    },
                    .in_process = true};
  }
  return make_error(Errc::not_found, "function " + function_name + " does not exist");
}

}  // namespace zt::cloud::service
