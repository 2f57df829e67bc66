// The device side of AWS IoT Jobs: the MQTT jobs topics (`$aws/things/<thing>/jobs/get`,
// `start-next`, `<jobId>/get`, `<jobId>/update`, each answered on /accepted or /rejected), the
// `notify` and `notify-next` messages sent when a thing's pending executions change, and the
// iot-jobs-data HTTP API (signing name iot-jobs-data: DescribeJobExecution,
// GetPendingJobExecutions, StartNextPendingJobExecution, UpdateJobExecution). The rules are
// cloud/jobs; this is transport (AWS IoT Developer Guide, "Jobs device MQTT API operations",
// "Jobs HTTP device API").
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cloud/api/router.hpp"
#include "cloud/jobs/device_request.hpp"
#include "cloud/registry/registry.hpp"
#include "cloud/service/shadows.hpp"

namespace zt::cloud::service {

class JobsService {
 public:
  explicit JobsService(registry::Registry& registry) : registry_(registry) {}

  // A request on a jobs topic: its accepted or rejected answer (one registry transaction).
  std::vector<Outgoing> handle(const jobs::JobsTopic& topic, std::string_view payload);

  // notify / notify-next for `thing`, when its list of pending executions or its next execution
  // differs from what was last sent (the first call for a thing always sends). Worker thread.
  std::vector<Outgoing> notifications(const std::string& thing);

  // IN_PROGRESS executions whose timer ran out become TIMED_OUT (the periodic sweep).
  void expire();

  registry::Registry& registry() { return registry_; }

 private:
  registry::Registry& registry_;
  struct Sent {
    std::string pending;  // the pending list's job ids and statuses as last notified
    std::string next;     // the next job id as last notified ("" = none)
  };
  std::mutex mutex_;
  std::map<std::string, Sent> sent_;  // thing → what it was last told
};

// Adds the iot-jobs-data routes (their own router: the paths overlap the control plane's).
void add_jobs_data_routes(api::Router& router, JobsService& service);

}  // namespace zt::cloud::service
