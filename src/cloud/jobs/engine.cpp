#include "cloud/jobs/engine.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>

#include "common/json.hpp"

namespace zt::cloud::jobs {
namespace {

using nlohmann::json;
using registry::Job;
using registry::JobExecution;

constexpr std::array kStatuses = {kQueued,   kInProgress, kSucceeded, kFailed,
                                  kTimedOut, kRejected,   kRemoved,   kCanceled};

// "Job configurations": stepTimeoutInMinutes and inProgressTimeoutInMinutes are 1..10080 (7
// days); a step timeout of -1 cancels the current step timer.
constexpr int64_t kMaxTimeoutMinutes = 10080;

json parse_object(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_object() ? parsed : json::object();
}
json parse_array(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_array() ? parsed : json::array();
}

std::optional<int64_t> in_progress_timeout_minutes(const Job& job) {
  json spec = parse_object(job.spec);
  auto found = spec.find("timeoutConfig");
  if (found == spec.end() || !found->is_object()) return std::nullopt;
  auto minutes = found->find("inProgressTimeoutInMinutes");
  if (minutes == found->end() || !minutes->is_number_integer()) return std::nullopt;
  return minutes->get<int64_t>();
}

// The timer of an IN_PROGRESS execution: the earlier of its in-progress timer (from the job,
// started when it entered IN_PROGRESS) and its step timer (from `step_start`).
double timer(const Job& job, const JobExecution& execution, std::optional<double> step_deadline) {
  double deadline = 0;
  if (auto minutes = in_progress_timeout_minutes(job))
    deadline = execution.started_at + static_cast<double>(*minutes) * 60;
  if (step_deadline && *step_deadline > 0)
    deadline = deadline > 0 ? std::min(deadline, *step_deadline) : *step_deadline;
  return deadline;
}

bool aborted(const json& criteria, const std::map<std::string, int64_t>& counts) {
  auto count = [&](const char* status) {
    auto found = counts.find(status);
    return found == counts.end() ? int64_t{0} : found->second;
  };
  int64_t executed = count(kSucceeded) + count(kFailed) + count(kRejected) + count(kTimedOut);
  for (const auto& criterion : criteria) {
    if (!criterion.is_object()) continue;
    std::string type = criterion.value("failureType", "");
    int64_t failures = type == "ALL"       ? count(kFailed) + count(kRejected) + count(kTimedOut)
                       : type == kFailed   ? count(kFailed)
                       : type == kRejected ? count(kRejected)
                       : type == kTimedOut ? count(kTimedOut)
                                           : 0;
    int64_t minimum = criterion.value("minNumberOfExecutedThings", int64_t{1});
    double threshold = criterion.value("thresholdPercentage", 100.0);
    if (executed >= std::max<int64_t>(minimum, 1) &&
        static_cast<double>(failures) * 100.0 / static_cast<double>(executed) >= threshold)
      return true;
  }
  return false;
}

// After an execution changed: a SNAPSHOT job whose executions are all terminal is COMPLETED; a
// job whose abort criteria are met is CANCELED with its QUEUED executions.
Status settle_job(registry::Registry& registry, const std::string& job_id, double now) {
  ZT_TRY_ASSIGN(auto found, registry.find_job(job_id));
  if (!found || found->status != registry::kJobInProgress) return ok();
  Job job = std::move(*found);
  ZT_TRY_ASSIGN(auto rows, registry.count_job_executions(job_id));
  std::map<std::string, int64_t> counts(rows.begin(), rows.end());
  json spec = parse_object(job.spec);
  const json& abort = spec.contains("abortConfig") ? spec["abortConfig"] : json::object();
  if (abort.is_object() && abort.contains("criteriaList") &&
      aborted(abort["criteriaList"], counts)) {
    job.status = registry::kJobCanceled;
    job.last_updated_at = now;
    spec["reasonCode"] = "ABORTED";  // ours: AWS documents no reason code for an abort
    spec["comment"] = "The job was aborted: its abort criteria were met";
    job.spec = spec.dump();
    ZT_TRY(registry.update_job(job));
    ZT_TRY_ASSIGN(auto page, registry.list_job_executions_for_job(job_id, kQueued,
                                                                  {.after = "", .limit = 1 << 20}));
    for (auto& execution : page.items)
      ZT_TRY(transition(registry, execution, kCanceled, nullptr, now));
    return ok();
  }
  int64_t pending = counts[kQueued] + counts[kInProgress];
  if (job.target_selection == "SNAPSHOT" && pending == 0) {
    job.status = registry::kJobCompleted;
    job.completed_at = now;
    job.last_updated_at = now;
    ZT_TRY(registry.update_job(job));
  }
  return ok();
}

JobsError not_found_error(const std::string& job_id, const std::string& thing) {
  return {"ResourceNotFound",
          "Job execution of job " + job_id + " for thing " + thing + " does not exist",
          {}};
}

JobsError internal(const Error& error) { return {"InternalError", error.message, {}}; }

std::optional<std::string> check_step_timeout(std::optional<int64_t> minutes) {
  if (!minutes || *minutes == -1 || (*minutes >= 1 && *minutes <= kMaxTimeoutMinutes))
    return std::nullopt;
  return "stepTimeoutInMinutes must be -1 or between 1 and " + std::to_string(kMaxTimeoutMinutes);
}

// Starts `execution` (QUEUED → IN_PROGRESS) or, already IN_PROGRESS, restarts its step timer.
Status start(registry::Registry& registry, const Job& job, JobExecution& execution,
             const std::optional<json>& details, std::optional<int64_t> step, double now,
             std::string_view status) {
  if (execution.status == kQueued && status == kInProgress) execution.started_at = now;
  if (status == kInProgress) {
    std::optional<double> step_deadline;
    if (step && *step > 0) step_deadline = now + static_cast<double>(*step) * 60;
    // Without a new step timeout the current step timer continues (-1 cancels it).
    else if (!step && execution.status == kInProgress && execution.timeout_at > 0)
      step_deadline = execution.timeout_at;
    execution.timeout_at = 0;
    double deadline = timer(job, execution, step_deadline);
    execution.timeout_at = deadline;
  } else {
    execution.timeout_at = 0;
  }
  return transition(registry, execution, status, details ? &*details : nullptr, now);
}

}  // namespace

bool is_execution_status(std::string_view status) {
  return std::find(kStatuses.begin(), kStatuses.end(), status) != kStatuses.end();
}

bool is_terminal(std::string_view status) {
  return is_execution_status(status) && status != kQueued && status != kInProgress;
}

std::optional<std::string> check_status_details(const json& details) {
  if (!details.is_object()) return "statusDetails must be an object of string values";
  if (details.size() > 10) return "statusDetails may have at most 10 entries";
  for (auto it = details.begin(); it != details.end(); ++it) {
    const std::string& key = it.key();
    bool key_ok = !key.empty() && key.size() <= 128 &&
                  std::all_of(key.begin(), key.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == ':' || c == '_' || c == '-';
                  });
    if (!key_ok) return "statusDetails keys must match [a-zA-Z0-9:_-]+ (at most 128 characters)";
    if (!it.value().is_string() || it.value().get_ref<const std::string&>().empty() ||
        it.value().get_ref<const std::string&>().size() > 1024)
      return "statusDetails values must be strings of 1 to 1024 characters";
  }
  return std::nullopt;
}

