// Process plumbing for the benchmarks that start servers (ours and their anchors) on 127.0.0.1:
// ephemeral ports, children that die with the benchmark, bounded waits.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // before Boost 1.74 asio/awaitable.hpp

#include <boost/asio.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace zt::bench {

struct ChildProcess {
  std::string name;
  pid_t pid = -1;
  uint16_t port = 0;
};

inline uint16_t free_port() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(
      context, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

inline bool port_open(uint16_t port) {
  boost::asio::io_context context;
  boost::asio::ip::tcp::socket socket(context);
  boost::system::error_code ec;
  socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port),
                 ec);
  return !ec;
}

// Starts argv[0] (PATH lookup) with stdout/stderr to the given files ("" = inherit).
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& stdout_path = {},
                   const std::string& stderr_path = {}) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the benchmark
    auto redirect = [](const std::string& path, int fd) {
      if (path.empty()) return;
      int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (file >= 0) dup2(file, fd);
    };
    redirect(stdout_path, 1);
    redirect(stderr_path, 2);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// SIGTERM, then SIGKILL after 2 s.
inline void stop(ChildProcess& child) {
  if (child.pid <= 0) return;
  kill(child.pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(child.pid, nullptr, WNOHANG) == child.pid) {
      child.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(child.pid, SIGKILL);
  waitpid(child.pid, nullptr, 0);
  child.pid = -1;
}

// Resident set of a process in KiB (VmRSS of /proc/<pid>/status), -1 when unreadable.
inline long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// The disk's bound: how many 4 KiB write + fdatasync pairs one thread completes per second on a
// file in `dir` (what one group commit costs at least). The file is allocated first, as a WAL is
// reused, so the loop measures overwrite + fdatasync.
inline double disk_fsyncs_per_second(const std::filesystem::path& dir) {
  auto file = dir / "fsync-probe";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  std::string page(4096, 'x');
  for (int i = 0; i < 256; ++i) (void)!::pwrite(fd, page.data(), page.size(), 4096 * i);
  (void)::fsync(fd);
  int count = 0;
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) {
    if (::pwrite(fd, page.data(), page.size(), 4096 * (count % 256)) < 0) break;
    if (::fdatasync(fd) != 0) break;
    ++count;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  std::filesystem::remove(file);
  return count / seconds;
}

}  // namespace zt::bench
