// Fuzz target: a Lambda deployment package as a client uploads it (CreateFunction's Code.ZipFile,
// UpdateFunctionCode): inspect_zip's checks, then extraction into a fresh directory with small
// limits, so names that leave the directory, links, lying sizes and bombs are all reached. After a
// successful extraction nothing may exist outside the directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "cloud/lambda/zip_archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zt::cloud::lambda;
  static const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("zt-fuzz-lambda-zip-" + std::to_string(::getpid()));
  const ZipLimits limits{.max_zipped_bytes = 1 << 20,
                         .max_unzipped_bytes = 4 << 20,
                         .max_entries = 256,
                         .max_name_bytes = 256};
  std::span<const uint8_t> zip(data, size);
  (void)inspect_zip(zip, limits);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  std::filesystem::create_directories(root, ec);
  (void)extract_zip(zip, root / "code", limits);
  // Everything written is under root/code: the only entry of root.
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (entry.path().filename() != "code") __builtin_trap();
  }
  std::filesystem::remove_all(root, ec);
  return 0;
}
