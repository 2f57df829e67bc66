// cloud/jobs over a real registry with a fake clock (`now` passed in): the execution state
// machine, the device's queue, step and in-progress timeouts, abort criteria, snapshot completion,
// and the change notes the data plane turns into notify / notify-next.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud/jobs/engine.hpp"
#include "registry_fixture.hpp"

namespace zt::cloud::jobs {
namespace {

using nlohmann::json;
using registry::Job;
using registry::JobExecution;

class JobsEngineTest : public registry::testing::RegistryFixture {
 protected:
  Job make_job(const std::string& id, json spec = json::object(),
               const std::vector<std::string>& things = {"lamp"}, double now = 1000) {
    Job job{.id = id,
            .status = registry::kJobInProgress,
            .target_selection = "SNAPSHOT",
            .document = R"({"operation":"setLeds"})",
            .spec = spec.dump(),
            .created_at = now,
            .last_updated_at = now,
            .completed_at = 0};
    EXPECT_TRUE(registry_->insert_job(job));
    for (const auto& thing : things) {
      auto queued = queue_execution(*registry_, job, thing, now);
      EXPECT_TRUE(queued && *queued);
    }
    return job;
  }
  JobExecution execution(const std::string& job, const std::string& thing) {
    auto found = registry_->find_job_execution(job, thing);
    EXPECT_TRUE(found && *found);
    return **found;
  }
  std::string job_status(const std::string& id) { return (*registry_->find_job(id))->status; }
};

TEST_F(JobsEngineTest, QueuesOncePerThing) {
  Job job = make_job("j1");
  auto again = queue_execution(*registry_, job, "lamp", 2000);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(execution("j1", "lamp").queued_at, 1000);
}

TEST_F(JobsEngineTest, StartNextTakesTheOldestQueuedThenKeepsTheInProgressOne) {
  make_job("later", json::object(), {"lamp"}, 1500);
  make_job("first", json::object(), {"lamp"}, 1000);
  auto started = start_next(*registry_, "lamp", json{{"step", "1"}}, std::nullopt, 2000);
  ASSERT_TRUE(std::holds_alternative<std::optional<JobExecution>>(started));
  auto& first = std::get<0>(started);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->job_id, "first");
  EXPECT_EQ(first->status, kInProgress);
  EXPECT_EQ(first->version, 2);
  EXPECT_EQ(first->started_at, 2000);
  auto again = start_next(*registry_, "lamp", std::nullopt, std::nullopt, 2100);
  EXPECT_EQ(std::get<0>(again)->job_id, "first");
  EXPECT_EQ(std::get<0>(again)->version, 2);  // unchanged: it was already IN_PROGRESS
  auto none = start_next(*registry_, "heater", std::nullopt, std::nullopt, 2100);
  EXPECT_FALSE(std::get<0>(none));
}

TEST_F(JobsEngineTest, UpdateChecksStatusVersionAndTerminalState) {
  make_job("j1");
  auto bad_status = update_execution(*registry_, "j1", "lamp", {.status = "QUEUED"}, 1100);
  EXPECT_EQ(std::get<JobsError>(bad_status).code, "InvalidRequest");
  auto conflict = update_execution(*registry_, "j1", "lamp",
                                   {.status = kSucceeded, .expected_version = 5}, 1100);
  ASSERT_TRUE(std::holds_alternative<JobsError>(conflict));
  EXPECT_EQ(std::get<JobsError>(conflict).code, "VersionMismatch");
  ASSERT_TRUE(std::get<JobsError>(conflict).state);
  EXPECT_EQ(std::get<JobsError>(conflict).state->version, 1);
  auto missing = update_execution(*registry_, "j1", "fan", {.status = kSucceeded}, 1100);
  EXPECT_EQ(std::get<JobsError>(missing).code, "ResourceNotFound");
  // QUEUED → SUCCEEDED directly is allowed (a device may skip IN_PROGRESS).
  auto done = update_execution(
      *registry_, "j1", "lamp",
      {.status = kSucceeded, .status_details = json{{"r", "ok"}}, .expected_version = 1}, 1200);
  ASSERT_TRUE(std::holds_alternative<JobExecution>(done));
  EXPECT_EQ(std::get<JobExecution>(done).version, 2);
  auto after = update_execution(*registry_, "j1", "lamp", {.status = kInProgress}, 1300);
  EXPECT_EQ(std::get<JobsError>(after).code, "InvalidStateTransition");
  // The status history: QUEUED, then SUCCEEDED with its details.
  json history = json::parse(execution("j1", "lamp").history);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["status"], "QUEUED");
  EXPECT_EQ(history[1]["status"], "SUCCEEDED");
  EXPECT_EQ(history[1]["statusDetails"]["r"], "ok");
  // The snapshot job's only execution is terminal: the job is COMPLETED.
  EXPECT_EQ(job_status("j1"), registry::kJobCompleted);
}

