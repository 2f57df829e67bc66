#include "cloud/lambda/zip_archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "common/unique_fd.hpp"

namespace zt::cloud::lambda {
namespace {

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct FileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;
using ZipFile = std::unique_ptr<zip_file_t, FileCloser>;

// A name is a relative path of non-empty parts, none "." or ".." (no way out of the directory),
// with '/' as separator (a '\' would be a separator to a Windows tool: refused too).
bool safe_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos)
    return false;
  if (name.back() == '/') name.remove_suffix(1);
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

Result<Archive> open_archive(std::span<const uint8_t> zip, const ZipLimits& limits) {
  if (zip.size() > limits.max_zipped_bytes) {
    return make_error(Errc::invalid_argument, "the zip is " + std::to_string(zip.size()) +
                                                  " bytes; at most " +
                                                  std::to_string(limits.max_zipped_bytes));
  }
  // libzip takes zero bytes for a new, empty archive; a client sent nothing.
  if (zip.empty()) return make_error(Errc::parse, "not a readable zip file: it is empty");
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip.data(), zip.size(), 0, &error);
  if (source == nullptr) {
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return make_error(Errc::io, "zip: " + why);
  }
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive == nullptr) {
    zip_source_free(source);
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return make_error(Errc::parse, "not a readable zip file: " + why);
  }
  zip_error_fini(&error);
  return Archive(archive);
}

Result<std::vector<ZipEntry>> check_entries(zip_t* archive, const ZipLimits& limits) {
  zip_int64_t count = zip_get_num_entries(archive, 0);
  if (count < 0) return make_error(Errc::parse, "not a readable zip file");
  if (static_cast<uint64_t>(count) > limits.max_entries) {
    return make_error(Errc::invalid_argument, "the zip has " + std::to_string(count) +
                                                  " entries; at most " +
                                                  std::to_string(limits.max_entries));
  }
  std::vector<ZipEntry> entries;
  uint64_t declared = 0;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive, i, ZIP_FL_ENC_GUESS, &stat) != 0 || !(stat.valid & ZIP_STAT_NAME))
      return make_error(Errc::parse, "zip entry " + std::to_string(i) + " cannot be read");
    std::string name = stat.name;
    std::string shown = name.substr(0, 200);
    if (name.size() > limits.max_name_bytes || !safe_name(name)) {
      return make_error(Errc::invalid_argument,
                        "zip entry '" + shown + "' is not a relative path inside the package");
    }
    if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) && stat.encryption_method != ZIP_EM_NONE)
      return make_error(Errc::invalid_argument, "zip entry '" + shown + "' is encrypted");
    ZipEntry entry{.name = name, .size = stat.size, .directory = name.back() == '/', .mode = 0};
    zip_uint8_t system = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(archive, i, 0, &system, &attributes) == 0 &&
        system == ZIP_OPSYS_UNIX) {
      uint32_t mode = attributes >> 16;
      uint32_t type = mode & S_IFMT;
      if (type != 0 && type != S_IFREG && type != S_IFDIR) {
        return make_error(Errc::invalid_argument,
                          "zip entry '" + shown + "' is a symbolic link or special file");
      }
      if (type == S_IFDIR) entry.directory = true;
      entry.mode = mode & 07777;
    }
    declared += stat.size;  // a hint only: extraction counts what it writes
    if (declared > limits.max_unzipped_bytes) {
      return make_error(Errc::invalid_argument, "Unzipped size must be smaller than " +
                                                    std::to_string(limits.max_unzipped_bytes) +
                                                    " bytes");
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Status write_entry(zip_t* archive, zip_uint64_t index, const ZipEntry& entry,
                   const std::filesystem::path& target, uint64_t& written,
                   const ZipLimits& limits) {
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) return make_error(Errc::io, "zip entry '" + entry.name + "': " + ec.message());
  ZipFile file(zip_fopen_index(archive, index, 0));
  if (!file) {
    return make_error(Errc::invalid_argument,
                      "zip entry '" + entry.name + "' cannot be read: " + zip_strerror(archive));
  }
  // O_EXCL: a second entry of the same name does not overwrite the first; O_NOFOLLOW: nothing
  // here is a link (we created every directory ourselves), kept as a second fence.
  mode_t mode = (entry.mode & 0100) ? 0755 : 0644;
  UniqueFd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!out) {
    return make_error(errno == EEXIST ? Errc::invalid_argument : Errc::io,
                      "zip entry '" + entry.name + "': " + std::strerror(errno));
  }
  char buffer[64 * 1024];
  for (;;) {
    zip_int64_t n = zip_fread(file.get(), buffer, sizeof buffer);
    if (n < 0) {
      return make_error(Errc::invalid_argument, "zip entry '" + entry.name + "' is damaged: " +
                                                    zip_file_strerror(file.get()));
    }
    if (n == 0) break;
    written += static_cast<uint64_t>(n);
    if (written > limits.max_unzipped_bytes) {
      return make_error(Errc::invalid_argument, "Unzipped size must be smaller than " +
                                                    std::to_string(limits.max_unzipped_bytes) +
                                                    " bytes");
    }
    for (zip_int64_t done = 0; done < n;) {
      ssize_t put = ::write(out.get(), buffer + done, static_cast<size_t>(n - done));
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0)
        return make_error(Errc::io, "writing '" + entry.name + "': " + std::strerror(errno));
      done += put;
    }
  }
  return ok();
}

}  // namespace

Result<std::vector<ZipEntry>> inspect_zip(std::span<const uint8_t> zip, const ZipLimits& limits) {
  ZT_TRY_ASSIGN(Archive archive, open_archive(zip, limits));
  return check_entries(archive.get(), limits);
}

Status extract_zip(std::span<const uint8_t> zip, const std::filesystem::path& directory,
                   const ZipLimits& limits) {
  ZT_TRY_ASSIGN(Archive archive, open_archive(zip, limits));
  ZT_TRY_ASSIGN(auto entries, check_entries(archive.get(), limits));
  std::error_code ec;
  if (!std::filesystem::create_directory(directory, ec) || ec) {
    return make_error(Errc::io, "cannot create " + directory.string() +
                                    (ec ? ": " + ec.message() : ": it exists"));
  }
  uint64_t written = 0;
  Status status = ok();
  for (size_t i = 0; i < entries.size() && status; ++i) {
    const ZipEntry& entry = entries[i];
    std::filesystem::path target = directory / entry.name;
    if (entry.directory) {
      std::filesystem::create_directories(target, ec);
      if (ec) status = make_error(Errc::io, "zip entry '" + entry.name + "': " + ec.message());
      continue;
    }
    status = write_entry(archive.get(), i, entry, target, written, limits);
  }
  if (!status) std::filesystem::remove_all(directory, ec);
  return status;
}

}  // namespace zt::cloud::lambda
