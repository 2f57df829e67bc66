#include "cloud/console/static_files.hpp"

#include <algorithm>
#include <array>
#include <system_error>

#include "common/file.hpp"

namespace zt::cloud::console {
namespace {

bool allowed_segment(std::string_view segment) {
  if (segment.empty() || segment.size() > 128 || segment.front() == '.') return false;
  for (char c : segment) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> static_relative_path(std::string_view raw_path) {
  constexpr std::string_view kRoot = "/console/";
  if (raw_path == kRoot || raw_path == "/console/index.html") return "index.html";
  constexpr std::string_view kAssets = "/console/assets/";
  if (!raw_path.starts_with(kAssets)) return std::nullopt;
  std::string_view rest = raw_path.substr(kAssets.size());
  std::string relative = "assets";
  int depth = 0;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    // Percent-encoded bytes never reach the file system: our file names do not need them.
    if (!allowed_segment(segment) || ++depth > 4) return std::nullopt;
    relative += "/";
    relative += segment;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return relative;
}

std::optional<std::filesystem::path> resolve_static_file(const std::filesystem::path& web_dir,
                                                         std::string_view relative) {
  std::error_code ec;
  auto root = std::filesystem::canonical(web_dir, ec);
  if (ec) return std::nullopt;
  auto file = std::filesystem::canonical(root / std::filesystem::path(relative), ec);
  if (ec || !std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  // Still inside the web dir after resolving symlinks: compare whole path components.
  auto [root_end, file_it] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (root_end != root.end()) return std::nullopt;
  return file;
}

std::string content_type_of(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (file_name.ends_with(extension)) return std::string(type);
  }
  return "application/octet-stream";
}

Result<StaticFile> read_static_file(const std::filesystem::path& file) {
  ZT_TRY_ASSIGN(std::string body, read_text_file(file, 16u << 20));
  return StaticFile{std::move(body), content_type_of(file.filename().string())};
}

}  // namespace zt::cloud::console