TEST_F(JobsEngineTest, StepTimeoutTimesOutAndCanBeCanceledWithMinusOne) {
  make_job("j1", json::object(), {"lamp", "fan"});
  (void)start_next(*registry_, "lamp", std::nullopt, 2, 1000);  // step timer: 2 minutes
  (void)start_next(*registry_, "fan", std::nullopt, 2, 1000);
  // fan cancels its step timer.
  ASSERT_TRUE(std::holds_alternative<JobExecution>(update_execution(
      *registry_, "j1", "fan", {.status = kInProgress, .step_timeout_minutes = -1}, 1010)));
  auto early = expire_executions(*registry_, 1000 + 119);
  ASSERT_TRUE(early);
  EXPECT_EQ(*early, 0);
  auto expired = expire_executions(*registry_, 1000 + 120);
  ASSERT_TRUE(expired);
  EXPECT_EQ(*expired, 1);
  EXPECT_EQ(execution("j1", "lamp").status, kTimedOut);
  EXPECT_EQ(execution("j1", "fan").status, kInProgress);
  auto late = update_execution(*registry_, "j1", "lamp", {.status = kSucceeded}, 1200);
  EXPECT_EQ(std::get<JobsError>(late).code, "InvalidStateTransition");
}

TEST_F(JobsEngineTest, InProgressTimeoutFromTheJobBoundsEveryStep) {
  make_job("j1", json{{"timeoutConfig", {{"inProgressTimeoutInMinutes", 1}}}});
  (void)start_next(*registry_, "lamp", std::nullopt, 10, 1000);  // step 10 min > in-progress 1
  EXPECT_EQ(execution("j1", "lamp").timeout_at, 1060);
  // A new step timer never extends past the in-progress timer.
  (void)update_execution(*registry_, "j1", "lamp",
                         {.status = kInProgress, .step_timeout_minutes = 5}, 1030);
  EXPECT_EQ(execution("j1", "lamp").timeout_at, 1060);
  ASSERT_TRUE(expire_executions(*registry_, 1060));
  EXPECT_EQ(execution("j1", "lamp").status, kTimedOut);
  EXPECT_EQ(job_status("j1"), registry::kJobCompleted);
}

TEST_F(JobsEngineTest, AbortCriteriaCancelTheJobAndItsQueuedExecutions) {
  json abort = {{"criteriaList",
                 {{{"failureType", "FAILED"},
                   {"action", "CANCEL"},
                   {"thresholdPercentage", 50},
                   {"minNumberOfExecutedThings", 2}}}}};
  make_job("j1", json{{"abortConfig", abort}}, {"a", "b", "c", "d"});
  (void)update_execution(*registry_, "j1", "a", {.status = kFailed}, 1100);
  EXPECT_EQ(job_status("j1"), registry::kJobInProgress);  // 1 executed < 2
  (void)update_execution(*registry_, "j1", "b", {.status = kSucceeded}, 1100);
  // 1 failed of 2 executed = 50% ≥ 50%: aborted.
  EXPECT_EQ(job_status("j1"), registry::kJobCanceled);
  EXPECT_EQ(execution("j1", "c").status, kCanceled);
  EXPECT_EQ(execution("j1", "d").status, kCanceled);
}

TEST_F(JobsEngineTest, EveryExecutionWriteIsAChangeForItsThing) {
  std::vector<registry::Change> seen;
  registry_->add_change_listener([&](const std::vector<registry::Change>& changes) {
    seen.insert(seen.end(), changes.begin(), changes.end());
  });
  make_job("j1");
  (void)start_next(*registry_, "lamp", std::nullopt, std::nullopt, 1100);
  ASSERT_TRUE(registry_->delete_job("j1"));
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& change : seen) {
    EXPECT_EQ(change.kind, registry::Change::Kind::job_execution);
    EXPECT_EQ(change.id, "lamp");
    EXPECT_EQ(change.detail, "j1");
  }
  EXPECT_EQ(seen[0].status, kQueued);
  EXPECT_EQ(seen[1].status, kInProgress);
  EXPECT_EQ(seen[2].status, "");  // deleted
}

TEST_F(JobsEngineTest, StatusDetailsBounds) {
  EXPECT_FALSE(check_status_details(json{{"a:b_c-1", "v"}}));
  EXPECT_TRUE(check_status_details(json{{"bad key", "v"}}));
  EXPECT_TRUE(check_status_details(json{{"k", 1}}));
  EXPECT_TRUE(check_status_details(json{{"k", ""}}));
  EXPECT_TRUE(check_status_details(json{{"k", std::string(1025, 'x')}}));
  json eleven = json::object();
  for (int i = 0; i < 11; ++i) eleven["k" + std::to_string(i)] = "v";
  EXPECT_TRUE(check_status_details(eleven));
  EXPECT_TRUE(check_status_details(json::array()));
}

}  // namespace
}  // namespace zt::cloud::jobs
