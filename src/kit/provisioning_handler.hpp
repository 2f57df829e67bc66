// The kit firmware's side of the USB provisioning protocol (reference/kit.md "Kit protocol"):
// board:app requests in, replies out, every action on the ATECC508A through zt::se::Device.
//   init {version}          → {deviceSn, devicePublicKey}       version must be "2.0.0"
//   genCsr                  → {csr}  CSR for slot 0's key, signed inside the chip
//   saveCredentials {hostName, deviceCert, signerCert, signerCaPublicKey}
//                           → {}     certs checked, compressed to slots 10/11/12/14/15, host → slot
//                           8
//   setWifi {ssid, psk}     → {}     slot 8
//   getStatus               → {state_id, status_code, status_msg}
//   resetKit                → {}     slot 8 and the compressed certificates cleared; keys kept
//   genKey                  → {deviceSn, devicePublicKey}  a new slot 0 key (certificates cleared)
//   saveClaim {hostName, claimCert, templateName}
//                           → {}     fleet flows: the claim certificate (hex DER, for slot 0's key)
//                                    and the provisioning template into flash, host → slot 8
// Every failure answers {"error_code", "error_msg"} (KitErrorCode) and changes nothing it did not
// already finish: saveCredentials checks everything before its first write.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "kit/flash.hpp"
#include "kit/protocol.hpp"
#include "secure_element/device.hpp"

namespace zt::kit {

inline constexpr std::string_view kProtocolVersion = "2.0.0";
inline constexpr unsigned kDeviceKeySlot = 0;
inline constexpr unsigned kDeviceCertSlot = 10;
inline constexpr unsigned kSignerPublicKeySlot = 11;
inline constexpr unsigned kSignerCertSlot = 12;
inline constexpr unsigned kSignerDataSlot = 14;

// The firmware's state for getStatus (the seed's status report: a state id, a code, a message).
enum class KitState : int {
  starting = 0,
  waiting_for_provisioning = 1,
  joining_wifi = 2,
  connecting = 3,
  connected = 4,
  error = 5,
};

struct KitStatus {
  KitState state = KitState::starting;
  int status_code = 0;  // 0 = no error
  std::string status_msg = "starting";
};

struct HandlerHooks {
  // After a request changed the credentials (saveCredentials, setWifi, resetKit, genKey): the
  // firmware loop restarts from "provisioned?".
  std::function<void()> credentials_changed;
  // The firmware loop's current state; without it getStatus reports from the chip alone.
  std::function<KitStatus()> status;
};

class ProvisioningHandler {
 public:
  // `flash_dir`: the MCU flash of the fleet flows (kit/flash.hpp); empty = no saveClaim.
  explicit ProvisioningHandler(std::shared_ptr<se::Device> device, HandlerHooks hooks = {},
                               std::filesystem::path flash_dir = {});

  Reply handle(const Request& request);
  // One host line (`board:app(...)\n`) to one reply line; unparseable input gets an error reply.
  std::string handle_line(std::string_view line);

 private:
  Result<json> init(const json& params);
  Result<json> gen_csr();
  Result<json> save_credentials(const json& params);
  Result<json> set_wifi(const json& params);
  Result<json> get_status();
  Result<json> reset_kit();
  Result<json> gen_key();
  Result<json> save_claim(const json& params);
  Result<json> identity();
  void changed();

  std::shared_ptr<se::Device> device_;
  HandlerHooks hooks_;
  std::filesystem::path flash_dir_;
  std::mutex mutex_;  // one request at a time, as the firmware's USB task
};

}  // namespace zt::kit
