// Resolving the local cloud's endpoint names without guesswork. The endpoint is
// <prefix>-ats.iot.<region>.localhost: RFC 6761 §6.3 reserves .localhost for loopback, but only
// resolvers that implement it (systemd-resolved's nss-resolve, nss-myhostname) answer such names;
// Debian's default glibc setup ("hosts: files dns") sends them to DNS, which fails. These helpers
// read local files only (never the network) and word the fix when a name does not resolve.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace zt {

// "localhost" or a name under ".localhost" (case-insensitive).
bool is_localhost_name(std::string_view host);

// The address /etc/hosts (or `hosts_file`) gives `host`, first match, case-insensitive; nullopt
// when it has none or the file cannot be read.
std::optional<std::string> hosts_file_address(
    std::string_view host, const std::filesystem::path& hosts_file = "/etc/hosts");

// Whether this machine's resolver answers `host` without DNS: an /etc/hosts entry, or for a
// .localhost name an NSS module that implements RFC 6761 (myhostname, resolve) in the "hosts:"
// line of /etc/nsswitch.conf. Files only, no query is sent.
bool resolves_locally(std::string_view host, const std::filesystem::path& hosts_file = "/etc/hosts",
                      const std::filesystem::path& nsswitch_file = "/etc/nsswitch.conf");

// What to add to an error or a note when `host` does not resolve: the cause and the fixes (the
// one-line /etc/hosts entry, tools/setup.sh --hosts, 127.0.0.1 instead of the name,
// `ztp cloud run --endpoint-domain`).
std::string unresolved_name_hint(std::string_view host);

}  // namespace zt
