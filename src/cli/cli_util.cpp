#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.hpp"

namespace zt::cli {

std::function<void()> run_command(std::function<Status()> body) {
  return [body = std::move(body)] {
    Status status = body();
    if (!status) {
      fmt::print(stderr, "ztp: error: {}\n", status.error().message);
      throw CommandFailed{status.error().code == Errc::invalid_argument ? 2 : 1};
    }
  };
}

}  // namespace zt::cli
