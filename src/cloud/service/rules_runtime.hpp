// The rules engine at run time (reference/aws-iot.md §7): every message (client PUBLISH, HTTP
// Publish, broker-originated events such as the JITR registration event) is matched against the
// FROM filter of every enabled rule; the SELECT output goes to the rule's actions.
//  - republish: to the broker (templates expanded; not fed back into the rules, to avoid loops).
//  - lambda: a registered function, invoked through functions::Dispatcher (retried with backoff):
//    external ones asynchronously on its threads, the built-in one's first attempt on the calling
//    (service worker) thread. Functions: a Lambda function of the registry (created with the Lambda
//    API, or a `provided` one with a command by `ztp cloud function add`; run by cloud/lambda),
//    else the built-in ZTLambdaJITR (cloud/jitr over the registry). As on AWS, the rule may invoke
//    it only when the function's resource-based policy allows lambda:InvokeFunction to
//    iot.amazonaws.com (for this rule's ARN and account, when the statement says); otherwise the
//    invocation is a failed attempt that says so.
// Every attempt is recorded in the table `function_invocations` (a registry migration; `ztp cloud
// function log`), with the rule and the device (certificate id) it was for; with an EventRecorder,
// the device's timeline also gets rule-matched, function-invoked and function-succeeded /
// function-failed.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/rate_limit.hpp"
#include "cloud/events/recorder.hpp"
#include "cloud/functions/dispatcher.hpp"
#include "cloud/jitr/jitr_function.hpp"
#include "cloud/lambda/invoker.hpp"
#include "cloud/registry/registry.hpp"
#include "cloud/rules/rule.hpp"
#include "cloud/service/auth.hpp"
#include "cloud/service/shadows.hpp"

namespace zt::cloud::service {

inline constexpr const char* kBuiltinJitrFunction = "ZTLambdaJITR";
inline constexpr const char* kJitrRuleName = "ZeroTouchJustInTimeRegistration";

// The AWS_* variables an external function gets: the local cloud's API and credentials; and where
// function packages are extracted (<state>/lambda/code; "" = a directory under the system's temp).
struct FunctionEnvironment {
  std::string endpoint_url;
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  std::filesystem::path code_cache{};
};

// `ztp cloud function add`: a `provided` Lambda function that runs `command` (created, or its
// command and timeout replaced), granted lambda:InvokeFunction for iot.amazonaws.com (statement
// kRulesStatementId) so rules may invoke it. Lambda's Timeout, 1–900 s, default here 30 s.
inline constexpr std::chrono::seconds kDefaultFunctionTimeout{30};
inline constexpr const char* kRulesStatementId = "ztp-iot-rules";
Status register_function(registry::Registry& registry, const std::string& name,
                         const std::string& command,
                         std::chrono::seconds timeout = kDefaultFunctionTimeout);
// The command of a function added by `function add` (nullopt: no such function, or one with code).
Result<std::optional<std::string>> find_function(registry::Registry& registry,
                                                 const std::string& name);
// Adds (once) the statement allowing AWS IoT's rules to invoke `function_name` — what `aws lambda
// add-permission --principal iot.amazonaws.com --action lambda:InvokeFunction` adds. Also for the
// built-in ZTLambdaJITR, which has no function record (`ztp cloud setup-jitr`). The statement's
// Resource names the account and region of the registry's settings.
Status grant_rules_invoke(registry::Registry& registry, const std::string& function_name);
// The most recent attempts, newest first, as JSON objects.
Result<std::vector<nlohmann::json>> recent_invocations(registry::Registry& registry, int limit);
// The JITR rule of the seed guide §V: SELECT * FROM '$aws/events/certificates/registered/#' →
// lambda.
nlohmann::json jitr_rule_payload(const AccountInfo& account, const std::string& function_name);

// Who put a message on the bus. Only the broker's own events (the registration event, lifecycle
// events, shadow responses) are `broker`; a client's PUBLISH, will or Basic Ingest message, an
// HTTP Publish and a rule's republish are `client`, whatever their topic and payload say.
enum class MessageOrigin { client, broker };

class RulesRuntime {
 public:
  using Republish = std::function<void(Outgoing)>;
  RulesRuntime(registry::Registry& registry, AccountInfo account, FunctionEnvironment environment,
               Republish republish, functions::RetryPolicy retry = {},
               events::EventRecorder* recorder = nullptr);
  ~RulesRuntime();

