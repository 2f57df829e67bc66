// AWS IoT Jobs' rules, shared by the control plane (cloud/api: CreateJob, CancelJob,
// CancelJobExecution, ...) and the device side (cloud/service: the MQTT jobs topics and the
// iot-jobs-data HTTP API): the job execution state machine, the device's queue, timeouts, abort
// criteria and the JSON shapes of executions. Every function works inside the caller's registry
// transaction and takes the time as `now` (seconds since the epoch), so tests use a fake clock.
//
// Sources: AWS IoT Developer Guide, "Jobs device MQTT API operations", "Jobs HTTP device API",
// "Job configurations" (timeouts, abort), "Job execution states"; IoT API Reference, JobExecution.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::jobs {

inline constexpr const char* kQueued = "QUEUED";
inline constexpr const char* kInProgress = "IN_PROGRESS";
inline constexpr const char* kSucceeded = "SUCCEEDED";
inline constexpr const char* kFailed = "FAILED";
inline constexpr const char* kTimedOut = "TIMED_OUT";
inline constexpr const char* kRejected = "REJECTED";
inline constexpr const char* kRemoved = "REMOVED";
inline constexpr const char* kCanceled = "CANCELED";

bool is_execution_status(std::string_view status);
bool is_terminal(std::string_view status);

// A refusal with the device API's error code (JobExecutionErrorCode: InvalidTopic, InvalidJson,
// InvalidRequest, InvalidStateTransition, ResourceNotFound, VersionMismatch, InternalError,
// RequestThrottled, TerminalStateReached). VersionMismatch and InvalidStateTransition carry the
// execution's current state, as AWS's rejected messages do.
struct JobsError {
  std::string code;
  std::string message;
  std::optional<registry::JobExecution> state{};
};
template <class T>
using JobsResult = std::variant<T, JobsError>;

// statusDetails: an object of at most 10 string → string pairs (keys [a-zA-Z0-9:_-]{1,128},
// values 1..1024 characters). nullopt when `details` is acceptable.
std::optional<std::string> check_status_details(const nlohmann::json& details);

// Queues an execution of `job` for `thing` (QUEUED, version 1) unless the thing has one already.
// Returns whether one was created.
Result<bool> queue_execution(registry::Registry& registry, const registry::Job& job,
                             const std::string& thing, double now);

// Moves `execution` to `status` (statusDetails replaced when given), appends the history, bumps
// the version and stores it; then settles the job (completion, abort criteria).
Status transition(registry::Registry& registry, registry::JobExecution& execution,
                  std::string_view status, const nlohmann::json* status_details, double now);

// The device's UpdateJobExecution (MQTT …/<jobId>/update, HTTP POST /things/<t>/jobs/<jobId>).
struct UpdateRequest {
  std::string status{};
  std::optional<nlohmann::json> status_details{};
  std::optional<int64_t> expected_version{};
  std::optional<int64_t> execution_number{};
  std::optional<int64_t> step_timeout_minutes{};
};
JobsResult<registry::JobExecution> update_execution(registry::Registry& registry,
                                                    const std::string& job_id,
                                                    const std::string& thing,
                                                    const UpdateRequest& request, double now);
// StartNextPendingJobExecution: the thing's IN_PROGRESS execution if any, else the oldest QUEUED
// one moved to IN_PROGRESS; nullopt when nothing is pending.
JobsResult<std::optional<registry::JobExecution>> start_next(
    registry::Registry& registry, const std::string& thing,
    const std::optional<nlohmann::json>& status_details,
    std::optional<int64_t> step_timeout_minutes, double now);
// DescribeJobExecution for a device: `job_id` "$next" = the next pending one (nullopt if none).
JobsResult<std::optional<registry::JobExecution>> describe_for_device(
    registry::Registry& registry, const std::string& thing, const std::string& job_id,
    std::optional<int64_t> execution_number);

// A CONTINUOUS job follows its target groups (and their descendants): a thing joining one gets
// an execution of every IN_PROGRESS continuous job that targets the group or an ancestor; one
// leaving has its QUEUED executions of those jobs REMOVED. `group_arn_prefix`:
// "arn:aws:iot:<region>:<account>:thinggroup/".
Status on_group_membership(registry::Registry& registry, const std::string& group_arn_prefix,
                           const std::string& group, const std::string& thing, bool added,
                           double now);

// IN_PROGRESS executions whose step or in-progress timer ran out become TIMED_OUT. Returns how
// many did.
Result<int> expire_executions(registry::Registry& registry, double now);

// The job's counts by execution status (DescribeJob's jobProcessDetails).
Result<nlohmann::json> process_details(registry::Registry& registry, const std::string& job_id);

// JSON of an execution for the device (MQTT and iot-jobs-data): JobExecution, the summary of
// get/notify, and executionState. Times are whole seconds since the epoch, as AWS sends them.
nlohmann::json device_execution(const registry::JobExecution& execution,
                                const registry::Job* job_with_document, double now);
nlohmann::json device_summary(const registry::JobExecution& execution);
nlohmann::json execution_state(const registry::JobExecution& execution);

}  // namespace zt::cloud::jobs
