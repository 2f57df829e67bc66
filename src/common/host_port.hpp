// `HOST:PORT` as the command line takes it (--http, --mqtt, --listen, --endpoint-override): the
// last colon splits, an IPv6 host may be bracketed ("[::1]:8883" gives "::1"), the port is decimal
// 0-65535 and nothing else. Port 0 asks for an ephemeral port; callers that cannot use one refuse
// it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// `what` names the input in the error message ("--listen").
Result<HostPort> parse_host_port(std::string_view text, std::string_view what);

}  // namespace zt
