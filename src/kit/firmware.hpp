// The kit's application firmware (the seed's SAM G55 main loop), emulated: wait until slots 8/10/12
// hold credentials → join Wi-Fi on an emulated access point → time → DNS → TLS 1.2 with the
// SE-backed key and the chain rebuilt from the compressed certificates → MQTT (client id = thing
// name, keep-alive 900 s) with JITR retries (backoff + jitter) → subscribe the shadow delta →
// LED0 blinks 5× → publish reported state; then deltas set LED1-3 and button presses toggle, each
// answered with a reported-state publish. Every step prints a console line like the seed's
// (reference/kit.md "Firmware behaviour"), failures as "ERROR: …".
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/ossl.hpp"
#include "kit/board.hpp"
#include "kit/flash.hpp"
#include "kit/flow.hpp"
#include "kit/metadata.hpp"
#include "kit/provisioning_handler.hpp"
#include "secure_element/device.hpp"

namespace zt::kit {

class TlsConnection;
class PacketReader;

// An emulated Wi-Fi access point: `ssid:psk[:wpa2|open|enterprise]` on the command line.
struct AccessPoint {
  enum class Security { wpa2, open, enterprise };
  std::string ssid;
  std::string psk;
  Security security = Security::wpa2;
};
Result<AccessPoint> parse_access_point(std::string_view spec);

struct FirmwareConfig {
  std::vector<AccessPoint> access_points;
  // Where "DNS" sends the endpoint instead of <name>.localhost → 127.0.0.1:8883 (tests).
  std::optional<std::string> endpoint_override_host;
  std::optional<uint16_t> endpoint_override_port;
  std::filesystem::path server_ca;                  // trust anchors for the endpoint's certificate
  std::filesystem::path hosts_file = "/etc/hosts";  // names other than *.localhost (loopback only)
  std::chrono::milliseconds retry_base{500};
  std::chrono::milliseconds retry_max{8000};
  uint16_t keep_alive_seconds = 900;
  // AWS IoT Jobs (kit/jobs_agent.hpp): subscribe to the thing's jobs topics and run its jobs. Off
  // by default: the seed's policy does not allow those topics, and the broker closes a connection
  // that subscribes where its policy does not allow (`ztp kit run --jobs`).
  bool jobs = false;
  // How the kit gets its identity (kit/flow.hpp); the fleet flows keep certificates in flash_dir.
  Flow flow = Flow::jitr;
  std::filesystem::path flash_dir;
};

class Firmware {
 public:
  using Console = std::function<void(const std::string&)>;
  Firmware(std::shared_ptr<se::Device> device, std::shared_ptr<Board> board, FirmwareConfig config,
           Console console);

  // The provisioning handler changed credentials: restart from the top.
  void credentials_changed();
  KitStatus status() const;
  // Runs until `stop`; returns after a clean MQTT DISCONNECT.
  void run(const std::atomic<bool>& stop);

 private:
  struct Session {
    KitMetadata metadata;
    crypto::X509Ptr device_cert;
    crypto::X509Ptr signer_cert;  // null for a certificate the cloud issued (fleet flows)
    crypto::PkeyPtr key;
    unsigned key_slot = 0;
    std::string thing_name;  // the MQTT client id (the SE serial number for a claim connection)
    std::optional<ClaimRecord> claim;  // set: connect with the claim and run fleet provisioning
  };
  Result<Session> load_credentials();
  // Fleet flows (firmware_fleet.cpp): the identity in flash, else the claim.
  Status load_fleet_credentials(Session& session);
  // Over the claim connection: a new certificate and key, RegisterThing, the identity saved.
  Status provision_with_claim(const Session& session, TlsConnection& connection,
                              PacketReader& reader);
  Status join_wifi(const Session& session);
  Result<std::string> resolve(const std::string& host_name, uint16_t& port);
  // One connection: TLS, CONNECT, SUBSCRIBE, then serve until stop/credentials change/error.
  // `subscribed` is set once the delta subscription is acknowledged.
  Status connect_and_serve(const Session& session, const std::string& address, uint16_t port,
                           uint64_t generation, const std::atomic<bool>& stop, bool& subscribed);
  bool wait_for_change(uint64_t generation, const std::atomic<bool>& stop,
                       std::chrono::milliseconds limit = std::chrono::hours(24 * 365));
  uint64_t generation() const;
  void set_status(KitState state, int code, std::string message);
  void print(const std::string& line) { console_(line); }

  std::shared_ptr<se::Device> device_;
  std::shared_ptr<Board> board_;
  FirmwareConfig config_;
  Console console_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;
  KitStatus status_;
  std::string oled_ssid_;  // the access point joined, for the OLED
};

}  // namespace zt::kit
