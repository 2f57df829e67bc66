// The shared fixtures of tests/support/ do what the tests rely on.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace zt {
namespace {

namespace fs = std::filesystem;

TEST(TempDir, IsFreshPrivateAndRemovedWithItsContents) {
  fs::path kept;
  {
    zt::testing::TempDir first("support");
    zt::testing::TempDir second("support");
    EXPECT_NE(first.path(), second.path());
    ASSERT_TRUE(fs::is_directory(first.path()));
    EXPECT_TRUE(fs::is_empty(first.path()));
    struct stat info {};
    ASSERT_EQ(::stat(first.path().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u);
    fs::create_directories(first / "a/b");
    std::ofstream(first / "a/b/file") << "x";
    kept = first.path();
  }
  EXPECT_FALSE(fs::exists(kept));
}

TEST(FakeClock, MovesOnlyWhenAdvanced) {
  zt::testing::FakeClock fake;
  SteadyClock clock = fake.clock();
  SteadyTime start = clock();
  EXPECT_EQ(clock(), start);
  fake.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(fake.now(), clock());
}

}  // namespace
}  // namespace zt
