#include "cloud/functions/process.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

extern char** environ;

namespace zt::cloud::functions {

namespace {

// A function that exits without reading stdin makes our write() raise SIGPIPE, which would kill the
// whole cloud. Block it on this thread while we write (the write then fails with EPIPE) and
// discard a SIGPIPE left pending, restoring the thread's mask afterwards.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_{}, old_{};
};

struct Pipe {
  UniqueFd read_end, write_end;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return true;
  }
  void close_read() { read_end.reset(); }
  void close_write() { write_end.reset(); }
};

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& overrides,
                                            bool inherit) {
  std::vector<std::string> out;
  for (char** entry = inherit ? environ : nullptr; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string name(text.substr(0, text.find('=')));
    if (overrides.find(name) == overrides.end()) out.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
  return out;
}

}  // namespace

// Hand-written over posix_spawn rather than Boost.Process: Boost.Process 1.74 would pull in
// Boost.Filesystem, and all we need is three pipes, a deadline and a process-group kill.
Result<ProcessResult> run_process(const ProcessRequest& request) {
  SigpipeBlock sigpipe_blocked;
  Pipe in, out, err;
  if (!in.open() || !out.open() || !err.open()) {
    return make_error(Errc::io, std::string("cannot create pipes: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read_end.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write_end.get(), STDERR_FILENO);
  // Nothing but the three pipes reaches the function: the cloud's listening sockets, client
  // connections and database must not outlive the cloud in a leftover child (a child holding the
  // listening socket makes the next `ztp cloud run` fail with "Address already in use"). Our own
  // descriptors are opened with CLOEXEC, but a library's may not be; glibc ≥ 2.34 closes every
  // descriptor from 3 up in the child (close_range, or /proc/self/fd where it is missing).
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
#else
  if (auto limit = ::sysconf(_SC_OPEN_MAX); limit > 0) {
    for (int fd = STDERR_FILENO + 1; fd < std::min<long>(limit, 65536); ++fd) {
      if (::fcntl(fd, F_GETFD) >= 0) posix_spawn_file_actions_addclose(&actions, fd);
    }
  }
#endif
  if (!request.working_directory.empty())
    posix_spawn_file_actions_addchdir_np(&actions, request.working_directory.c_str());
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attributes, 0);  // its own group, so a timeout kills its children too
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attributes, &empty);

  std::vector<std::string> environment =
      merged_environment(request.environment, request.inherit_environment);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> arguments =
      request.argv.empty() ? std::vector<std::string>{"/bin/sh", "-c", request.command}
                           : request.argv;
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  std::string shown = request.argv.empty() ? request.command : request.argv.front();

  auto started = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int spawn_error =
      posix_spawn(&pid, argv.front(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawn_error != 0) {
    return make_error(Errc::io, "cannot start '" + shown + "': " + std::strerror(spawn_error));
  }
  in.close_read();
  out.close_write();
  err.close_write();
  ::fcntl(in.write_end.get(), F_SETFL, O_NONBLOCK);

  ProcessResult result;
  size_t input_written = 0;
  if (request.input.empty()) in.close_write();
  // The deadline covers the whole run, not only the time the function keeps stdout/stderr open: a
  // function that closes both (`exec >&- 2>&-; sleep 40`) is still killed at its timeout. A pidfd
  // (Linux ≥ 5.3) wakes the poll when the process exits; without one, the poll wakes every 50 ms to
  // check.
  auto deadline = started + request.timeout;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  bool exited = false;
  // Whether the function has exited, without reaping it: while it is a zombie its pid (the
  // process group id) cannot be reused, so the group kill below cannot reach anyone else.
  auto check_exited = [&] {
    if (exited) return;
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno != EINTR) {
        exited = true;  // ECHILD: nothing left to wait for
        return;
      }
    }
    exited = info.si_pid == pid;
  };
  while (out.read_end.get() >= 0 || err.read_end.get() >= 0 || !exited) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[4];
    nfds_t count = 0;
    auto watch = [&](int fd, short events) {
      if (fd >= 0) fds[count++] = pollfd{fd, events, 0};
    };
    watch(out.read_end.get(), POLLIN);
    watch(err.read_end.get(), POLLIN);
    watch(in.write_end.get(), POLLOUT);
    if (!exited) watch(pidfd.get(), POLLIN);
    int64_t wait_ms =
        std::min<int64_t>(remaining.count(), (!exited && pidfd.get() < 0) ? 50 : 1000);
    int ready = ::poll(fds, count, static_cast<int>(wait_ms));
    if (ready < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < count && ready > 0; ++i) {
      if (fds[i].revents == 0 || fds[i].fd == pidfd.get()) continue;
      if (fds[i].fd == in.write_end.get()) {
        ssize_t n = ::write(in.write_end.get(), request.input.data() + input_written,
                            request.input.size() - input_written);
        if (n > 0) input_written += static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN) in.close_write();  // the function stopped reading (EPIPE)
        if (input_written == request.input.size()) in.close_write();
        continue;
      }
      Pipe& source = fds[i].fd == out.read_end.get() ? out : err;
      std::string& sink =
          fds[i].fd == out.read_end.get() ? result.standard_output : result.standard_error;
      char buffer[8192];
      ssize_t n = ::read(source.read_end.get(), buffer, sizeof buffer);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        source.close_read();
        continue;
      }
      size_t room = request.max_output_bytes - std::min(request.max_output_bytes, sink.size());
      sink.append(buffer, std::min(room, static_cast<size_t>(n)));
    }
    check_exited();
  }
  // The function's process group goes with it: on a timeout everything in it is killed; after a
  // normal exit, whatever it left running in the background is too (AWS freezes a Lambda's
  // environment once the handler returns). The function is not reaped yet, so the id is still its.
  ::kill(-pid, SIGKILL);
  pidfd.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  return result;
}

}  // namespace zt::cloud::functions
