// A Lambda deployment package: a zip archive of files stored without compression (method 0,
// APPNOTE.TXT §4.3–4.4), every entry dated 1980-01-01 00:00 with mode 0644, so the same files
// always give the same bytes — and the same CodeSha256, which is how `ztp aws deploy-jitr` sees
// that the deployed code is already current.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::aws {

struct ZipEntry {
  std::string name;  // relative path with '/' separators
  std::string content;
};

// Errors: Errc::invalid_argument for a name that is empty, absolute or has a ".." segment, and
// for sizes beyond the classic (non-ZIP64) format's 4 GiB / 65535 entries.
Result<Bytes> make_zip(const std::vector<ZipEntry>& entries);

}  // namespace zt::aws
