#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>

#include "cloud/functions/dispatcher.hpp"
#include "cloud/functions/process.hpp"

namespace zt::cloud::functions {
namespace {

class Functions : public testing::Test {
 protected:
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
};

TEST_F(Functions, EventOnStdinEnvironmentAndExitCode) {
  ProcessRequest request;
  request.command = "cat; echo \"region=$AWS_DEFAULT_REGION\" >&2; exit 3";
  request.input = R"({"certificateId":"abc"})";
  request.environment = {{"AWS_DEFAULT_REGION", "eu-west-1"}};
  auto result = run_process(request);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->standard_output, request.input);
  EXPECT_EQ(result->standard_error, "region=eu-west-1\n");
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_FALSE(result->succeeded());
}

TEST_F(Functions, LargeInputAndOutputDoNotDeadlock) {
  ProcessRequest request;
  request.command = "cat";
  request.input = std::string(1 << 20, 'x');
  request.max_output_bytes = 2 << 20;
  auto result = run_process(request);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->standard_output.size(), request.input.size());
  EXPECT_TRUE(result->succeeded());
}

TEST_F(Functions, OutputIsBounded) {
  ProcessRequest request;
  request.command = "head -c 100000 /dev/zero";
  request.max_output_bytes = 1000;
  auto result = run_process(request);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->standard_output.size(), 1000u);
}

TEST_F(Functions, TimeoutKillsTheWholeProcessGroup) {
  ProcessRequest request;
  request.command = "sleep 30 & sleep 30; echo never";
  request.timeout = std::chrono::milliseconds(300);
  auto result = run_process(request);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->timed_out);
  EXPECT_EQ(result->signal, SIGKILL);
  EXPECT_EQ(result->standard_output, "");
  EXPECT_LT(result->duration_ms, 10000);
}

TEST_F(Functions, FunctionThatIgnoresStdinStillCompletes) {
  ProcessRequest request;
  request.command = "exit 0";
  request.input = std::string(1 << 20, 'x');
  auto result = run_process(request);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->succeeded());
}

TEST_F(Functions, DispatcherRetriesWithBackoffAndReportsEachAttempt) {
  std::mutex mutex;
  std::vector<AttemptRecord> records;
  Dispatcher dispatcher(2, RetryPolicy{3, std::chrono::milliseconds(20), 2.0},
                        [&](const AttemptRecord& record) {
                          std::lock_guard lock(mutex);
                          records.push_back(record);
                        });
  std::atomic<int> calls{0};
  dispatcher.submit("flaky", {{"n", 1}}, [&](const nlohmann::json& event) -> Status {
    EXPECT_EQ(event["n"], 1);
    return ++calls < 2 ? Status(make_error(Errc::io, "first attempt fails")) : ok();
  });
  dispatcher.submit("broken", {},
                    [](const nlohmann::json&) -> Status { return make_error(Errc::io, "always"); });
  dispatcher.drain();
  std::lock_guard lock(mutex);
  int flaky = 0, broken = 0;
  for (const auto& record : records) {
    if (record.function_name == "flaky") {
      ++flaky;
      EXPECT_EQ(record.final, record.succeeded);
      if (record.attempt == 1) {
        EXPECT_EQ(record.detail, "first attempt fails");
      }
    } else {
      ++broken;
      EXPECT_FALSE(record.succeeded);
      EXPECT_EQ(record.final, record.attempt == 3);
    }
  }
  EXPECT_EQ(flaky, 2);
  EXPECT_EQ(broken, 3);
}

}  // namespace
}  // namespace zt::cloud::functions
