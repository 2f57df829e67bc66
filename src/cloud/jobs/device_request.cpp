#include "cloud/jobs/device_request.hpp"

#include <algorithm>
#include <cctype>

#include "common/json.hpp"

namespace zt::cloud::jobs {
namespace {

using nlohmann::json;

constexpr size_t kMaxPayload = 64 * 1024;
constexpr size_t kMaxClientToken = 64;  // "clientToken: ... up to 64 bytes"

bool valid_job_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

JobsError invalid(std::string message) { return {"InvalidRequest", std::move(message), {}}; }

}  // namespace

std::optional<JobsTopic> parse_jobs_topic(std::string_view topic) {
  constexpr std::string_view kPrefix = "$aws/things/";
  if (!topic.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = topic.substr(kPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  JobsTopic out{.thing = std::string(rest.substr(0, slash)), .operation = {}, .job_id = {}};
  rest = rest.substr(slash + 1);
  if (!rest.starts_with("jobs/")) return std::nullopt;
  rest = rest.substr(5);
  if (rest == "get") {
    out.operation = Operation::get_pending;
    return out;
  }
  if (rest == "start-next") {
    out.operation = Operation::start_next;
    return out;
  }
  slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view job = rest.substr(0, slash);
  std::string_view verb = rest.substr(slash + 1);
  if (verb == "get" && (job == "$next" || valid_job_id(job))) {
    out.operation = Operation::describe;
  } else if (verb == "update" && valid_job_id(job)) {
    out.operation = Operation::update;
  } else {
    return std::nullopt;
  }
  out.job_id = std::string(job);
  return out;
}

std::variant<DeviceRequest, JobsError> parse_device_request(Operation operation,
                                                            std::string_view payload,
                                                            std::string* client_token) {
  if (payload.size() > kMaxPayload) return JobsError{"InvalidJson", "The payload is too large", {}};
  json body = json::object();
  if (!payload.empty()) {
    auto parsed = parse_json(payload);
    if (!parsed || !parsed->is_object())
      return JobsError{"InvalidJson", "The request payload is not a JSON object", {}};
    body = std::move(*parsed);
  }
  DeviceRequest out;
  auto token = string_member(body, "clientToken");
  if (!token) return invalid(token.error().message);
  if (*token) {
    if ((*token)->size() > kMaxClientToken)
      return invalid("clientToken must be at most 64 characters");
    out.client_token = **token;
    out.has_client_token = true;
    if (client_token) *client_token = out.client_token;
  }
  auto details = object_member(body, "statusDetails");
  if (!details) return invalid(details.error().message);
  if (*details) {
    if (auto problem = check_status_details(**details)) return invalid(*problem);
    out.update.status_details = **details;
  }
  auto step = integer_member(body, "stepTimeoutInMinutes", "stepTimeoutInMinutes", -1, 10080);
  if (!step) return invalid(step.error().message);
  out.update.step_timeout_minutes = *step;
  auto number = integer_member(body, "executionNumber", "executionNumber", 0, INT64_MAX);
  if (!number) return invalid(number.error().message);
  out.execution_number = *number;
  out.update.execution_number = *number;
  auto include_document = bool_member(body, "includeJobDocument");
  if (!include_document) return invalid(include_document.error().message);
  out.include_job_document = include_document->value_or(operation != Operation::update);
  auto include_state = bool_member(body, "includeJobExecutionState");
  if (!include_state) return invalid(include_state.error().message);
  out.include_execution_state = include_state->value_or(false);
  if (operation == Operation::update) {
    auto status = string_member(body, "status");
    if (!status) return invalid(status.error().message);
    if (!*status) return invalid("status is required");
    out.update.status = **status;
    auto expected = integer_member(body, "expectedVersion", "expectedVersion", 0, INT64_MAX);
    if (!expected) return invalid(expected.error().message);
    out.update.expected_version = *expected;
  }
  return out;
}

}  // namespace zt::cloud::jobs
