// Secrets (Wi-Fi passphrases) never come from the command line: argv is readable by every local
// user in /proc/<pid>/cmdline (and `ps`), and lands in shell history. They come from a file, an
// environment variable (readable only by the same user, /proc/<pid>/environ is 0400) or a prompt
// on a terminal without echo.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "common/result.hpp"

namespace zt::cli {

// `ztp kit set-wifi`, and the access points of `ztp kit run --wifi-ap SSID` (and `ztp demo`, which
// passes its password to the kit this way).
inline constexpr const char* kWifiPasswordEnv = "ZTP_WIFI_PASSWORD";

struct SecretSource {
  std::string file;    // "-" = standard input; its first line, without the line end
  std::string env;     // the variable to read when no file is given
  std::string prompt;  // asked on a terminal when neither is given
  std::string what;    // "the Wi-Fi password", for messages
};

// From the file, else the environment variable, else a prompt without echo when standard input is
// a terminal; otherwise an error saying the three ways.
Result<std::string> read_secret(const SecretSource& source);

// An option that used to carry a secret on the command line: still known to the parser, so using
// it fails with `advice` (the new way) instead of "unknown option"; hidden from --help. The value
// is never printed.
void add_removed_secret_option(CLI::App& app, const std::string& name, const std::string& advice);

}  // namespace zt::cli
