// Pieces shared by the jobs handlers (handlers_jobs*.cpp): the ids, the configuration members a
// job and a job template have in common, and the lazy timeout sweep every jobs call runs first.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cloud/api/handler_util.hpp"

namespace zt::cloud::api::jobs_api {

// jobId, jobTemplateId: [a-zA-Z0-9_-]+, 1..64 characters (IoT API Reference, CreateJob).
ApiResult<std::string> id_param(const ApiRequest& request, const char* name);

// Checks the members CreateJob and CreateJobTemplate share (description, document,
// documentSource, presignedUrlConfig, jobExecutionsRolloutConfig, abortConfig, timeoutConfig) and
// copies those given into `spec`; the document (JSON text, at most 32 KB) into `document`.
ApiResult<void> read_job_config(const nlohmann::json& body, nlohmann::json& spec,
                                std::string& document);

// IN_PROGRESS executions whose timer ran out become TIMED_OUT before a jobs call reads them.
ApiResult<void> expire_timed_out(ServiceContext& ctx);

inline ApiError invalid_state(std::string_view message) {
  return api_error(409, "InvalidStateTransitionException", message);
}

}  // namespace zt::cloud::api::jobs_api

namespace zt::cloud::api {
void add_job_execution_routes(Router& router);  // handlers_job_executions.cpp
void add_job_template_routes(Router& router);   // handlers_job_templates.cpp
}  // namespace zt::cloud::api