Result<bool> queue_execution(registry::Registry& registry, const Job& job, const std::string& thing,
                             double now) {
  ZT_TRY_ASSIGN(auto existing, registry.find_job_execution(job.id, thing));
  if (existing) return false;
  JobExecution execution{.job_id = job.id,
                         .thing_name = thing,
                         .execution_number = 1,
                         .status = kQueued,
                         .status_details = "{}",
                         .version = 1,
                         .queued_at = now,
                         .started_at = 0,
                         .last_updated_at = now,
                         .timeout_at = 0,
                         .force_canceled = false,
                         .history = json::array({{{"status", kQueued}, {"at", now}}}).dump()};
  ZT_TRY(registry.put_job_execution(execution));
  return true;
}

Status transition(registry::Registry& registry, JobExecution& execution, std::string_view status,
                  const json* status_details, double now) {
  if (status_details) execution.status_details = status_details->dump();
  execution.status = std::string(status);
  if (is_terminal(status)) execution.timeout_at = 0;
  execution.version += 1;
  execution.last_updated_at = now;
  json history = parse_array(execution.history);
  json entry = {{"status", status}, {"at", now}};
  if (status_details) entry["statusDetails"] = *status_details;
  history.push_back(std::move(entry));
  // Bounded: a device updating IN_PROGRESS → IN_PROGRESS forever keeps the latest 100 steps.
  if (history.size() > 100) history.erase(history.begin() + 1);
  execution.history = history.dump();
  ZT_TRY(registry.put_job_execution(execution));
  return settle_job(registry, execution.job_id, now);
}

