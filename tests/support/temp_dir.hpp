// A fresh private directory for one test, removed with everything in it when the test ends
// (the setup and cleanup that most unit tests used to write out by hand).
#pragma once

#include <filesystem>
#include <string_view>

namespace zt::testing {

class TempDir {
 public:
  // Under $TMPDIR (or /tmp): zt-<prefix>-<random>, created 0700.
  explicit TempDir(std::string_view prefix = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& relative) const {
    return path_ / relative;
  }
  operator const std::filesystem::path&() const { return path_; }  // NOLINT: used as a path

 private:
  std::filesystem::path path_;
};

}  // namespace zt::testing
