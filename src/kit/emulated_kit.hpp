// One emulated kit process (`ztp kit run --dir K`): the ATECC508A (state file K/atecc508a.json,
// configured on first start as the seed firmware does), the "USB" kit-protocol socket
// K/usb.sock (SOCK_SEQPACKET, one message = one 64-byte HID report, both ways), the board-control
// socket K/control.sock (one text line in, one line out: `press N`, `leds`, `status`), the "EDBG"
// debug console on a pseudo-terminal (its path is printed and written to K/console.path; every
// line also goes to K/console.log and stdout) and the firmware loop.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "kit/firmware.hpp"

namespace zt::kit {

inline constexpr const char* kStateFile = "atecc508a.json";
inline constexpr const char* kUsbSocket = "usb.sock";
inline constexpr const char* kControlSocket = "control.sock";
inline constexpr const char* kConsoleLog = "console.log";
inline constexpr const char* kConsolePath = "console.path";

struct EmulatedKitOptions {
  std::filesystem::path dir;
  FirmwareConfig firmware;
  bool echo_console = true;  // also print console lines on stdout
};

class EmulatedKit {
 public:
  static Result<std::unique_ptr<EmulatedKit>> start(EmulatedKitOptions options);
  ~EmulatedKit();
  const std::string& console_pty() const;
  // Serves the sockets and runs the firmware until `stop`.
  Status run(const std::atomic<bool>& stop);

  struct State;

 private:
  explicit EmulatedKit(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Serves the kit side of one USB-socket connection (SOCK_SEQPACKET, 64-byte reports) with
// `handler` until the host hangs up or `stop`. `log` receives transport complaints.
void serve_kit_connection(int fd, ProvisioningHandler& handler, const std::atomic<bool>& stop,
                          const std::function<void(const std::string&)>& log);

// Board control from another process: sends one line to K/control.sock, returns the reply line.
Result<std::string> control_request(const std::filesystem::path& socket, const std::string& line);

}  // namespace zt::kit
