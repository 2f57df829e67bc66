#include <gtest/gtest.h>
#include <signal.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <thread>

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
  ASSERT_TRUE(dispatcher.submit("flaky", {{"n", 1}}, [&](const nlohmann::json& event) -> Status {
    EXPECT_EQ(event["n"], 1);
    return ++calls < 2 ? Status(make_error(Errc::io, "first attempt fails")) : ok();
  }));
  ASSERT_TRUE(dispatcher.submit("broken", {}, [](const nlohmann::json&) -> Status {
    return make_error(Errc::io, "always");
  }));
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

// issue 12: `exec >&- 2>&-; sleep 40` used to be logged "ok" after 40 s: the deadline ended with
// the output pipes. Now it holds until the process has exited, and kills its group.
TEST_F(Functions, TimeoutHoldsAfterTheFunctionClosesItsOutput) {
  ProcessRequest request;
  request.command = "exec >&- 2>&-; sleep 30";
  request.timeout = std::chrono::milliseconds(300);
  auto result = run_process(request);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->timed_out);
  EXPECT_FALSE(result->succeeded());
  EXPECT_EQ(result->signal, SIGKILL);
}

// Reads the state letter of /proc/<pid>/stat ('\0' once the process is gone).
char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '\0' : text[close + 2];
}

TEST_F(Functions, WhatTheFunctionLeftRunningIsKilledWhenItReturns) {
  ProcessRequest request;
  // A background child that closed its output, then a normal exit.
  request.command = "(exec >&- 2>&- </dev/null; sleep 30) & echo $!";
  auto result = run_process(request);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->succeeded());
  pid_t leftover = std::stoi(result->standard_output);
  // SIGKILL was sent before run_process returned; the orphan is reaped by init at its own pace.
  char state = process_state(leftover);
  for (int i = 0; i < 500 && state != '\0' && state != 'Z' && state != 'X'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    state = process_state(leftover);
  }
  EXPECT_TRUE(state == '\0' || state == 'Z' || state == 'X') << "state " << state;
}

TEST_F(Functions, TheFunctionInheritsNoDescriptorButItsPipes) {
  // A descriptor without CLOEXEC (as a library might leave one): the function must not see it, or
  // a leftover child would keep the cloud's listening sockets open.
  int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 3);
  ProcessRequest request;
  request.command = "test -e /proc/self/fd/" + std::to_string(leaked) +
                    " && echo open || echo closed; test -e /proc/self/fd/2 && echo stderr";
  auto result = run_process(request);
  ::close(leaked);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->standard_output, "closed\nstderr\n");
}

// A gate the test opens: handlers block on it, so the queue can be filled deterministically.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  int waiting = 0;
  void wait() {
    std::unique_lock lock(mutex);
    ++waiting;
    changed.notify_all();
    changed.wait(lock, [&] { return open; });
  }
  void wait_for_waiters(int count) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return waiting >= count; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

TEST_F(Functions, DispatcherQueueIsBoundedAndDropsDuplicates) {
  Gate gate;
  std::atomic<int> ran{0};
  Dispatcher dispatcher(1, RetryPolicy{}, nullptr, 3);
  auto blocking = [&](const nlohmann::json&) -> Status {
    gate.wait();
    ++ran;
    return ok();
  };
  ASSERT_TRUE(dispatcher.submit("f", {{"n", 0}}, blocking, "busy"));
  gate.wait_for_waiters(1);  // the only worker is busy; what follows waits in the queue
  ASSERT_TRUE(dispatcher.submit("f", {{"n", 1}}, blocking, "device-1"));
  auto duplicate = dispatcher.submit("f", {{"n", 2}}, blocking, "device-1");
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::conflict);
  EXPECT_NE(duplicate.error().message.find("already queued"), std::string::npos);
  // The same key for another function, or no key, is not a duplicate.
  ASSERT_TRUE(dispatcher.submit("g", {{"n", 3}}, blocking, "device-1"));
  ASSERT_TRUE(dispatcher.submit("f", {{"n", 4}}, blocking));
  EXPECT_EQ(dispatcher.queued(), 3u);
  auto full = dispatcher.submit("h", {}, blocking, "other");
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("queue is full"), std::string::npos);
  gate.release();
  dispatcher.drain();
  EXPECT_EQ(ran.load(), 4);
  // Drained: device-1 may be queued again.
  ASSERT_TRUE(dispatcher.submit(
      "f", {}, [](const nlohmann::json&) { return ok(); }, "device-1"));
  dispatcher.drain();
}

TEST_F(Functions, RefusalsAreNotRetried) {
  std::mutex mutex;
  std::vector<AttemptRecord> records;
  Dispatcher dispatcher(1, RetryPolicy{3, std::chrono::milliseconds(1), 1.0},
                        [&](const AttemptRecord& record) {
                          std::lock_guard lock(mutex);
                          records.push_back(record);
                        });
  for (Errc code : {Errc::permission, Errc::conflict}) {
    ASSERT_TRUE(dispatcher.submit("refuses", {}, [code](const nlohmann::json&) -> Status {
      return make_error(code, "refused");
    }));
  }
  dispatcher.drain();
  std::lock_guard lock(mutex);
  ASSERT_EQ(records.size(), 2u);
  for (const auto& record : records) {
    EXPECT_TRUE(record.final);
    EXPECT_EQ(record.attempt, 1);
  }
}

}  // namespace
}  // namespace zt::cloud::functions
