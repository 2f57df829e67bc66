// The single helpers of src/common/ (issue 14): HOST:PORT, UUIDs, the clocks and UniqueFd.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "common/host_port.hpp"
#include "common/time.hpp"
#include "common/unique_fd.hpp"
#include "common/uuid.hpp"

namespace zt {
namespace {

TEST(HostPort, SplitsAtTheLastColonAndUnbracketsIpv6) {
  EXPECT_EQ(*parse_host_port("127.0.0.1:8883", "--listen"), (HostPort{"127.0.0.1", 8883}));
  EXPECT_EQ(*parse_host_port("localhost:0", "--http"), (HostPort{"localhost", 0}));
  EXPECT_EQ(*parse_host_port("[::1]:4580", "--http"), (HostPort{"::1", 4580}));
  EXPECT_EQ(*parse_host_port("host:65535", "--http"), (HostPort{"host", 65535}));
}

TEST(HostPort, RefusesWhatIsNotHostColonPortNamingTheOption) {
  for (const char* bad : {"127.0.0.1", "host:", ":8883", "host:65536", "host:80x", "host:-1",
                          "host: 80", "host:port", ""}) {
    auto parsed = parse_host_port(bad, "--mqtt");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message.find("--mqtt"), std::string::npos) << bad;
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
  }
}

TEST(Uuid, FormatsVersion4TextFromSixteenBytes) {
  Bytes zeros(16, 0x00);
  EXPECT_EQ(format_uuid_v4(zeros), "00000000-0000-4000-8000-000000000000");
  Bytes ones(16, 0xFF);
  EXPECT_EQ(format_uuid_v4(ones), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  Bytes counting;
  for (uint8_t i = 0; i < 16; ++i) counting.push_back(i);
  EXPECT_EQ(format_uuid_v4(counting), "00010203-0405-4607-8809-0a0b0c0d0e0f");
  EXPECT_THROW(format_uuid_v4(Bytes(15, 0)), std::invalid_argument);
}

TEST(Uuid, NewUuidsAreVersion4AndDistinct) {
  const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = new_uuid();
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Clock, WallClockUnitsAgree) {
  int64_t seconds = unix_now();
  int64_t ms = unix_now_ms();
  int64_t us = unix_now_us();
  double fractional = unix_now_seconds();
  // Read in this order, each is no earlier than the one before (in its own unit).
  EXPECT_LE(seconds, ms / 1000);
  EXPECT_LE(ms, us / 1000);
  EXPECT_LE(static_cast<double>(us / 1000) / 1000.0, fractional);
  EXPECT_GT(seconds, 1'700'000'000);  // after 2023: the epoch, not uptime
}

TEST(Clock, ASteadyClockCanBeAFake) {
  SteadyTime now{};
  SteadyClock clock = [&] { return now; };
  EXPECT_EQ(clock(), SteadyTime{});
  now += std::chrono::seconds(5);
  EXPECT_EQ(clock() - SteadyTime{}, std::chrono::seconds(5));
  SteadyClock real = steady_now;
  SteadyTime first = real();
  SteadyTime second = steady_now();
  EXPECT_LE(first, second);
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesOnScopeExitAndMovesOwnership) {
  int raw = -1;
  {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    raw = fd.get();
    EXPECT_TRUE(is_open(raw));
    UniqueFd moved(std::move(fd));
    EXPECT_FALSE(fd.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(moved.get(), raw);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, ReleaseGivesUpAndResetReplaces) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = fd.release();
  EXPECT_FALSE(fd);
  EXPECT_TRUE(is_open(raw));
  fd.reset(raw);
  EXPECT_EQ(fd.get(), raw);
  int other = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  fd.reset(other);             // closes the first
  EXPECT_FALSE(is_open(raw));  // `other` was opened while `raw` was open: a different number
  EXPECT_EQ(fd.get(), other);
  UniqueFd assigned;
  assigned = std::move(fd);
  EXPECT_EQ(assigned.get(), other);
  EXPECT_EQ(assigned.close(), 0);
  EXPECT_FALSE(assigned);
  EXPECT_FALSE(is_open(other));
  EXPECT_EQ(assigned.close(), 0);  // closing nothing is fine
}

}  // namespace
}  // namespace zt
