#include "common/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "common/unique_fd.hpp"

namespace zt {

namespace {

Error io_error(const std::filesystem::path& path, std::string_view what, int err) {
  return make_error(err == EACCES || err == EPERM || err == EROFS ? Errc::permission : Errc::io,
                    std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

std::string temp_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return ".tmp." + std::to_string(getpid()) + "." + std::to_string(rng() & 0xFFFFFFFF);
}

}  // namespace

Status write_file_atomic(const std::filesystem::path& path, ByteView content, unsigned mode) {
  std::filesystem::path dir =
      path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::filesystem::path temp = dir / (path.filename().string() + temp_suffix());
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return io_error(path, "cannot write", errno);
  // The mode given to open() is filtered by the umask; key files must be exactly `mode`.
  if (::fchmod(fd.get(), mode) != 0) {
    int err = errno;
    fd.reset();
    ::unlink(temp.c_str());
    return io_error(path, "cannot set mode of", err);
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      fd.reset();
      ::unlink(temp.c_str());
      return io_error(path, "cannot write", err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) {
    int err = errno;
    fd.reset();
    ::unlink(temp.c_str());
    return io_error(path, "cannot flush", err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return io_error(path, "cannot replace", err);
  }
  if (UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir_fd) {
    ::fsync(dir_fd.get());
  }
  return ok();
}

Result<Bytes> read_file(const std::filesystem::path& path, size_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOENT) return make_error(Errc::not_found, path.string() + " does not exist");
    return io_error(path, "cannot read", err);
  }
  Bytes out;
  uint8_t buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return io_error(path, "cannot read", err);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      return make_error(Errc::invalid_argument,
                        path.string() + " is larger than " + std::to_string(max_size) + " bytes");
    }
    out.insert(out.end(), buffer, buffer + n);
  }
  return out;
}

Result<std::string> read_text_file(const std::filesystem::path& path, size_t max_size) {
  ZT_TRY_ASSIGN(Bytes bytes, read_file(path, max_size));
  return std::string(bytes.begin(), bytes.end());
}

Status ensure_directory(const std::filesystem::path& path_in, unsigned mode) {
  std::filesystem::path path = path_in.lexically_normal();
  if (!path.has_filename() && path.has_parent_path()) path = path.parent_path();  // "dir/"
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return make_error(Errc::io,
                        "cannot create directory " + path_in.string() + ": " + ec.message());
    }
    if (::mkdir(path.c_str(), mode) == 0) {
      // mkdir's mode is filtered by the umask; the directory must be exactly `mode`.
      if (::chmod(path.c_str(), mode) != 0) return io_error(path_in, "cannot set mode of", errno);
    } else if (errno != EEXIST) {
      return io_error(path_in, "cannot create directory", errno);
    }
  }
  if (!std::filesystem::is_directory(path)) {
    return make_error(Errc::invalid_argument, path_in.string() + " is not a directory");
  }
  if (::access(path.c_str(), W_OK) != 0) {
    return io_error(path_in, "cannot write into directory", errno);
  }
  return ok();
}

Status ensure_private_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return io_error(path, "cannot open", errno);
  int result = ::fchmod(fd.get(), 0600);
  int err = errno;
  if (result != 0) return io_error(path, "cannot set mode of", err);
  return ok();
}

Status ensure_private_directory(const std::filesystem::path& path) {
  ZT_TRY(ensure_directory(path, 0700));
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return io_error(path, "cannot inspect", errno);
  if (info.st_uid == ::geteuid() && (info.st_mode & 077) != 0) {
    if (::chmod(path.c_str(), info.st_mode & 0700) != 0) {
      return io_error(path, "cannot make private (mode 0700)", errno);
    }
  }
  return ok();
}

}  // namespace zt
