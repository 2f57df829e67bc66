#include "common/host_names.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace zt {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Calls `fields` with each line of `path`, '#' comments removed, until it returns true.
template <class Fields>
bool any_line(const std::filesystem::path& path, Fields fields) {
  std::ifstream in(path);
  std::string line;
  while (in && std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream stream(line);
    if (fields(stream)) return true;
  }
  return false;
}

}  // namespace

bool is_localhost_name(std::string_view host) {
  constexpr std::string_view kSuffix = ".localhost";
  if (iequals(host, "localhost")) return true;
  return host.size() > kSuffix.size() &&
         iequals(host.substr(host.size() - kSuffix.size()), kSuffix);
}

std::optional<std::string> hosts_file_address(std::string_view host,
                                              const std::filesystem::path& hosts_file) {
  std::optional<std::string> found;
  any_line(hosts_file, [&](std::istringstream& fields) {
    std::string address;
    std::string name;
    if (!(fields >> address)) return false;
    while (fields >> name) {
      if (iequals(name, host)) {
        found = address;
        return true;
      }
    }
    return false;
  });
  return found;
}

bool resolves_locally(std::string_view host, const std::filesystem::path& hosts_file,
                      const std::filesystem::path& nsswitch_file) {
  if (hosts_file_address(host, hosts_file)) return true;
  if (!is_localhost_name(host)) return false;
  return any_line(nsswitch_file, [](std::istringstream& fields) {
    std::string database;
    if (!(fields >> database) || database != "hosts:") return false;
    std::string source;
    while (fields >> source) {
      if (source == "myhostname" || source == "resolve") return true;
    }
    return false;
  });
}

std::string unresolved_name_hint(std::string_view host) {
  if (is_localhost_name(host)) {
    return fmt::format(
        "{} is a .localhost name (RFC 6761): only resolvers that implement it answer it "
        "(systemd-resolved, nss-myhostname), and this machine's does not. Fix it once with the "
        "line \"127.0.0.1 {}\" in /etc/hosts (`tools/setup.sh --hosts <cloud state dir>` adds "
        "the cloud's names after asking), connect to 127.0.0.1 instead (the broker accepts its "
        "own address as SNI), or run `ztp cloud run --endpoint-domain <a domain you control>`",
        host, host);
  }
  return fmt::format(
      "{} does not resolve on this machine: add \"127.0.0.1 {}\" to /etc/hosts or to the DNS of "
      "the domain (`tools/setup.sh --hosts <cloud state dir>` adds the cloud's names after "
      "asking), or connect to 127.0.0.1",
      host, host);
}

}  // namespace zt
