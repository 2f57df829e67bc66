#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace zt {

// Logs go to stderr so command output on stdout stays machine-readable.
// `level` is one of trace, debug, info, warn, error, off; ZT_LOG_LEVEL overrides the default.
void setup_logging(std::string_view level = "warn");

// The completion handler for a coroutine started with asio::co_spawn, instead of asio::detached
// (which drops an exception that ends the coroutine without a trace): logs the exception — its
// what() and `where` — at error level, then runs `on_exception` (close the coroutine's
// connection). Works for awaitable<void> (called with the exception) and awaitable<T> (the
// exception and a value). Never throws: an exception that escaped a handler would end the
// io_context's run() and, on a thread, the process.
class LogExceptions {
 public:
  LogExceptions(std::string where, std::function<void()> on_exception)
      : where_(std::move(where)), on_exception_(std::move(on_exception)) {}
  template <class... Value>
  void operator()(const std::exception_ptr& error, Value&&...) const noexcept {
    if (error) report(error);
  }

 private:
  void report(const std::exception_ptr& error) const noexcept;
  std::string where_;
  std::function<void()> on_exception_;
};

inline LogExceptions log_exceptions(std::string where, std::function<void()> on_exception = {}) {
  return LogExceptions(std::move(where), std::move(on_exception));
}

}  // namespace zt
