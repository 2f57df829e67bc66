#include "common/host_port.hpp"

#include <fmt/format.h>

#include <charconv>

namespace zt {

Result<HostPort> parse_host_port(std::string_view text, std::string_view what) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} '{}': expected HOST:PORT", what, text));
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string_view digits = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || end != digits.data() + digits.size() || port > 65535) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} '{}': the port is not a number from 0 to 65535", what, text));
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace zt
