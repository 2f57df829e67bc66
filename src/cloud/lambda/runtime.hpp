// Runs one invocation of a function, as Lambda's runtimes do, in its own process group with its
// Timeout enforced (functions::run_process):
//  - python3.x: the machine's python3 with our bootstrap (python_bootstrap.hpp) in the extracted
//    code directory: the handler module imported, called with the event and a context object; the
//    AWS SDK in the function pointed back at the local cloud.
//  - provided / provided.al2 / provided.al2023: the package's `bootstrap` executable, or a command
//    (`ztp cloud function add --exec`) run by /bin/sh -c. Unlike AWS's custom runtimes (which poll
//    the Runtime API), it gets the event on stdin and answers on stdout; exit 0 is success.
// The function's environment is what Lambda sets (AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, _HANDLER,
// LAMBDA_TASK_ROOT, credentials, ...) plus its Environment variables, and AWS_ENDPOINT_URL; a zip
// function does not inherit the cloud's own environment (a command function does, as before).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt::cloud::lambda {

// The local cloud as the function's SDK sees it.
struct CloudEndpoint {
  std::string endpoint_url;
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
};

struct FunctionSpec {
  std::string name;
  std::string arn;
  std::string runtime;
  std::string handler;
  std::optional<std::string> command;            // a command function: run by /bin/sh -c
  std::filesystem::path code_directory;          // the extracted package (zip functions)
  std::map<std::string, std::string> variables;  // Environment.Variables
  std::chrono::seconds timeout{3};
  int64_t memory_size = 128;
};

struct Outcome {
  bool function_error = false;  // X-Amz-Function-Error: Unhandled
  std::string payload;          // the result's JSON, or the error shape
  std::string error_type;       // when function_error: errorType (Sandbox.Timedout, ...)
  std::string log;              // START … END, REPORT: what `LogType: Tail` returns the end of
  int64_t duration_ms = 0;
};

// Invoke's synchronous response payload: 6 MB (Lambda quotas).
inline constexpr size_t kMaxResponseBytes = 6 * 1024 * 1024;

bool is_python_runtime(std::string_view runtime);    // python3.7 … python3.13
bool is_provided_runtime(std::string_view runtime);  // provided, provided.al2, provided.al2023
inline bool is_supported_runtime(std::string_view runtime) {
  return is_python_runtime(runtime) || is_provided_runtime(runtime);
}

// The python3 that runs python3.x functions: $ZT_LAMBDA_PYTHON, else /usr/bin/python3 (Debian's,
// with boto3), else python3 on PATH.
std::string python_interpreter();

// Fails only when the process cannot be started; whatever the function does is an Outcome.
Result<Outcome> run_function(const FunctionSpec& function, std::string_view event,
                             const std::string& request_id, const CloudEndpoint& cloud);

}  // namespace zt::cloud::lambda
