#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace zt {

// Logs go to stderr so command output on stdout stays machine-readable.
// `level` is one of trace, debug, info, warn, error, off; ZT_LOG_LEVEL overrides the default.
void setup_logging(std::string_view level = "warn");

}  // namespace zt
