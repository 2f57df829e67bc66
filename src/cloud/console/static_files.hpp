// The console's bundled files (build/web: index.html + assets/), served under /console/. A
// request path is mapped to a file only through a strict allow-list of segment characters, and
// the resolved file must stay inside the web directory (no traversal, no symlink escape, no
// dot files); anything else is "not found".
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt::cloud::console {

// "/console/" → index.html; "/console/assets/<a>/<b>.js" → assets/<a>/<b>.js. nullopt when the
// raw path is not one we serve (bad characters, "..", empty segments, encoded bytes, too deep).
std::optional<std::string> static_relative_path(std::string_view raw_path);

// The file under `web_dir` for `relative` if it exists, is a regular file and resolves (after
// symlinks) inside `web_dir`.
std::optional<std::filesystem::path> resolve_static_file(const std::filesystem::path& web_dir,
                                                         std::string_view relative);

// Content-Type by extension (text types with charset=utf-8); application/octet-stream otherwise.
std::string content_type_of(std::string_view file_name);

struct StaticFile {
  std::string body;
  std::string content_type;
};
// Reads a resolved file (at most 16 MiB).
Result<StaticFile> read_static_file(const std::filesystem::path& file);

}  // namespace zt::cloud::console
