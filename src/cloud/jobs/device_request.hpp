// The device side of AWS IoT Jobs, parsed: a topic under $aws/things/<thing>/jobs/ and its
// request payload (AWS IoT Developer Guide, "Jobs device MQTT API operations"). Pure: bytes in,
// a typed request or the rejected message's error code out. Untrusted input (fuzz/jobs_request).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "cloud/jobs/engine.hpp"

namespace zt::cloud::jobs {

enum class Operation {
  get_pending,  // $aws/things/<thing>/jobs/get
  start_next,   // $aws/things/<thing>/jobs/start-next
  describe,     // $aws/things/<thing>/jobs/<jobId>/get ("$next" allowed)
  update,       // $aws/things/<thing>/jobs/<jobId>/update
};

struct JobsTopic {
  std::string thing;
  Operation operation = Operation::get_pending;
  std::string job_id;  // describe, update
};

// A request topic a device publishes to; nullopt for any other topic (accepted/rejected/notify
// topics included).
std::optional<JobsTopic> parse_jobs_topic(std::string_view topic);

// The request's members (those the operation reads; the rest are ignored, as AWS does).
struct DeviceRequest {
  std::string client_token;  // "" when absent; echoed
  bool has_client_token = false;
  UpdateRequest update{};  // update: status, statusDetails, expectedVersion, executionNumber,
                           // stepTimeoutInMinutes; start-next: statusDetails and the timeout
  std::optional<int64_t> execution_number{};  // describe
  bool include_job_document = true;           // describe (default true), update (default false)
  bool include_execution_state = false;       // update
};

// Parses the payload (at most 64 KB, JSON depth bounded). An empty payload is {}. Errors:
// InvalidJson (not JSON, not an object) and InvalidRequest (a member of the wrong type or out of
// range), with the client token when it could be read.
std::variant<DeviceRequest, JobsError> parse_device_request(Operation operation,
                                                            std::string_view payload,
                                                            std::string* client_token);

}  // namespace zt::cloud::jobs
