#include "cloud/lambda/invoker.hpp"

#include <fmt/format.h>

#include <chrono>

#include "common/hex.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"

namespace zt::cloud::lambda {

std::string function_arn(const std::string& region, const std::string& account_id,
                         const std::string& name) {
  return "arn:aws:lambda:" + region + ":" + account_id + ":function:" + name;
}

std::string last_modified_now() {
  int64_t now_ms = unix_now_ms();
  UtcTime t = to_utc(now_ms / 1000);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000", t.year, t.month, t.day,
                     t.hour, t.minute, t.second, now_ms % 1000);
}

std::string outcome_detail(const Outcome& outcome) {
  if (!outcome.function_error) return "ok";
  auto shape = parse_json(outcome.payload);
  std::string message;
  if (shape && shape->is_object()) {
    auto found = shape->find("errorMessage");
    if (found != shape->end() && found->is_string()) message = found->get<std::string>();
  }
  if (message.size() > 400) message = message.substr(0, 400) + "…";
  return outcome.error_type + (message.empty() ? "" : ": " + message);
}

Invoker::Invoker(registry::Registry& registry, InvokerOptions options)
    : registry_(registry),
      options_(std::move(options)),
      dispatcher_(
          options_.async_workers, options_.retry,
          [this](const functions::AttemptRecord& attempt) {
            record(attempt.function_name, attempt.invocation_id, attempt.attempt, attempt.succeeded,
                   attempt.final, attempt.detail, attempt.started_ms, attempt.duration_ms);
          },
          options_.max_queued) {}

Invoker::~Invoker() { stop(); }

void Invoker::set_endpoint_url(std::string url) {
  std::lock_guard lock(cloud_mutex_);
  options_.cloud.endpoint_url = std::move(url);
}

CloudEndpoint Invoker::cloud() {
  std::lock_guard lock(cloud_mutex_);
  return options_.cloud;
}

void Invoker::drain() { dispatcher_.drain(); }
void Invoker::stop() { dispatcher_.stop(); }

Result<std::filesystem::path> Invoker::code_directory(const registry::LambdaFunction& function) {
  ZT_TRY_ASSIGN(auto digest, base64_decode(function.code_sha256));
  std::filesystem::path directory = options_.code_cache / to_hex(digest);
  std::error_code ec;
  if (std::filesystem::is_directory(directory, ec)) return directory;
  ZT_TRY_ASSIGN(auto code, registry_.lambda_function_code(function.name));
  if (!code) return make_error(Errc::not_found, "function " + function.name + " has no code");
  std::filesystem::create_directories(options_.code_cache, ec);
  if (ec) return make_error(Errc::io, options_.code_cache.string() + ": " + ec.message());
  // Extracted beside its final name, then renamed: a reader sees a complete directory or none. Two
  // invocations racing both extract; the second rename fails and its copy goes.
  std::filesystem::path staging =
      options_.code_cache / (directory.filename().string() + ".tmp-" + new_uuid());
  ZT_TRY(extract_zip(*code, staging, options_.zip_limits));
  std::filesystem::rename(staging, directory, ec);
  if (ec) std::filesystem::remove_all(staging, ec);
  return directory;
}

Result<FunctionSpec> Invoker::prepare(const registry::LambdaFunction& function) {
  FunctionSpec spec{.name = function.name,
                    .arn = function_arn(options_.cloud.region, options_.account_id, function.name),
                    .runtime = function.runtime,
                    .handler = function.handler,
                    .command = function.command,
                    .code_directory = {},
                    .variables = {},
                    .timeout = std::chrono::seconds(function.timeout),
                    .memory_size = function.memory_size};
  auto variables = parse_json(function.environment);
  if (variables && variables->is_object()) {
    for (const auto& [name, value] : variables->items()) {
      if (value.is_string()) spec.variables[name] = value.get<std::string>();
    }
  }
  if (!function.command) {
    ZT_TRY_ASSIGN(spec.code_directory, code_directory(function));
  }
  return spec;
}

Result<Outcome> Invoker::execute(const std::string& name, std::string_view event,
                                 const std::string& request_id) {
  ZT_TRY_ASSIGN(auto function, registry_.find_lambda_function(name));
  if (!function) return make_error(Errc::not_found, "function " + name + " does not exist");
  // A package that cannot be extracted, or a `provided` one without an executable bootstrap, is
  // the function's failure (AWS reports a broken deployment at invocation), not the API's.
  auto broken = [&](const std::string& why) {
    Outcome outcome;
    outcome.function_error = true;
    outcome.error_type = "Runtime.InvalidEntrypoint";
    outcome.payload = nlohmann::json{
        {"errorMessage", why},
        {"errorType", outcome.error_type},
        {"requestId",
         request_id}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    outcome.log = "START RequestId: " + request_id + " Version: $LATEST\n" + why +
                  "\nEND RequestId: " + request_id + "\n";
    return outcome;
  };
  auto spec = prepare(*function);
  if (!spec) return broken(spec.error().message);
  auto outcome = run_function(*spec, event, request_id, cloud());
  if (!outcome) return broken(outcome.error().message);
  return outcome;
}

Result<Outcome> Invoker::invoke(const std::string& name, std::string_view event,
                                const std::string& request_id) {
  int64_t started_ms = unix_now_ms();
  auto outcome = execute(name, event, request_id);
  if (!outcome && outcome.error().code == Errc::not_found) return outcome;
  record(name, request_id, 1, outcome && !outcome->function_error, true,
         outcome ? outcome_detail(*outcome) : outcome.error().message, started_ms,
         outcome ? outcome->duration_ms : unix_now_ms() - started_ms);
  return outcome;
}

Result<std::string> Invoker::invoke_async(const std::string& name, std::string event) {
  return dispatcher_.submit(name, nlohmann::json(std::move(event)),
                            [this, name](const nlohmann::json& payload) -> Status {
                              ZT_TRY_ASSIGN(auto outcome,
                                            execute(name, payload.get<std::string>(), new_uuid()));
                              if (!outcome.function_error) return ok();
                              return make_error(Errc::internal, outcome_detail(outcome));
                            });
}

void Invoker::record(const std::string& name, const std::string& request_id, int attempt,
                     bool succeeded, bool final, const std::string& detail, int64_t started_ms,
                     int64_t duration_ms) {
  auto stored = registry_.record_function_invocation({.invocation_id = request_id,
                                                      .function_name = name,
                                                      .rule_name = "",
                                                      .certificate_id = std::nullopt,
                                                      .thing_name = std::nullopt,
                                                      .attempt = attempt,
                                                      .succeeded = succeeded,
                                                      .final = final,
                                                      .detail = detail,
                                                      .started_ms = started_ms,
                                                      .duration_ms = duration_ms});
  if (!stored) spdlog::error("recording invocation {}: {}", request_id, stored.error().message);
}

}  // namespace zt::cloud::lambda
