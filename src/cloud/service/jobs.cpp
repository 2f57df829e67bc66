#include "cloud/service/jobs.hpp"

#include <spdlog/spdlog.h>

#include "cloud/api/handler_util.hpp"
#include "common/time.hpp"

namespace zt::cloud::service {
namespace {

using nlohmann::json;
using registry::JobExecution;
namespace engine = cloud::jobs;

double now_s() { return unix_now_seconds(); }

std::string topic_of(const jobs::JobsTopic& topic) {
  std::string base = "$aws/things/" + topic.thing + "/jobs/";
  switch (topic.operation) {
    case jobs::Operation::get_pending:
      return base + "get";
    case jobs::Operation::start_next:
      return base + "start-next";
    case jobs::Operation::describe:
      return base + topic.job_id + "/get";
    case jobs::Operation::update:
      return base + topic.job_id + "/update";
  }
  return base;
}

// The rejected message: {"code", "message", "clientToken", "timestamp", "executionState"}.
json rejected(const engine::JobsError& error, const std::string& client_token, bool has_token) {
  json out = {{"code", error.code},
              {"message", error.message},
              {"timestamp", static_cast<int64_t>(now_s())}};
  if (has_token) out["clientToken"] = client_token;
  if (error.state) out["executionState"] = engine::execution_state(*error.state);
  return out;
}

// Answers a request: the accepted body, or the error that rejects it.
using Answer = std::variant<json, engine::JobsError>;

Answer pending_lists(registry::Registry& registry, const std::string& thing) {
  auto pending = registry.pending_job_executions(thing);
  if (!pending) return engine::JobsError{"InternalError", pending.error().message, {}};
  json in_progress = json::array();
  json queued = json::array();
  for (const auto& e : *pending)
    (e.status == engine::kInProgress ? in_progress : queued).push_back(engine::device_summary(e));
  return json{{"inProgressJobs", std::move(in_progress)}, {"queuedJobs", std::move(queued)}};
}

// `document_as_text`: iot-jobs-data's JobExecution.jobDocument is a string; MQTT's an object.
json with_document(registry::Registry& registry, const JobExecution& e, bool include_document,
                   bool document_as_text) {
  std::optional<registry::Job> job;
  if (include_document) {
    if (auto found = registry.find_job(e.job_id); found && *found) job = std::move(**found);
  }
  json out = engine::device_execution(e, job ? &*job : nullptr, now_s());
  if (job && document_as_text) out["jobDocument"] = job->document;
  return out;
}

Answer run(registry::Registry& registry, const jobs::JobsTopic& topic,
           const jobs::DeviceRequest& request, bool document_as_text) {
  double now = now_s();
  if (auto expired = engine::expire_executions(registry, now); !expired)
    return engine::JobsError{"InternalError", expired.error().message, {}};
  switch (topic.operation) {
    case jobs::Operation::get_pending:
      return pending_lists(registry, topic.thing);
    case jobs::Operation::start_next: {
      auto started = engine::start_next(registry, topic.thing, request.update.status_details,
                                        request.update.step_timeout_minutes, now);
      if (auto* error = std::get_if<engine::JobsError>(&started)) return *error;
      auto& execution = std::get<0>(started);
      json out = json::object();
      if (execution) out["execution"] = with_document(registry, *execution, true, document_as_text);
      return out;
    }
    case jobs::Operation::describe: {
      auto found = engine::describe_for_device(registry, topic.thing, topic.job_id,
                                               request.execution_number);
      if (auto* error = std::get_if<engine::JobsError>(&found)) return *error;
      auto& execution = std::get<0>(found);
      json out = json::object();
      if (execution)
        out["execution"] =
            with_document(registry, *execution, request.include_job_document, document_as_text);
      return out;
    }
    case jobs::Operation::update: {
      auto updated =
          engine::update_execution(registry, topic.job_id, topic.thing, request.update, now);
      if (auto* error = std::get_if<engine::JobsError>(&updated)) return *error;
      auto& execution = std::get<0>(updated);
      json out = json::object();
      if (request.include_execution_state)
        out["executionState"] = engine::execution_state(execution);
      if (request.include_job_document) {
        json full = with_document(registry, execution, true, document_as_text);
        if (full.contains("jobDocument")) out["jobDocument"] = full["jobDocument"];
      }
      return out;
    }
  }
  return json::object();
}

// One request in one transaction: an internal error rolls back what it began.
Answer run_in_transaction(registry::Registry& registry, const jobs::JobsTopic& topic,
                          const jobs::DeviceRequest& request, bool document_as_text) {
  Answer answer = json::object();
  Status done = registry.transaction([&]() -> Status {
    answer = run(registry, topic, request, document_as_text);
    if (auto* error = std::get_if<engine::JobsError>(&answer);
        error && error->code == "InternalError")
      return make_error(Errc::internal, error->message);
    return ok();
  });
  if (!done && !std::holds_alternative<engine::JobsError>(answer))
    answer = engine::JobsError{"InternalError", done.error().message, {}};
  if (auto* error = std::get_if<engine::JobsError>(&answer);
      error && error->code == "InternalError") {
    spdlog::error("jobs: {}: {}", topic_of(topic), error->message);
    error->message = "Internal service error";
  }
  return answer;
}

}  // namespace

std::vector<Outgoing> JobsService::handle(const jobs::JobsTopic& topic, std::string_view payload) {
  std::string request_topic = topic_of(topic);
  std::string token;
  auto parsed = jobs::parse_device_request(topic.operation, payload, &token);
  bool has_token = !token.empty();
  if (auto* error = std::get_if<engine::JobsError>(&parsed))
    return {{request_topic + "/rejected", rejected(*error, token, has_token).dump()}};
  const auto& request = std::get<jobs::DeviceRequest>(parsed);
  has_token = request.has_client_token;
  Answer answer = run_in_transaction(registry_, topic, request, false);
  if (auto* error = std::get_if<engine::JobsError>(&answer))
    return {{request_topic + "/rejected", rejected(*error, token, has_token).dump()}};
  json body = std::get<json>(std::move(answer));
  body["timestamp"] = static_cast<int64_t>(now_s());
  if (has_token) body["clientToken"] = token;
  return {{request_topic + "/accepted", body.dump()}};
}

std::vector<Outgoing> JobsService::notifications(const std::string& thing) {
  auto pending = registry_.pending_job_executions(thing);
  if (!pending) {
    spdlog::warn("jobs: pending executions of {}: {}", thing, pending.error().message);
    return {};
  }
  std::string signature;
  json queued = json::array();
  json in_progress = json::array();
  for (const auto& e : *pending) {
    signature += e.job_id + ":" + e.status + ";";
    (e.status == engine::kInProgress ? in_progress : queued).push_back(engine::device_summary(e));
  }
  auto next_of = [&]() -> const JobExecution* {
    for (const auto& e : *pending)
      if (e.status == engine::kInProgress) return &e;
    return pending->empty() ? nullptr : &pending->front();
  };
  const JobExecution* next = next_of();
  std::string next_id = next ? next->job_id : "";
  bool send_notify = false;
  bool send_next = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, first] = sent_.try_emplace(thing);
    send_notify = first || it->second.pending != signature;
    send_next = first || it->second.next != next_id;
    it->second = {signature, next_id};
    if (pending->empty()) sent_.erase(it);  // bounded: only things with pending executions
  }
  int64_t timestamp = static_cast<int64_t>(now_s());
  std::vector<Outgoing> out;
  std::string base = "$aws/things/" + thing + "/jobs/";
  if (send_notify) {
    // notify: {"timestamp", "jobs": {"QUEUED": [...], "IN_PROGRESS": [...]}}, empty lists left out.
    json jobs = json::object();
    if (!queued.empty()) jobs["QUEUED"] = std::move(queued);
    if (!in_progress.empty()) jobs["IN_PROGRESS"] = std::move(in_progress);
    out.push_back(
        {base + "notify", json{{"timestamp", timestamp}, {"jobs", std::move(jobs)}}.dump()});
  }
  if (send_next) {
    // notify-next: {"timestamp", "execution": {...}}; just {"timestamp"} when nothing is next.
    json body = {{"timestamp", timestamp}};
    if (next) body["execution"] = with_document(registry_, *next, true, false);
    out.push_back({base + "notify-next", body.dump()});
  }
  return out;
}