JobsResult<JobExecution> update_execution(registry::Registry& registry, const std::string& job_id,
                                          const std::string& thing, const UpdateRequest& request,
                                          double now) {
  // "UpdateJobExecution": status is one of IN_PROGRESS, FAILED, SUCCEEDED, REJECTED.
  if (request.status != kInProgress && request.status != kSucceeded && request.status != kFailed &&
      request.status != kRejected)
    return JobsError{
        "InvalidRequest", "status must be one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED", {}};
  if (request.status_details) {
    if (auto problem = check_status_details(*request.status_details))
      return JobsError{"InvalidRequest", *problem, {}};
  }
  if (auto problem = check_step_timeout(request.step_timeout_minutes))
    return JobsError{"InvalidRequest", *problem, {}};
  auto found = registry.find_job_execution(job_id, thing);
  if (!found) return internal(found.error());
  if (!*found ||
      (request.execution_number && *request.execution_number != (*found)->execution_number))
    return not_found_error(job_id, thing);
  JobExecution execution = std::move(**found);
  if (request.expected_version && *request.expected_version != execution.version)
    return JobsError{"VersionMismatch",
                     "expectedVersion " + std::to_string(*request.expected_version) +
                         " does not match the execution's version " +
                         std::to_string(execution.version),
                     execution};
  if (is_terminal(execution.status))
    return JobsError{"InvalidStateTransition",
                     "the job execution is in the terminal state " + execution.status +
                         " and cannot be updated to " + request.status,
                     execution};
  auto job = registry.find_job(job_id);
  if (!job) return internal(job.error());
  if (!*job) return not_found_error(job_id, thing);
  if (Status moved = start(registry, **job, execution, request.status_details,
                           request.step_timeout_minutes, now, request.status);
      !moved)
    return internal(moved.error());
  return execution;
}

JobsResult<std::optional<JobExecution>> start_next(registry::Registry& registry,
                                                   const std::string& thing,
                                                   const std::optional<json>& status_details,
                                                   std::optional<int64_t> step_timeout_minutes,
                                                   double now) {
  if (status_details) {
    if (auto problem = check_status_details(*status_details))
      return JobsError{"InvalidRequest", *problem, {}};
  }
  if (auto problem = check_step_timeout(step_timeout_minutes))
    return JobsError{"InvalidRequest", *problem, {}};
  auto pending = registry.pending_job_executions(thing);
  if (!pending) return internal(pending.error());
  if (pending->empty()) return std::optional<JobExecution>();
  // An IN_PROGRESS execution is the next one; else the oldest QUEUED one is started.
  auto next = std::find_if(pending->begin(), pending->end(),
                           [](const JobExecution& e) { return e.status == kInProgress; });
  JobExecution execution = next != pending->end() ? *next : pending->front();
  if (execution.status == kInProgress) return std::optional<JobExecution>(execution);
  auto job = registry.find_job(execution.job_id);
  if (!job) return internal(job.error());
  if (!*job) return not_found_error(execution.job_id, thing);
  if (Status moved =
          start(registry, **job, execution, status_details, step_timeout_minutes, now, kInProgress);
      !moved)
    return internal(moved.error());
  return std::optional<JobExecution>(execution);
}

