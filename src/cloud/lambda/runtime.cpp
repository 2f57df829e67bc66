#include "cloud/lambda/runtime.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cloud/functions/process.hpp"
#include "cloud/lambda/python_bootstrap.hpp"
#include "common/time.hpp"

namespace zt::cloud::lambda {
namespace {

using nlohmann::json;

std::string tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

std::string error_shape(std::string_view type, std::string_view message,
                        const std::string& request_id) {
  return json{{"errorMessage", message}, {"errorType", type}, {"requestId", request_id}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

// What Lambda sets in a function's environment (Lambda developer guide, "Defined runtime
// environment variables"), then the function's own variables (which may not replace the reserved
// ones: CreateFunction refuses them).
std::map<std::string, std::string> function_environment(const FunctionSpec& function,
                                                        const std::string& request_id,
                                                        const CloudEndpoint& cloud,
                                                        int64_t deadline_ms) {
  std::map<std::string, std::string> environment = function.variables;
  auto set = [&](const char* name, std::string value) { environment[name] = std::move(value); };
  set("AWS_ENDPOINT_URL", cloud.endpoint_url);
  set("AWS_ACCESS_KEY_ID", cloud.access_key_id);
  set("AWS_SECRET_ACCESS_KEY", cloud.secret_access_key);
  set("AWS_REGION", cloud.region);
  set("AWS_DEFAULT_REGION", cloud.region);
  set("AWS_LAMBDA_FUNCTION_NAME", function.name);
  set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
  set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(function.memory_size));
  set("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + function.name);
  set("AWS_LAMBDA_LOG_STREAM_NAME", "$LATEST/" + request_id);
  set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
  set("AWS_EXECUTION_ENV", "AWS_Lambda_" + function.runtime);
  set("_HANDLER", function.handler);
  set("ZT_LAMBDA_REQUEST_ID", request_id);
  set("ZT_LAMBDA_FUNCTION_ARN", function.arn);
  set("ZT_LAMBDA_DEADLINE_MS", std::to_string(deadline_ms));
  if (!function.command) {
    set("LAMBDA_TASK_ROOT", function.code_directory.string());
    set("PATH", "/usr/local/bin:/usr/bin:/bin");
    set("LANG", "C.UTF-8");
    set("TZ", ":UTC");
  }
  return environment;
}

}  // namespace

bool is_python_runtime(std::string_view runtime) {
  static constexpr std::string_view kPython[] = {"python3.7",  "python3.8",  "python3.9",
                                                 "python3.10", "python3.11", "python3.12",
                                                 "python3.13"};
  for (auto name : kPython) {
    if (runtime == name) return true;
  }
  return false;
}

bool is_provided_runtime(std::string_view runtime) {
  return runtime == "provided" || runtime == "provided.al2" || runtime == "provided.al2023";
}

std::string python_interpreter() {
  if (const char* chosen = std::getenv("ZT_LAMBDA_PYTHON"); chosen && *chosen) return chosen;
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  return "python3";
}

Result<Outcome> run_function(const FunctionSpec& function, std::string_view event,
                             const std::string& request_id, const CloudEndpoint& cloud) {
  int64_t started_ms = unix_now_ms();
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(function.timeout);
  functions::ProcessRequest request{
      .command = function.command.value_or(""),
      .argv = {},
      .working_directory = function.command ? "" : function.code_directory.string(),
      .inherit_environment = function.command.has_value(),
      .input = std::string(event),
      .environment =
          function_environment(function, request_id, cloud, started_ms + timeout.count()),
      .timeout = timeout,
      .max_output_bytes = kMaxResponseBytes + 2,
  };
  bool python = !function.command && is_python_runtime(function.runtime);
  if (python) {
    std::string interpreter = python_interpreter();
    if (interpreter.find('/') == std::string::npos) {
      request.command = interpreter + " -B -c \"$ZT_LAMBDA_BOOTSTRAP\"";
      request.environment["ZT_LAMBDA_BOOTSTRAP"] = kPythonBootstrap;
    } else {
      request.argv = {interpreter, "-B", "-c", kPythonBootstrap};
    }
  } else if (!function.command) {
    request.argv = {(function.code_directory / "bootstrap").string()};
  }
  ZT_TRY_ASSIGN(auto result, functions::run_process(request));

  Outcome outcome;
  outcome.duration_ms = result.duration_ms;
  std::string log = "START RequestId: " + request_id + " Version: $LATEST\n";
  log += tail(result.standard_error, 64 * 1024);
  if (!log.empty() && log.back() != '\n') log += '\n';
  auto fail = [&](std::string type, std::string message) {
    outcome.function_error = true;
    outcome.error_type = type;
    outcome.payload = error_shape(type, message, request_id);
  };
  if (result.timed_out) {
    std::string seconds = fmt::format("{:.2f}", static_cast<double>(timeout.count()) / 1000.0);
    log += fmt::format("{} {} Task timed out after {} seconds\n", format_iso8601(unix_now()),
                       request_id, seconds);
    fail("Sandbox.Timedout",
         "RequestId: " + request_id + " Error: Task timed out after " + seconds + " seconds");
  } else if (result.standard_output.size() > kMaxResponseBytes + 1) {
    fail("Function.ResponseSizeTooLarge",
         "Response payload size exceeded maximum allowed payload size (" +
             std::to_string(kMaxResponseBytes) + " bytes).");
  } else if (python && result.exit_code == 0 && !result.standard_output.empty() &&
             (result.standard_output[0] == 'R' || result.standard_output[0] == 'E')) {
    outcome.payload = result.standard_output.substr(1);
    if (result.standard_output[0] == 'E') {
      outcome.function_error = true;
      auto shape = json::parse(outcome.payload, nullptr, false);
      if (shape.is_object() && shape.contains("errorType") && shape["errorType"].is_string())
        outcome.error_type = shape["errorType"].get<std::string>();
      log +=
          "[ERROR] " + outcome.error_type + ": " +
          (shape.is_object() && shape.contains("errorMessage") && shape["errorMessage"].is_string()
               ? shape["errorMessage"].get<std::string>()
               : std::string()) +
          "\n";
    }
  } else if (!python && result.exit_code == 0) {
    outcome.payload = result.standard_output.empty() ? "null" : result.standard_output;
  } else {
    std::string why = result.signal ? "signal: " + std::to_string(result.signal)
                                    : "exit status " + std::to_string(result.exit_code);
    fail("Runtime.ExitError",
         "RequestId: " + request_id + " Error: Runtime exited with error: " + why +
             (result.standard_error.empty() ? std::string()
                                            : " (" + tail(result.standard_error, 400) + ")"));
  }
  log += "END RequestId: " + request_id + "\n";
  log += fmt::format(
      "REPORT RequestId: {}\tDuration: {}.00 ms\tBilled Duration: {} ms\tMemory Size: {} MB\t"
      "Max Memory Used: 0 MB\t\n",
      request_id, result.duration_ms, std::max<int64_t>(1, result.duration_ms),
      function.memory_size);
  outcome.log = std::move(log);
  return outcome;
}

}  // namespace zt::cloud::lambda
