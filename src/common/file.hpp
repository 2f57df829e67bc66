// Files are written atomically: a temporary in the same directory, fsync, rename over the target,
// fsync of the directory. A crash at any point leaves either the old file or the new one.
#pragma once

#include <filesystem>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt {

Status write_file_atomic(const std::filesystem::path& path, ByteView content, unsigned mode = 0644);
inline Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                                unsigned mode = 0644) {
  return write_file_atomic(path, as_bytes(content), mode);
}

// Reads a whole file; the error names the path. `max_size` guards against hostile inputs.
Result<Bytes> read_file(const std::filesystem::path& path, size_t max_size = 64u << 20);
Result<std::string> read_text_file(const std::filesystem::path& path, size_t max_size = 64u << 20);

// Creates `path` (and its parents, with the default mode) when missing; the directory itself gets
// exactly `mode`. An existing directory keeps its mode. Fails with a message naming `path` when it
// cannot be created or written into.
Status ensure_directory(const std::filesystem::path& path, unsigned mode = 0755);

// A directory that holds state (keys, a registry, a chip's state, logs): created 0700, and an
// existing one we own loses its group and other permissions (a directory left 0755 by an older
// ztp is tightened at the next start). Someone else's directory is left alone; its files are still
// written 0600.
Status ensure_private_directory(const std::filesystem::path& path);

// A file that others append to (a log): created empty if missing; mode 0600 either way.
Status ensure_private_file(const std::filesystem::path& path);

}  // namespace zt
