// Invoking the local cloud's Lambda functions by name: the function and its code read from the
// registry, the zip extracted once per CodeSha256 into the code cache (<state>/lambda/code/<hex>),
// the run (runtime.hpp), and the attempt recorded in the invocation log (`ztp cloud function log`,
// the console). Invoke (RequestResponse) runs on the caller's thread, which must not hold a
// registry transaction while the function runs (it may call the local cloud's API); Invoke (Event)
// is queued and retried as AWS retries an asynchronous invocation (twice).
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

#include "cloud/functions/dispatcher.hpp"
#include "cloud/lambda/runtime.hpp"
#include "cloud/lambda/zip_archive.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::lambda {

// arn:aws:lambda:<region>:<account>:function:<name>
std::string function_arn(const std::string& region, const std::string& account_id,
                         const std::string& name);
// Lambda's LastModified: 2024-01-31T12:00:00.000+0000.
std::string last_modified_now();

struct InvokerOptions {
  std::filesystem::path code_cache;  // extracted packages, one directory per CodeSha256
  CloudEndpoint cloud{};
  std::string account_id{};
  ZipLimits zip_limits{};
  size_t async_workers = 2;
  // Event invocations waiting (each up to 1 MB of payload): a full queue is TooManyRequests.
  size_t max_queued = 200;
  functions::RetryPolicy retry{};
};

class Invoker {
 public:
  Invoker(registry::Registry& registry, InvokerOptions options);
  ~Invoker();
  Invoker(const Invoker&) = delete;
  Invoker& operator=(const Invoker&) = delete;

  void set_endpoint_url(std::string url);
  const std::string& region() const { return options_.cloud.region; }
  const std::string& account_id() const { return options_.account_id; }

  // Runs the function once; Errc::not_found when there is no such function. Records nothing.
  Result<Outcome> execute(const std::string& name, std::string_view event,
                          const std::string& request_id);
  // execute, recorded in the invocation log as one final attempt.
  Result<Outcome> invoke(const std::string& name, std::string_view event,
                         const std::string& request_id);
  // Queued (Invoke with InvocationType Event): the request id at once; every attempt recorded.
  Result<std::string> invoke_async(const std::string& name, std::string event);
  void drain();
  void stop();

 private:
  Result<FunctionSpec> prepare(const registry::LambdaFunction& function);
  Result<std::filesystem::path> code_directory(const registry::LambdaFunction& function);
  void record(const std::string& name, const std::string& request_id, int attempt, bool succeeded,
              bool final, const std::string& detail, int64_t started_ms, int64_t duration_ms);
  CloudEndpoint cloud();

  registry::Registry& registry_;
  InvokerOptions options_;
  std::mutex cloud_mutex_;
  functions::Dispatcher dispatcher_;  // last: its threads stop before the members above go
};

// The one-line summary of an outcome for the invocation log.
std::string outcome_detail(const Outcome& outcome);

}  // namespace zt::cloud::lambda
