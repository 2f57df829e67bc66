#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <string>

namespace zt {

void setup_logging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("zt");
  spdlog::set_default_logger(logger);
  std::string chosen(level);
  if (const char* env = std::getenv("ZT_LOG_LEVEL")) chosen = env;
  spdlog::set_level(spdlog::level::from_str(chosen));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

void LogExceptions::report(const std::exception_ptr& error) const noexcept {
  try {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("{}: ended by an exception: {}", where_, e.what());
    } catch (...) {
      spdlog::error("{}: ended by an exception that is not a std::exception", where_);
    }
    if (on_exception_) on_exception_();
  } catch (...) {
    // Logging or closing failed too (out of memory): nothing more can be done here, and throwing
    // would end the io_context's run().
  }
}

}  // namespace zt