void JobsService::expire() {
  auto done = registry_.transaction([&]() -> Status {
    ZT_TRY(engine::expire_executions(registry_, now_s()));
    return ok();
  });
  if (!done) spdlog::warn("jobs: timeout sweep: {}", done.error().message);
}

void add_jobs_data_routes(api::Router& router, JobsService& service) {
  // Errors as iot-jobs-data names them (API Reference, AWS IoT Jobs data plane).
  auto to_api = [](const engine::JobsError& error) {
    if (error.code == "ResourceNotFound")
      return api::api_error(404, "ResourceNotFoundException", error.message);
    if (error.code == "InvalidStateTransition")
      return api::api_error(409, "InvalidStateTransitionException", error.message);
    if (error.code == "VersionMismatch")
      return api::api_error(409, "VersionConflictException", error.message);
    if (error.code == "InternalError")
      return api::api_error(503, "ServiceUnavailableException", error.message);
    return api::api_error(400, "InvalidRequestException", error.message);
  };
  auto handler = [&service, to_api](jobs::Operation operation) {
    return [&service, to_api, operation](
               api::ServiceContext&, const api::ApiRequest& request) -> api::ApiResult<api::Reply> {
      jobs::JobsTopic topic{.thing = request.path.at("thingName"),
                            .operation = operation,
                            .job_id = request.path.count("jobId") ? request.path.at("jobId") : ""};
      if (!api::valid_thing_name(topic.thing))
        return api::invalid_request("thingName must match [a-zA-Z0-9:_-]{1,128}");
      std::string body = request.body();
      if (operation == jobs::Operation::describe) {
        // GET: includeJobDocument and executionNumber are query parameters.
        json query = json::object();
        ZT_API_TRY_ASSIGN(query["includeJobDocument"],
                          api::query_bool(request, "includeJobDocument", true));
        if (auto number = request.query_value("executionNumber")) {
          if (number->empty() || number->size() > 18 ||
              !std::all_of(number->begin(), number->end(), ::isdigit))
            return api::invalid_request("executionNumber must be a number");
          query["executionNumber"] = std::stoll(*number);
        }
        body = query.dump();
      }
      if (operation == jobs::Operation::start_next && topic.job_id != "$next")
        return api::api_error(405, "MethodNotAllowedException", "Use $next to start the next job");
      if (operation == jobs::Operation::describe && topic.job_id != "$next") {
        if (!jobs::parse_jobs_topic("$aws/things/" + topic.thing + "/jobs/" + topic.job_id +
                                    "/get"))
          return api::invalid_request("jobId must match [a-zA-Z0-9_-]+");
      }
      auto parsed = jobs::parse_device_request(operation, body, nullptr);
      if (auto* error = std::get_if<engine::JobsError>(&parsed)) return to_api(*error);
      Answer answer = run(service.registry(), topic, std::get<jobs::DeviceRequest>(parsed), true);
      if (auto* error = std::get_if<engine::JobsError>(&answer)) return to_api(*error);
      return api::json_reply(std::get<json>(answer));
    };
  };
  router.add("GET", "/things/{thingName}/jobs/{jobId}", "DescribeJobExecution",
             handler(jobs::Operation::describe));
  router.add("GET", "/things/{thingName}/jobs", "GetPendingJobExecutions",
             handler(jobs::Operation::get_pending));
  router.add("PUT", "/things/{thingName}/jobs/{jobId}", "StartNextPendingJobExecution",
             handler(jobs::Operation::start_next));
  router.add("POST", "/things/{thingName}/jobs/{jobId}", "UpdateJobExecution",
             handler(jobs::Operation::update));
}

}  // namespace zt::cloud::service
