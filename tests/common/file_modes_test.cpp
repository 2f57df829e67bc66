// Directories and logs that hold state are private: ensure_directory honours its mode whatever the
// umask, ensure_private_directory also tightens an existing directory, ensure_private_file a log.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/file.hpp"
#include "support/temp_dir.hpp"

namespace zt {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

class FileModes : public ::testing::Test {
 protected:
  void SetUp() override { old_umask_ = ::umask(022); }
  void TearDown() override { ::umask(old_umask_); }
  testing::TempDir temp_{"modes"};
  const fs::path& dir_ = temp_.path();
  mode_t old_umask_ = 0;
};

TEST_F(FileModes, NewDirectoriesGetExactlyTheirMode) {
  ASSERT_TRUE(ensure_directory(dir_ / "a" / "private", 0700));
  EXPECT_EQ(mode_of(dir_ / "a" / "private"), 0700u);
  ::umask(0);
  ASSERT_TRUE(ensure_directory(dir_ / "shared/", 0750));  // a trailing slash too
  EXPECT_EQ(mode_of(dir_ / "shared"), 0750u);
}

TEST_F(FileModes, AnExistingDirectoryKeepsItsModeUnlessItHoldsState) {
  fs::create_directory(dir_ / "work");
  ::chmod((dir_ / "work").c_str(), 0755);
  ASSERT_TRUE(ensure_directory(dir_ / "work", 0700));
  EXPECT_EQ(mode_of(dir_ / "work"), 0755u);  // e.g. the user's working directory
  ASSERT_TRUE(ensure_private_directory(dir_ / "work"));
  EXPECT_EQ(mode_of(dir_ / "work"), 0700u);
  ASSERT_TRUE(ensure_private_directory(dir_ / "fresh"));
  EXPECT_EQ(mode_of(dir_ / "fresh"), 0700u);
}

TEST_F(FileModes, LogsArePrivateNewOrOld) {
  ASSERT_TRUE(ensure_private_file(dir_ / "new.log"));
  EXPECT_EQ(mode_of(dir_ / "new.log"), 0600u);
  ASSERT_TRUE(write_file_atomic(dir_ / "old.log", std::string_view("kept\n"), 0644));
  ASSERT_TRUE(ensure_private_file(dir_ / "old.log"));
  EXPECT_EQ(mode_of(dir_ / "old.log"), 0600u);
  EXPECT_EQ(*read_text_file(dir_ / "old.log"), "kept\n");
}

TEST_F(FileModes, AFileWhereADirectoryShouldBeIsAnError) {
  ASSERT_TRUE(write_file_atomic(dir_ / "plain", std::string_view("x"), 0600));
  auto refused = ensure_directory(dir_ / "plain", 0700);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("is not a directory"), std::string::npos);
}

}  // namespace
}  // namespace zt
