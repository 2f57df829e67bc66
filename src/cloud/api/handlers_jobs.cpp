// AWS IoT Jobs, control plane: CreateJob, DescribeJob, ListJobs, CancelJob, DeleteJob,
// GetJobDocument (IoT API Reference). Executions are handlers_job_executions.cpp, templates
// handlers_job_templates.cpp; the rules they share with the device side are cloud/jobs.
#include "cloud/api/handlers_jobs.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "cloud/jobs/engine.hpp"

namespace zt::cloud::api {
namespace jobs_api {

using nlohmann::json;

namespace {

constexpr size_t kMaxDocumentBytes = 32 * 1024;  // "The job document size limit is 32 KB."
constexpr size_t kMaxTargets = 100;              // CreateJob targets: 1..100 (API Reference)

ApiResult<void> check_abort_config(const json& abort) {
  ZT_API_TRY_ASSIGN(const json* criteria,
                    array_member(abort, "criteriaList", "abortConfig.criteriaList"));
  if (!criteria || criteria->empty())
    return invalid_request("abortConfig.criteriaList must have at least one criterion");
  for (const auto& each : *criteria) {
    if (!each.is_object())
      return invalid_request("abortConfig.criteriaList entries must be objects");
    ZT_API_TRY_ASSIGN(auto type, string_member(each, "failureType", "failureType"));
    ZT_API_TRY_ASSIGN(auto action, string_member(each, "action", "action"));
    static const std::set<std::string> kTypes = {"FAILED", "REJECTED", "TIMED_OUT", "ALL"};
    if (!type || !kTypes.count(*type))
      return invalid_request("failureType must be one of FAILED, REJECTED, TIMED_OUT, ALL");
    if (!action || *action != "CANCEL") return invalid_request("action must be CANCEL");
    auto threshold = each.find("thresholdPercentage");
    if (threshold == each.end() || !threshold->is_number() || threshold->get<double>() < 0 ||
        threshold->get<double>() > 100)
      return invalid_request("thresholdPercentage must be a number between 0 and 100");
    ZT_API_TRY_ASSIGN(auto minimum, integer_member(each, "minNumberOfExecutedThings",
                                                   "minNumberOfExecutedThings", 1, INT32_MAX));
    if (!minimum) return invalid_request("minNumberOfExecutedThings is required");
  }
  return {};
}

}  // namespace

ApiResult<std::string> id_param(const ApiRequest& request, const char* name) {
  const std::string& id = request.path.at(name);
  bool valid = !id.empty() && id.size() <= 64 &&
               std::all_of(id.begin(), id.end(),
                           [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
  if (!valid) {
    return api_error(400, "InvalidRequestException",
                     std::string("1 validation error detected: Value '") + id.substr(0, 80) +
                         "' at '" + name +
                         "' failed to satisfy constraint: Member must satisfy regular expression "
                         "pattern: [a-zA-Z0-9_-]+");
  }
  return id;
}

ApiResult<void> read_job_config(const json& body, json& spec, std::string& document) {
  ZT_API_TRY_ASSIGN(auto description, string_member(body, "description"));
  ZT_API_TRY_ASSIGN(auto text, string_member(body, "document"));
  ZT_API_TRY_ASSIGN(auto source, string_member(body, "documentSource"));
  if (description) {
    if (description->size() > 2028) return invalid_request("description is longer than 2028");
    spec["description"] = *description;
  }
  if (text && source) return invalid_request("Specify either document or documentSource, not both");
  if (text) {
    if (text->size() > kMaxDocumentBytes)
      return invalid_request("The job document exceeds the 32 KB limit");
    auto parsed = parse_json(*text);
    if (!parsed || !parsed->is_object())
      return invalid_request("The job document must be a JSON object");
    document = *text;
  }
  if (source) {
    // Ours: an S3 URL is accepted and kept, but there is no S3 to read it from (docs/jobs.md).
    if (source->empty() || source->size() > 1350)
      return invalid_request("documentSource must be 1 to 1350 characters");
    spec["documentSource"] = *source;
  }
  ZT_API_TRY_ASSIGN(const json* presigned, object_member(body, "presignedUrlConfig"));
  if (presigned) {
    ZT_API_TRY(
        integer_member(*presigned, "expiresInSec", "presignedUrlConfig.expiresInSec", 60, 3600));
    ZT_API_TRY(string_member(*presigned, "roleArn", "presignedUrlConfig.roleArn"));
    spec["presignedUrlConfig"] = *presigned;
  }
  ZT_API_TRY_ASSIGN(const json* rollout, object_member(body, "jobExecutionsRolloutConfig"));
  if (rollout) {
    ZT_API_TRY(integer_member(*rollout, "maximumPerMinute",
                              "jobExecutionsRolloutConfig.maximumPerMinute", 1, 1000));
    ZT_API_TRY(
        object_member(*rollout, "exponentialRate", "jobExecutionsRolloutConfig.exponentialRate"));
    spec["jobExecutionsRolloutConfig"] = *rollout;
  }
  ZT_API_TRY_ASSIGN(const json* abort, object_member(body, "abortConfig"));
  if (abort) {
    ZT_API_TRY(check_abort_config(*abort));
    spec["abortConfig"] = *abort;
  }
  ZT_API_TRY_ASSIGN(const json* timeout, object_member(body, "timeoutConfig"));
  if (timeout) {
    ZT_API_TRY(integer_member(*timeout, "inProgressTimeoutInMinutes",
                              "timeoutConfig.inProgressTimeoutInMinutes", 1, 10080));
    spec["timeoutConfig"] = *timeout;
  }
  return {};
}

ApiResult<void> expire_timed_out(ServiceContext& ctx) {
  ZT_API_TRY(cloud::jobs::expire_executions(ctx.registry, now_seconds()));
  return {};
}

}  // namespace jobs_api

namespace {

using nlohmann::json;
using namespace jobs_api;

json spec_of(const registry::Job& job) {
  json spec = json::parse(job.spec, nullptr, false);
  return spec.is_object() ? spec : json::object();
}

// The things a target names: a thing, or a thing group's things (its child groups' too).
ApiResult<std::vector<std::string>> things_of_target(ServiceContext& ctx, const std::string& arn) {
  std::string thing_prefix = ctx.arn("thing/");
  std::string group_prefix = ctx.arn("thinggroup/");
  if (arn.starts_with(thing_prefix)) {
    std::string name = arn.substr(thing_prefix.size());
    ZT_API_TRY_ASSIGN(auto thing, ctx.registry.find_thing(name));
    if (!thing) return not_found("Thing " + name + " does not exist");
    return std::vector<std::string>{name};
  }
  if (arn.starts_with(group_prefix)) {
    // A thing group's things, those of its child groups too; static and dynamic groups alike.
    std::string name = arn.substr(group_prefix.size());
    ZT_API_TRY_ASSIGN(auto group, ctx.registry.find_thing_group(name));
    if (!group) return not_found("Thing group " + name + " does not exist");
    ZT_API_TRY_ASSIGN(auto things, ctx.registry.list_things_in_thing_group(name, true));
    return things;
  }
  return invalid_request("Target " + arn.substr(0, 200) +
                         " is not the ARN of a thing or a thing group of this account and region");
}

json job_json(ServiceContext& ctx, const registry::Job& job, json details) {
  json spec = spec_of(job);
  json out = {{"jobArn", ctx.arn("job/" + job.id)},
              {"jobId", job.id},
              {"targetSelection", job.target_selection},
              {"status", job.status},
              {"forceCanceled", spec.value("forceCanceled", false)},
              {"targets", spec.value("targets", json::array())},
              {"createdAt", job.created_at},
              {"lastUpdatedAt", job.last_updated_at},
              {"jobProcessDetails", std::move(details)},
              {"isConcurrent", false}};
  for (const char* member :
       {"description", "presignedUrlConfig", "jobExecutionsRolloutConfig", "abortConfig",
        "timeoutConfig", "jobTemplateArn", "comment", "reasonCode"}) {
    if (spec.contains(member)) out[member] = spec[member];
  }
  if (job.completed_at > 0) out["completedAt"] = job.completed_at;
  return out;
}

ApiResult<registry::Job> existing_job(ServiceContext& ctx, const std::string& id) {
  ZT_API_TRY_ASSIGN(auto job, ctx.registry.find_job(id));
  if (!job) return not_found("Job " + id + " does not exist");
  return std::move(*job);
}

// jobTemplateArn: the template's document and configurations, for members the request omits.
ApiResult<void> apply_template(ServiceContext& ctx, const std::string& arn, json& spec,
                               std::string& document) {
  std::string prefix = ctx.arn("jobtemplate/");
  if (!arn.starts_with(prefix))
    return invalid_request("jobTemplateArn is not a job template's ARN");
  std::string id = arn.substr(prefix.size());
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_job_template(id));
  if (!found) return not_found("Job template " + id + " does not exist");
  json template_spec = json::parse(found->spec, nullptr, false);
  if (!template_spec.is_object()) return {};
  for (auto it = template_spec.begin(); it != template_spec.end(); ++it) {
    if (it.key() == "document") {
      if (document.empty()) document = it.value().get<std::string>();
    } else if (!spec.contains(it.key())) {
      spec[it.key()] = it.value();
    }
  }
  spec["jobTemplateArn"] = arn;
  return {};
}

ApiResult<Reply> create_job(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  json spec = json::object();
  std::string document;
  ZT_API_TRY(read_job_config(body, spec, document));
  ZT_API_TRY_ASSIGN(auto template_arn, string_member(body, "jobTemplateArn"));
  if (template_arn) ZT_API_TRY(apply_template(ctx, *template_arn, spec, document));
  if (document.empty() && !spec.contains("documentSource"))
    return invalid_request("A job needs a document, a documentSource or a jobTemplateArn");
  if (document.empty()) document = "{}";
  ZT_API_TRY_ASSIGN(auto selection, string_member(body, "targetSelection"));
  if (selection && *selection != "SNAPSHOT" && *selection != "CONTINUOUS")
    return invalid_request("targetSelection must be SNAPSHOT or CONTINUOUS");
  ZT_API_TRY_ASSIGN(const json* targets, array_member(body, "targets"));
  if (!targets || targets->empty() || targets->size() > kMaxTargets)
    return invalid_request("targets must list 1 to 100 thing or thing group ARNs");
  std::vector<std::string> things;
  for (const auto& target : *targets) {
    if (!target.is_string()) return invalid_request("targets must be ARNs (strings)");
    ZT_API_TRY_ASSIGN(auto named, things_of_target(ctx, target.get<std::string>()));
    for (auto& thing : named) {
      if (std::find(things.begin(), things.end(), thing) == things.end())
        things.push_back(std::move(thing));
    }
  }
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_job(id));
  if (existing) return already_exists("Job " + id + " already exists.", id, ctx.arn("job/" + id));
  spec["targets"] = *targets;
  double now = now_seconds();
  registry::Job job{.id = id,
                    .status = registry::kJobInProgress,
                    .target_selection = selection.value_or("SNAPSHOT"),
                    .document = document,
                    .spec = spec.dump(),
                    .created_at = now,
                    .last_updated_at = now,
                    .completed_at = 0};
  ZT_API_TRY(ctx.registry.insert_job(job));
  for (const auto& thing : things)
    ZT_API_TRY(cloud::jobs::queue_execution(ctx.registry, job, thing, now));
  json out = {{"jobArn", ctx.arn("job/" + id)}, {"jobId", id}};
  if (spec.contains("description")) out["description"] = spec["description"];
  return json_reply(out);
}

ApiResult<Reply> describe_job(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobId"));
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(registry::Job job, existing_job(ctx, id));
  ZT_API_TRY_ASSIGN(json details, cloud::jobs::process_details(ctx.registry, id));
  json out = {{"job", job_json(ctx, job, std::move(details))}};
  json spec = spec_of(job);
  if (spec.contains("documentSource")) out["documentSource"] = spec["documentSource"];
  return json_reply(out);
}

ApiResult<Reply> list_jobs(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  registry::JobFilter filter;
  filter.status = request.query_value("status");
  if (filter.status && *filter.status != registry::kJobInProgress &&
      *filter.status != registry::kJobCanceled && *filter.status != registry::kJobCompleted &&
      *filter.status != registry::kJobDeletionInProgress && *filter.status != "SCHEDULED")
    return invalid_request(
        "status must be one of IN_PROGRESS, CANCELED, COMPLETED, "
        "DELETION_IN_PROGRESS, SCHEDULED");
  filter.target_selection = request.query_value("targetSelection");
  if (filter.target_selection && *filter.target_selection != "SNAPSHOT" &&
      *filter.target_selection != "CONTINUOUS")
    return invalid_request("targetSelection must be SNAPSHOT or CONTINUOUS");
  if (auto group = request.query_value("thingGroupName"))
    filter.target = ctx.arn("thinggroup/" + *group);
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_jobs(page, filter));
  json jobs = json::array();
  for (const auto& job : result.items) {
    json summary = {{"jobArn", ctx.arn("job/" + job.id)},
                    {"jobId", job.id},
                    {"targetSelection", job.target_selection},
                    {"status", job.status},
                    {"isConcurrent", false},
                    {"createdAt", job.created_at},
                    {"lastUpdatedAt", job.last_updated_at}};
    if (job.completed_at > 0) summary["completedAt"] = job.completed_at;
    jobs.push_back(std::move(summary));
  }
  json out = {{"jobs", std::move(jobs)}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> cancel_job(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, false));
  ZT_API_TRY_ASSIGN(bool force, query_bool(request, "force", false));
  ZT_API_TRY_ASSIGN(auto body_force, bool_member(body, "force"));
  force = force || body_force.value_or(false);
  ZT_API_TRY_ASSIGN(auto reason, string_member(body, "reasonCode"));
  ZT_API_TRY_ASSIGN(auto comment, string_member(body, "comment"));
  if (reason && reason->size() > 128) return invalid_request("reasonCode is longer than 128");
  if (comment && comment->size() > 2028) return invalid_request("comment is longer than 2028");
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(registry::Job job, existing_job(ctx, id));
  // "Job execution states": a job that is COMPLETED or CANCELED cannot be canceled again; a
  // CANCELED one can be force-canceled to cancel its IN_PROGRESS executions.
  if (job.status == registry::kJobCompleted || job.status == registry::kJobDeletionInProgress ||
      (job.status == registry::kJobCanceled && !force))
    return invalid_state("Job " + id + " is " + job.status + " and cannot be canceled");
  double now = now_seconds();
  json spec = spec_of(job);
  spec["forceCanceled"] = force;
  if (reason) spec["reasonCode"] = *reason;
  if (comment) spec["comment"] = *comment;
  job.status = registry::kJobCanceled;
  job.spec = spec.dump();
  job.last_updated_at = now;
  ZT_API_TRY(ctx.registry.update_job(job));
  for (const char* status : {cloud::jobs::kQueued, cloud::jobs::kInProgress}) {
    if (status == std::string_view(cloud::jobs::kInProgress) && !force) continue;
    ZT_API_TRY_ASSIGN(auto page, ctx.registry.list_job_executions_for_job(
                                     id, status, {.after = "", .limit = 1 << 20}));
    for (auto& execution : page.items) {
      execution.force_canceled = force && execution.status == cloud::jobs::kInProgress;
      ZT_API_TRY(
          cloud::jobs::transition(ctx.registry, execution, cloud::jobs::kCanceled, nullptr, now));
    }
  }
  json out = {{"jobArn", ctx.arn("job/" + id)}, {"jobId", id}};
  if (spec.contains("description")) out["description"] = spec["description"];
  return json_reply(out);
}

ApiResult<Reply> delete_job(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(bool force, query_bool(request, "force", false));
  ZT_API_TRY(expire_timed_out(ctx));
  ZT_API_TRY_ASSIGN(registry::Job job, existing_job(ctx, id));
  // DeleteJob: "Deleting a job which is "IN_PROGRESS", will cause an error unless force is true."
  if (job.status == registry::kJobInProgress && !force)
    return invalid_state("Job " + id + " is IN_PROGRESS: delete it with force, or cancel it first");
  if (!force) {
    ZT_API_TRY_ASSIGN(auto running, ctx.registry.list_job_executions_for_job(
                                        id, cloud::jobs::kInProgress, {.after = "", .limit = 1}));
    if (!running.items.empty())
      return invalid_state("Job " + id + " has IN_PROGRESS executions: delete it with force");
  }
  ZT_API_TRY(ctx.registry.delete_job(id));
  return no_content();
}

ApiResult<Reply> get_job_document(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobId"));
  ZT_API_TRY_ASSIGN(registry::Job job, existing_job(ctx, id));
  return json_reply({{"document", job.document}});
}

}  // namespace

void add_jobs_routes(Router& router) {
  router.add("PUT", "/jobs/{jobId}", "CreateJob", create_job);
  router.add("GET", "/jobs/{jobId}", "DescribeJob", describe_job);
  router.add("GET", "/jobs", "ListJobs", list_jobs);
  router.add("PUT", "/jobs/{jobId}/cancel", "CancelJob", cancel_job);
  router.add("DELETE", "/jobs/{jobId}", "DeleteJob", delete_job);
  router.add("GET", "/jobs/{jobId}/job-document", "GetJobDocument", get_job_document);
  add_job_execution_routes(router);
  add_job_template_routes(router);
}

}  // namespace zt::cloud::api
