// AWS IoT Jobs as the registry stores them (registry_jobs.cpp): jobs, their executions (one per
// target thing) and job templates. The rules that move them (the execution state machine,
// timeouts, rollout and abort) are cloud/jobs; these are plain records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace zt::cloud::registry {

// Job statuses (IoT API Reference, Job.status).
inline constexpr const char* kJobInProgress = "IN_PROGRESS";
inline constexpr const char* kJobCanceled = "CANCELED";
inline constexpr const char* kJobCompleted = "COMPLETED";
inline constexpr const char* kJobDeletionInProgress = "DELETION_IN_PROGRESS";

struct Job {
  std::string id{};
  std::string status = kJobInProgress;
  std::string target_selection = "SNAPSHOT";  // SNAPSHOT | CONTINUOUS
  std::string document{};                     // the job document (JSON text)
  // The rest of the job as DescribeJob shows it (targets, description, configs, jobTemplateArn,
  // documentSource, comment, reasonCode, forceCanceled, ...): a JSON object.
  std::string spec = "{}";
  double created_at = 0;
  double last_updated_at = 0;
  double completed_at = 0;  // 0: not completed
};

struct JobFilter {
  std::optional<std::string> status{};
  std::optional<std::string> target_selection{};
  std::optional<std::string> target{};  // a target ARN the job must name (ListJobs thingGroupName)
};

struct JobExecution {
  std::string job_id{};
  std::string thing_name{};
  int64_t execution_number = 1;
  std::string status = "QUEUED";
  std::string status_details = "{}";  // JSON object of string → string
  int64_t version = 1;
  double queued_at = 0;
  double started_at = 0;  // 0: not started
  double last_updated_at = 0;
  double timeout_at = 0;  // 0: no timer; else when an IN_PROGRESS execution becomes TIMED_OUT
  bool force_canceled = false;
  std::string history = "[]";  // JSON array of {status, statusDetails, at}: every status it had
};

struct JobTemplate {
  std::string id{};
  std::string spec = "{}";  // description, document/documentSource, configs, as given
  double created_at = 0;
};

}  // namespace zt::cloud::registry
