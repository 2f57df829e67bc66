// The seed's PC scripts for the kit, on a working directory (reference/kit.md "PC-side files"):
//   set_wifi  (kit_set_wifi.py)  SSID and password into kit-info.json
//   provision (kit_provision.py) init → root + signer → endpointAddress and Wi-Fi required →
//             genCsr → CSR checked → device certificate issued → device.csr/device.crt saved →
//             saveCredentials → setWifi → device_sn and thing_name recorded in kit-info.json
//
// The Wi-Fi password is not kept in clear (the seed stores it as `wifi_password`): set_wifi seals
// it with AES-256-GCM under a random key in kit-wifi.key (0600, like the CA keys beside it) and
// stores only {nonce, ciphertext} with the SSID as associated data. kit-info.json can then be
// shared or checked in without leaking the password, while provisioning — which must send the
// password to the kit, possibly to many kits — can still recover it. A salted hash could not be
// sent to a kit.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "kit/host_link.hpp"

namespace zt::kit {

inline constexpr const char* kKitInfoFile = "kit-info.json";
inline constexpr const char* kWifiKeyFile = "kit-wifi.key";

Result<json> read_kit_info(const std::filesystem::path& dir);

struct WifiCredentials {
  std::string ssid;
  std::string password;
  bool stored_in_clear = false;  // read from the vendor's clear `wifi_password`
  ~WifiCredentials();
};

Status set_wifi(const std::filesystem::path& dir, const std::string& ssid,
                const std::string& password);
// Reads and decrypts what set_wifi stored; a clear error when it is missing. A kit-info.json in
// the vendor's format (kit_set_wifi.py: `wifi_password` in clear) is read as it is, never
// rewritten; provisioning then prints clear_password_note() once.
Result<WifiCredentials> load_wifi(const std::filesystem::path& dir);
std::string clear_password_note(const std::string& ssid);

struct ProvisionReport {
  std::vector<std::string> lines;  // seed-like progress output
  std::string device_sn;
  std::string thing_name;
};

// `now` = 0: the current time. One kit, as `ztp kit provision` (kit_provision.py) does it: the
// kit's identity first, then the CA files of `dir`, then the rest.
Result<ProvisionReport> provision(KitClient& kit, const std::filesystem::path& dir,
                                  int64_t now = 0);

// The PC side of kit_provision loaded once, for a station that provisions kit after kit: the root
// and signer CAs, the endpoint and the Wi-Fi credentials of `dir` (the seed's clear errors when
// one is missing). Each provision() writes device.csr, device.crt and kit-info.json in `dir` as
// the one-shot function does.
class Provisioner {
 public:
  static Result<Provisioner> load(const std::filesystem::path& dir);
  Provisioner(Provisioner&&) noexcept;
  Provisioner& operator=(Provisioner&&) noexcept;
  ~Provisioner();

  Result<ProvisionReport> provision(KitClient& kit, int64_t now = 0) const;

  struct State;

 private:
  explicit Provisioner(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace zt::kit
