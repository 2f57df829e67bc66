// Runs an external "Lambda": `/bin/sh -c <command>` with the event JSON on stdin and the local
// cloud's AWS_* variables in its environment, so an unmodified Python/boto3 handler script runs.
// Output is captured (bounded); a run past its timeout is killed with its whole process group.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::functions {

struct ProcessRequest {
  std::string command;  // run by /bin/sh -c (when argv is empty)
  // Run directly instead: argv[0] is the program's path (no shell, no PATH search).
  std::vector<std::string> argv{};
  std::string working_directory{};  // "" = the cloud's
  // false: the process gets `environment` only (a Lambda's clean environment), not the cloud's.
  bool inherit_environment = true;
  std::string input;  // written to stdin, then stdin is closed
  std::map<std::string, std::string>
      environment;  // added to (and overriding) the inherited environment
  std::chrono::milliseconds timeout{30000};
  size_t max_output_bytes = 1 << 20;  // per stream; the rest is discarded
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string standard_output;
  std::string standard_error;
  int64_t duration_ms = 0;
  bool succeeded() const { return !timed_out && exit_code == 0; }
};

// Fails only when the process cannot be started; a non-zero exit is a result, not an error.
Result<ProcessResult> run_process(const ProcessRequest& request);

}  // namespace zt::cloud::functions
