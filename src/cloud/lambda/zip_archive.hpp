// A function's deployment package (a .zip file archive from a client: hostile input) checked and
// extracted with libzip (Debian's libzip-dev): a maintained parser that checks the archive's
// consistency (ZIP_CHECKCONS) and each entry's CRC, handles Zip64 and data descriptors, and runs in
// the cloud's process without a helper interpreter. What libzip does not decide is ours: every
// entry name is a relative path without "..", absolute or empty parts; no symbolic links or other
// special files; no encrypted entries; bounded entry count and unzipped size — the sizes counted
// as bytes are written, never trusted from the archive's headers (a zip bomb lies in them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::lambda {

struct ZipLimits {
  // Lambda quotas: 50 MB zipped for a direct upload, 250 MB unzipped (docs: "Lambda quotas").
  uint64_t max_zipped_bytes = 50ull * 1024 * 1024;
  uint64_t max_unzipped_bytes = 250ull * 1024 * 1024;
  uint64_t max_entries = 20000;  // ours: AWS names no count
  size_t max_name_bytes = 1024;
};

struct ZipEntry {
  std::string name;   // as stored ("dir/" for a directory)
  uint64_t size = 0;  // as declared (extraction counts the real bytes)
  bool directory = false;
  uint32_t mode = 0;  // Unix permission bits when the archive records them, else 0
};

// Reads the central directory and checks every entry; decompresses nothing. Errc::invalid_argument
// with a message naming the entry for anything refused, Errc::parse when it is not a zip at all.
Result<std::vector<ZipEntry>> inspect_zip(std::span<const uint8_t> zip, const ZipLimits& limits);

// inspect_zip, then every entry written under `directory` (which must not exist: it is created,
// and removed again when extraction fails). Regular files get mode 0644, or 0755 when the archive
// marks them executable for their owner (a `provided` function's bootstrap).
Status extract_zip(std::span<const uint8_t> zip, const std::filesystem::path& directory,
                   const ZipLimits& limits);

}  // namespace zt::cloud::lambda
