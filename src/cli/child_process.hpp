// A child process of ztp (`ztp demo` starts `ztp cloud run` and `ztp kit run` this way): its
// stdout and stderr go to files, it learns of our death (PR_SET_PDEATHSIG, so a killed demo
// leaves no cloud behind), and stopping it is SIGTERM, a bounded wait, then SIGKILL.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace zt::cli {

class ChildProcess {
 public:
  // Runs `argv` (argv[0] is the program path) with stdout → `out`, stderr → `err` (truncated), in
  // our environment plus `extra_env` ("NAME=value", replacing a variable of the same name): the
  // way to hand a child a secret, which must never go in argv (/proc/<pid>/cmdline).
  static Result<ChildProcess> start(std::vector<std::string> argv, const std::filesystem::path& out,
                                    const std::filesystem::path& err,
                                    std::vector<std::string> extra_env = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // stop()

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  // Whether it still runs; records its exit status when it has ended.
  bool running();
  // "exited with status N" / "killed by signal N" once it has ended.
  std::string exit_description() const;
  // SIGTERM, then SIGKILL after `grace`; true when it ended from the SIGTERM. Idempotent.
  bool stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  ChildProcess(pid_t pid, std::string name) : pid_(pid), name_(std::move(name)) {}
  pid_t pid_ = -1;
  std::string name_;
  std::optional<int> wait_status_;
};

// Polls `file` until a line starting with `prefix` appears and returns the rest of that line (the
// last such line). Gives up after `limit`, or at once when `child` has ended (its stderr is then
// the likely reason, quoted from `err_file`), or when `stop` becomes true.
Result<std::string> wait_for_line(ChildProcess& child, const std::filesystem::path& file,
                                  std::string_view prefix, std::chrono::milliseconds limit,
                                  const std::filesystem::path& err_file,
                                  const std::atomic<bool>* stop = nullptr);

// The path of the running executable (/proc/self/exe), so children run the same ztp.
Result<std::filesystem::path> self_executable();

}  // namespace zt::cli
