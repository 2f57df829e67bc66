// AWS IoT Jobs, control plane: job templates (IoT API Reference: CreateJobTemplate,
// DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate). CreateJob's jobTemplateArn reads
// them (handlers_jobs.cpp).
#include "cloud/api/handlers_jobs.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using namespace jobs_api;

ApiResult<Reply> create_job_template(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobTemplateId"));
  ZT_API_TRY_ASSIGN(json body, json_body(request, true));
  json spec = json::object();
  std::string document;
  ZT_API_TRY(read_job_config(body, spec, document));
  ZT_API_TRY_ASSIGN(auto job_arn, string_member(body, "jobArn"));
  if (job_arn) {
    // From an existing job: its document and configurations, for members the request omits.
    std::string prefix = ctx.arn("job/");
    if (!job_arn->starts_with(prefix)) return invalid_request("jobArn is not a job's ARN");
    ZT_API_TRY_ASSIGN(auto job, ctx.registry.find_job(job_arn->substr(prefix.size())));
    if (!job) return not_found("Job " + job_arn->substr(prefix.size()) + " does not exist");
    json job_spec = json::parse(job->spec, nullptr, false);
    for (const char* member : {"description", "documentSource", "presignedUrlConfig",
                               "jobExecutionsRolloutConfig", "abortConfig", "timeoutConfig"}) {
      if (job_spec.is_object() && job_spec.contains(member) && !spec.contains(member))
        spec[member] = job_spec[member];
    }
    if (document.empty() && !spec.contains("documentSource")) document = job->document;
  }
  if (document.empty() && !spec.contains("documentSource"))
    return invalid_request("A job template needs a document, a documentSource or a jobArn");
  if (!document.empty()) spec["document"] = document;
  ZT_API_TRY_ASSIGN(auto existing, ctx.registry.find_job_template(id));
  std::string arn = ctx.arn("jobtemplate/" + id);
  if (existing)
    return api_error(409, "ConflictException", "Job template " + id + " already exists",
                     {{"resourceId", id}});
  ZT_API_TRY(ctx.registry.insert_job_template(
      {.id = id, .spec = spec.dump(), .created_at = now_seconds()}));
  return json_reply({{"jobTemplateArn", arn}, {"jobTemplateId", id}});
}

ApiResult<Reply> describe_job_template(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobTemplateId"));
  ZT_API_TRY_ASSIGN(auto found, ctx.registry.find_job_template(id));
  if (!found) return not_found("Job template " + id + " does not exist");
  json out = json::parse(found->spec, nullptr, false);
  if (!out.is_object()) out = json::object();
  out["jobTemplateArn"] = ctx.arn("jobtemplate/" + id);
  out["jobTemplateId"] = id;
  out["createdAt"] = found->created_at;
  return json_reply(out);
}

ApiResult<Reply> list_job_templates(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(auto page, page_request(request, "nextToken", "maxResults", 250));
  ZT_API_TRY_ASSIGN(auto result, ctx.registry.list_job_templates(page));
  json templates = json::array();
  for (const auto& t : result.items) {
    json spec = json::parse(t.spec, nullptr, false);
    json summary = {{"jobTemplateArn", ctx.arn("jobtemplate/" + t.id)},
                    {"jobTemplateId", t.id},
                    {"createdAt", t.created_at}};
    if (spec.is_object() && spec.contains("description"))
      summary["description"] = spec["description"];
    templates.push_back(std::move(summary));
  }
  json out = {{"jobTemplates", std::move(templates)}};
  if (!result.next_key.empty()) out["nextToken"] = page_token(result.next_key);
  return json_reply(out);
}

ApiResult<Reply> delete_job_template(ServiceContext& ctx, const ApiRequest& request) {
  ZT_API_TRY_ASSIGN(std::string id, id_param(request, "jobTemplateId"));
  ZT_API_TRY(ctx.registry.delete_job_template(id));
  return no_content();
}

}  // namespace

void add_job_template_routes(Router& router) {
  router.add("PUT", "/job-templates/{jobTemplateId}", "CreateJobTemplate", create_job_template);
  router.add("GET", "/job-templates/{jobTemplateId}", "DescribeJobTemplate", describe_job_template);
  router.add("GET", "/job-templates", "ListJobTemplates", list_job_templates);
  router.add("DELETE", "/job-templates/{jobTemplateId}", "DeleteJobTemplate", delete_job_template);
}

}  // namespace zt::cloud::api
