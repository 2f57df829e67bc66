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

}  // namespace zt
