// AWS IoT Jobs, control plane: job executions (IoT API Reference: DescribeJobExecution,
// ListJobExecutionsForJob, ListJobExecutionsForThing, CancelJobExecution, DeleteJobExecution).
#include "cloud/api/handlers_jobs.hpp"
#include "cloud/jobs/engine.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using namespace jobs_api;
namespace engine = cloud::jobs;

json parse_or(const std::string& text, json fallback) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

json summary_json(const registry::JobExecution& e) {
  json out = {{"status", e.status},
              {"queuedAt", e.queued_at},
              {"lastUpdatedAt", e.last_updated_at},
              {"executionNumber", e.execution_number},
              {"retryAttempt", 0}};
  if (e.started_at > 0) out["startedAt"] = e.started_at;
  return out;
}

ApiResult<std::string> thing_param(const ApiRequest& request) {
  const std::string& name = request.path.at("thingName");
  if (!valid_thing_name(name)) return invalid_request("thingName must match [a-zA-Z0-9:_-]{1,128}");
  return name;
}

ApiResult<std::string> status_filter(const ApiRequest& request) {
  std::string status = request.query_value("status").value_or("");
  if (!status.empty() && !engine::is_execution_status(status))
    return invalid_request(
        "status must be one of QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, "
        "TIMED_OUT, REJECTED, REMOVED, CANCELED");
  return status;
}

ApiResult<registry::JobExecution> existing_execution(ServiceContext& ctx, const std::string& job,
                                                     const std::string& thing) {
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_job_execution(job, thing));
  if (!found) return not_found("Job execution of job " + job + " on thing " + thing + " not found");
  return std::move(*found);
}

ApiResult<Reply> describe_job_execution(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string job, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(std::string thing, thing_param(request));
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(auto e, existing_execution(ctx, job, thing));
  if (auto number = request.query_value("executionNumber");
      number && *number != std::to_string(e.execution_number))
    return not_found("Job execution " + number->substr(0, 20) + " of job " + job + " on thing " +
                     thing + " not found");
  json execution = {{"jobId", e.job_id},
                    {"status", e.status},
                    {"forceCanceled", e.force_canceled},
                    {"statusDetails", {{"detailsMap", parse_or(e.status_details, json::object())}}},
                    {"thingArn", ctx.arn("thing/" + e.thing_name)},
                    {"queuedAt", e.queued_at},
                    {"lastUpdatedAt", e.last_updated_at},
                    {"executionNumber", e.execution_number},
                    {"versionNumber", e.version},
                    // Ours, beside AWS's members: every status the execution had, with when and
                    // the statusDetails it came with (docs/jobs.md).
                    {"statusHistory", parse_or(e.history, json::array())}};
  if (e.started_at > 0) execution["startedAt"] = e.started_at;
  if (e.timeout_at > 0 && e.status == engine::kInProgress)
    execution["approximateSecondsBeforeTimedOut"] =
        static_cast<int64_t>(std::max(0.0, e.timeout_at - now_seconds()));
  return json_reply({{"execution", std::move(execution)}});
}

ApiResult<Reply> list_for_job(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string job, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(std::string status, status_filter(request));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_job(job));
  if (!found) return not_found("Job " + job + " does not exist");
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_job_executions_for_job(job, status, page));
  json summaries = json::array();
  for (const auto& e : result.items)
    summaries.push_back(
        {{"thingArn", ctx.arn("thing/" + e.thing_name)}, {"jobExecutionSummary", summary_json(e)}});
  json out = {{"executionSummaries", std::move(summaries)}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> list_for_thing(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string thing, thing_param(request));
  ZT_API_TRY_ASSIGN(std::string status, status_filter(request));
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_thing(thing));
  if (!found) return not_found("Thing " + thing + " does not exist");
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_job_executions_for_thing(thing, status, page));
  json summaries = json::array();
  for (const auto& e : result.items)
    summaries.push_back({{"jobId", e.job_id}, {"jobExecutionSummary", summary_json(e)}});
  json out = {{"executionSummaries", std::move(summaries)}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> cancel_job_execution(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string job, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(std::string thing, thing_param(request));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(bool force, query_bool(request, "force", false));
  ZT_API_TRY_ASSIGN(auto expected, integer_member(body, "expectedVersion"));
  ZT_API_TRY_ASSIGN(const json* details, object_member(body, "statusDetails"));
  if (details) {
    if (auto problem = engine::check_status_details(*details)) return invalid_request(*problem);
  }
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(auto e, existing_execution(ctx, job, thing));
  if (expected && *expected != e.version)
    return api_error(409, "VersionConflictException",
                     "expectedVersion " + std::to_string(*expected) +
                         " does not match the job execution's version " +
                         std::to_string(e.version));
  // CancelJobExecution: a QUEUED execution is canceled; an IN_PROGRESS one only with force; one
  // in a terminal state cannot be (InvalidStateTransitionException).
  if (engine::is_terminal(e.status) || (e.status == engine::kInProgress && !force))
    return invalid_state("Job execution of job " + job + " on thing " + thing + " is " + e.status +
                         (e.status == engine::kInProgress ? ": cancel it with force" : ""));
  e.force_canceled = force && e.status == engine::kInProgress;
  ZT_API_TRY(engine::transition(ctx.registry, e, engine::kCanceled, details, now_seconds()));
  return no_content();
}

ApiResult<Reply> delete_job_execution(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string job, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(std::string thing, thing_param(request));
  ZT_API_TRY_ASSIGN(bool force, query_bool(request, "force", false));
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(auto e, existing_execution(ctx, job, thing));
  if (request.path.at("executionNumber") != std::to_string(e.execution_number))
    return not_found("Job execution " + request.path.at("executionNumber").substr(0, 20) +
                     " of job " + job + " on thing " + thing + " not found");
  // DeleteJobExecution: "deleting a job execution which is IN_PROGRESS ... causes an error unless
  // force is true"; a QUEUED one likewise is still pending for the device.
  if (!engine::is_terminal(e.status) && !force)
    return invalid_state("Job execution of job " + job + " on thing " + thing + " is " + e.status +
                         ": delete it with force");
  ZT_API_TRY(ctx.registry.delete_job_execution(job, thing));
  return no_content();
}

}  // namespace

void add_job_execution_routes(Router& router) {
  router.add("GET", "/things/{thingName}/jobs/{jobId}", "DescribeJobExecution",
             describe_job_execution);
  router.add("GET", "/jobs/{jobId}/things", "ListJobExecutionsForJob", list_for_job);
  router.add("GET", "/things/{thingName}/jobs", "ListJobExecutionsForThing", list_for_thing);
  router.add("PUT", "/things/{thingName}/jobs/{jobId}/cancel", "CancelJobExecution",
             cancel_job_execution);
  router.add("DELETE", "/things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}",
             "DeleteJobExecution", delete_job_execution);
}

}  // namespace zt::cloud::api