JobsResult<std::optional<JobExecution>> describe_for_device(
    registry::Registry& registry, const std::string& thing, const std::string& job_id,
    std::optional<int64_t> execution_number) {
  if (job_id == "$next") {
    auto pending = registry.pending_job_executions(thing);
    if (!pending) return internal(pending.error());
    if (pending->empty()) return std::optional<JobExecution>();
    auto next = std::find_if(pending->begin(), pending->end(),
                             [](const JobExecution& e) { return e.status == kInProgress; });
    return std::optional<JobExecution>(next != pending->end() ? *next : pending->front());
  }
  auto found = registry.find_job_execution(job_id, thing);
  if (!found) return internal(found.error());
  if (!*found || (execution_number && *execution_number != (*found)->execution_number))
    return not_found_error(job_id, thing);
  return std::optional<JobExecution>(std::move(**found));
}

Status on_group_membership(registry::Registry& registry, const std::string& group_arn_prefix,
                           const std::string& group, const std::string& thing, bool added,
                           double now) {
  ZT_TRY_ASSIGN(auto path, registry.thing_group_path(group));
  for (const auto& each : path) {
    registry::JobFilter filter{.status = std::string(registry::kJobInProgress),
                               .target_selection = std::string("CONTINUOUS"),
                               .target = group_arn_prefix + each.name};
    ZT_TRY_ASSIGN(auto jobs, registry.list_jobs({.after = "", .limit = 1 << 20}, filter));
    for (const auto& job : jobs.items) {
      if (added) {
        ZT_TRY(queue_execution(registry, job, thing, now));
        continue;
      }
      ZT_TRY_ASSIGN(auto execution, registry.find_job_execution(job.id, thing));
      if (execution && execution->status == kQueued)
        ZT_TRY(transition(registry, *execution, kRemoved, nullptr, now));
    }
  }
  return ok();
}

Result<int> expire_executions(registry::Registry& registry, double now) {
  ZT_TRY_ASSIGN(auto expired, registry.expired_job_executions(now));
  int count = 0;
  for (auto& execution : expired) {
    ZT_TRY(transition(registry, execution, kTimedOut, nullptr, now));
    ++count;
  }
  return count;
}

Result<json> process_details(registry::Registry& registry, const std::string& job_id) {
  ZT_TRY_ASSIGN(auto rows, registry.count_job_executions(job_id));
  std::map<std::string, int64_t> counts(rows.begin(), rows.end());
  auto n = [&](const char* status) { return counts.count(status) ? counts[status] : 0; };
  return json{
      {"processingTargets", json::array()},         {"numberOfCanceledThings", n(kCanceled)},
      {"numberOfSucceededThings", n(kSucceeded)},   {"numberOfFailedThings", n(kFailed)},
      {"numberOfRejectedThings", n(kRejected)},     {"numberOfQueuedThings", n(kQueued)},
      {"numberOfInProgressThings", n(kInProgress)}, {"numberOfRemovedThings", n(kRemoved)},
      {"numberOfTimedOutThings", n(kTimedOut)}};
}

json device_summary(const JobExecution& e) {
  json out = {{"jobId", e.job_id},
              {"queuedAt", static_cast<int64_t>(e.queued_at)},
              {"lastUpdatedAt", static_cast<int64_t>(e.last_updated_at)},
              {"versionNumber", e.version},
              {"executionNumber", e.execution_number}};
  if (e.started_at > 0) out["startedAt"] = static_cast<int64_t>(e.started_at);
  return out;
}

json execution_state(const JobExecution& e) {
  return {{"status", e.status},
          {"statusDetails", parse_object(e.status_details)},
          {"versionNumber", e.version}};
}

json device_execution(const JobExecution& e, const Job* job, double now) {
  json out = device_summary(e);
  out["thingName"] = e.thing_name;
  out["status"] = e.status;
  out["statusDetails"] = parse_object(e.status_details);
  if (e.timeout_at > 0 && e.status == kInProgress)
    out["approximateSecondsBeforeTimedOut"] =
        static_cast<int64_t>(std::max(0.0, std::ceil(e.timeout_at - now)));
  if (job) {
    json document = json::parse(job->document, nullptr, false);
    out["jobDocument"] = document.is_discarded() ? json(job->document) : document;
  }
  return out;
}

}  // namespace zt::cloud::jobs
