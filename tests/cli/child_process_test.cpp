#include "cli/child_process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace zt::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir : zt::testing::TempDir {
  TempDir() : zt::testing::TempDir("child") {}
  const fs::path& path = zt::testing::TempDir::path();
};

TEST(ChildProcess, ReadsItsLineAndStopsOnSigterm) {
  TempDir dir;
  auto child =
      ChildProcess::start({"/bin/sh", "-c", "echo starting; echo 'listening at=42'; exec sleep 30"},
                          dir.path / "out", dir.path / "err");
  ASSERT_TRUE(child) << child.error().message;
  auto port = wait_for_line(*child, dir.path / "out", "listening at=", 10s, dir.path / "err");
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_EQ(*port, "42");
  EXPECT_TRUE(child->running());
  EXPECT_TRUE(child->stop(5s));  // ended by the SIGTERM, not the SIGKILL
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->exit_description(), "was killed by signal 15");
}

TEST(ChildProcess, AnEarlyExitIsReportedWithItsStderr) {
  TempDir dir;
  auto child = ChildProcess::start({"/bin/sh", "-c", "echo 'no state dir' >&2; exit 3"},
                                   dir.path / "out", dir.path / "err");
  ASSERT_TRUE(child);
  auto line = wait_for_line(*child, dir.path / "out", "listening", 10s, dir.path / "err");
  ASSERT_FALSE(line);
  EXPECT_NE(line.error().message.find("exited with status 3"), std::string::npos)
      << line.error().message;
  EXPECT_NE(line.error().message.find("no state dir"), std::string::npos);
}

TEST(ChildProcess, WaitingIsBoundedAndInterruptible) {
  TempDir dir;
  auto child =
      ChildProcess::start({"/bin/sh", "-c", "exec sleep 30"}, dir.path / "out", dir.path / "err");
  ASSERT_TRUE(child);
  auto timed_out = wait_for_line(*child, dir.path / "out", "listening", 300ms, dir.path / "err");
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().code, Errc::timeout);
  std::atomic<bool> stop{true};
  auto interrupted =
      wait_for_line(*child, dir.path / "out", "listening", 10s, dir.path / "err", &stop);
  ASSERT_FALSE(interrupted);
  EXPECT_EQ(interrupted.error().message, "interrupted");
}  // the destructor stops the child

}  // namespace
}  // namespace zt::cli
