#include "cli/child_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/file.hpp"
#include "common/unique_fd.hpp"

namespace zt::cli {

using namespace std::chrono_literals;

Result<ChildProcess> ChildProcess::start(std::vector<std::string> argv,
                                         const std::filesystem::path& out,
                                         const std::filesystem::path& err,
                                         std::vector<std::string> extra_env) {
  if (argv.empty()) return make_error(Errc::invalid_argument, "no program to start");
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed (POSIX fork(2)), so no allocation there.
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view existing(*entry);
    bool replaced = std::any_of(extra_env.begin(), extra_env.end(), [&](const std::string& extra) {
      size_t name = extra.find('=');
      return existing.substr(0, existing.find('=')) == std::string_view(extra).substr(0, name);
    });
    if (!replaced) env.push_back(*entry);
  }
  for (auto& extra : extra_env) env.push_back(extra.data());
  env.push_back(nullptr);
  UniqueFd out_fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out_fd) {
    return make_error(Errc::io, fmt::format("{}: {}", out.string(), std::strerror(errno)));
  }
  UniqueFd err_fd(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!err_fd) {
    return make_error(Errc::io, fmt::format("{}: {}", err.string(), std::strerror(errno)));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Ends with us even when we are SIGKILLed; the check closes the race with an early death.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    // Ctrl-C in the terminal reaches the whole foreground group; the children are stopped by us,
    // in order, so they get their own group.
    ::setpgid(0, 0);
    ::dup2(out_fd.get(), STDOUT_FILENO);
    ::dup2(err_fd.get(), STDERR_FILENO);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execve(args[0], args.data(), env.data());
    ::_exit(127);
  }
  int saved = errno;
  out_fd.reset();
  err_fd.reset();
  if (pid < 0) return make_error(Errc::io, fmt::format("fork: {}", std::strerror(saved)));
  std::string name = std::filesystem::path(argv[0]).filename().string();
  for (size_t i = 1; i < argv.size() && i < 3; ++i) name += " " + argv[i];
  return ChildProcess(pid, std::move(name));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      name_(std::move(other.name_)),
      wait_status_(other.wait_status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    name_ = std::move(other.name_);
    wait_status_ = other.wait_status_;
  }
  return *this;
}

ChildProcess::~ChildProcess() { stop(); }

bool ChildProcess::running() {
  if (pid_ < 0 || wait_status_) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_ || (done < 0 && errno == ECHILD)) {
    wait_status_ = done == pid_ ? status : 0;
    return false;
  }
  return true;
}

std::string ChildProcess::exit_description() const {
  if (!wait_status_) return "is running";
  if (WIFEXITED(*wait_status_))
    return fmt::format("exited with status {}", WEXITSTATUS(*wait_status_));
  if (WIFSIGNALED(*wait_status_))
    return fmt::format("was killed by signal {}", WTERMSIG(*wait_status_));
  return "ended";
}

bool ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ < 0 || !running()) return true;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return true;
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  wait_status_ = status;
  return false;
}

Result<std::string> wait_for_line(ChildProcess& child, const std::filesystem::path& file,
                                  std::string_view prefix, std::chrono::milliseconds limit,
                                  const std::filesystem::path& err_file,
                                  const std::atomic<bool>* stop) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto find = [&]() -> std::optional<std::string> {
    auto text = read_text_file(file, 1 << 20);
    if (!text) return std::nullopt;
    std::optional<std::string> found;
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) break;  // a line still being written
      std::string_view line(text->data() + start, end - start);
      if (line.starts_with(prefix)) found = std::string(line.substr(prefix.size()));
      start = end + 1;
    }
    return found;
  };
  for (;;) {
    if (auto found = find()) return *found;
    if (!child.running()) {
      auto err = read_text_file(err_file, 1 << 16);
      std::string why = err ? *err : std::string();
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return make_error(
          Errc::io, fmt::format("{} {} before printing '{}'{}{}", child.name(),
                                child.exit_description(), prefix, why.empty() ? "" : ": ", why));
    }
    if (stop && *stop) return make_error(Errc::io, "interrupted");
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(Errc::timeout,
                        fmt::format("{} did not print '{}' within {} s (see {})", child.name(),
                                    prefix, limit.count() / 1000, file.string()));
    }
    std::this_thread::sleep_for(50ms);
  }
}

Result<std::filesystem::path> self_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return make_error(Errc::io, "cannot find the ztp executable: " + ec.message());
  return path;
}

}  // namespace zt::cli