  void set_endpoint_url(std::string url);
  // Matches and runs rules for one message. Call from a worker thread, never holding broker locks.
  // The built-in JITR function acts only on messages of `broker` origin (an event is not a
  // capability); from anyone else its invocation is a logged failure.
  void on_message(const rules::MessageContext& message,
                  MessageOrigin origin = MessageOrigin::client);
  // Rules another process writes (`ztp cloud setup-jitr` next to `ztp cloud run`) show in PRAGMA
  // data_version, read before every message by default. A caller that handles messages in tasks
  // (the service worker) calls check_other_writers_per_task() once, then check_other_writers() at
  // the start of each task: one read per task instead of one per message.
  void check_other_writers_per_task() { per_task_ = true; }
  void check_other_writers();
  void drain();
  void stop();
  // Lambda's Invoke over the registry's functions (the provisioning templates' pre-provisioning
  // hooks run through it too).
  lambda::Invoker& invoker() { return invoker_; }
  // Where the authenticator notes the key ids of the certificates it registers, for the built-in
  // function.
  jitr::RecentKeyIds& recent_key_ids() { return recent_key_ids_; }

 private:
  std::vector<std::shared_ptr<const rules::Rule>> current_rules();
  void run_action(const rules::Rule& rule, const rules::Action& action,
                  const nlohmann::json& output, const rules::MessageContext& message,
                  MessageOrigin origin);
  struct Resolved {
    functions::Dispatcher::Handler handler;
    bool in_process = false;  // the built-in function: runs on builtin_'s threads
  };
  Result<Resolved> resolve(const std::string& function_name, const std::string& rule_name);
  void record(const functions::AttemptRecord& attempt, bool log);
  // An invocation the dispatcher did not queue (a duplicate, or the queue was full).
  void record_drop(const std::string& function_name, const std::string& rule_name,
                   const std::string& device, const std::string& why);
  void note(std::string certificate_id, const char* kind, std::string detail);

  // What an invocation was for (invocation id → rule, certificate id), until its final attempt.
  struct Origin {
    std::string rule_name;
    std::string certificate_id;
  };
  // Set while record_drop reports an invocation that never got an id.
  static thread_local const Origin* inline_origin_;

  registry::Registry& registry_;
  AccountInfo account_;
  std::mutex environment_mutex_;
  FunctionEnvironment environment_;
  Republish republish_;
  std::mutex rules_mutex_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<const rules::Rule>>>
      compiled_;  // name → (payload, rule)
  // The rules as last listed, kept until a topic rule changes: this process's writes raise
  // `rule_writes_` (a change listener; shared, as the registry keeps its listeners for good),
  // another process's show in PRAGMA data_version. Under rules_mutex_.
  std::shared_ptr<std::atomic<uint64_t>> rule_writes_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::vector<std::shared_ptr<const rules::Rule>> listed_;
  std::optional<std::pair<uint64_t, int64_t>> listed_at_;  // (rule_writes_, data_version)
  std::atomic<bool> per_task_{false};
  std::atomic<int64_t> task_data_version_{-1};  // -1: unknown (the read failed): list again
  events::EventRecorder* recorder_;
  std::mutex origins_mutex_;
  std::map<std::string, Origin> origins_;
  broker::RateWindow drop_log_;  // on_message's thread (the service worker)
  jitr::RecentKeyIds recent_key_ids_;
  lambda::Invoker invoker_;
  functions::Dispatcher dispatcher_;  // last: its threads stop before the members above go
  // The built-in JITR function's invocations, off the service worker: each waits for its commit's
  // fsync, and registrations in flight at once share one commit (Registry::grouped_transaction)
  // instead of queueing behind each other's fsync on the one worker.
  functions::Dispatcher builtin_;
};

}  // namespace zt::cloud::service
