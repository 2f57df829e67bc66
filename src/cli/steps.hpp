// The bodies of `ztp ca register`, `ztp cloud setup-jitr`, `ztp aws deploy-jitr` and `ztp
// interact`, callable from other commands: `ztp demo` runs them in-process instead of shelling out
// to ztp. Both print the seed-like progress lines their commands print.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace zt::aws {
class IotClient;
}

namespace zt::cli {

struct CaRegisterOptions {
  std::string dir = ".";
  std::optional<std::string> endpoint_url;
  std::optional<std::string> region;
  std::optional<std::string> profile;
  std::string key;  // signer CA key: PEM path or pkcs11: URI (default <dir>/signer-ca.key)
};

// GetRegistrationCode → verification certificate → RegisterCACertificate (active,
// auto-registration; an already registered CA is set ACTIVE again) → kit-info.json.
Status ca_register(const CaRegisterOptions& options);

// The web console's device page of `thing` as a one-time login link (valid 120 s), asked for
// with a SigV4-signed call; with `kit_dir`, the emulated kit there is attached as the page's
// virtual board first (what `ztp interact` prints).
Result<std::string> console_device_link(aws::IotClient& cloud, const std::string& thing,
                                        const std::string& kit_dir);

// The rule ZeroTouchJustInTimeRegistration → `function` in an existing local cloud state dir.
Status setup_jitr(const std::string& state_dir, const std::string& function);

// `ztp aws deploy-jitr` / `teardown-jitr` (cli/jitr_stack.hpp): credentials, region and endpoint
// as `ztp ca register` finds them; each call printed through `print` as an aws CLI command.
struct AwsJitrOptions {
  std::optional<std::string> endpoint_url;
  std::optional<std::string> region;
  std::optional<std::string> profile;
  bool dry_run = false;
  std::string code_file;  // lambda_function.py to deploy; empty = the project's, built into ztp
  std::string runtime = "python3.12";
};
Status deploy_jitr(const AwsJitrOptions& options,
                   const std::function<void(std::string_view)>& print);
Status teardown_jitr(const AwsJitrOptions& options,
                     const std::function<void(std::string_view)>& print);

}  // namespace zt::cli
