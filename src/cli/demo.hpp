// `ztp demo`: the seed guide's whole zero-touch flow from an empty directory, one printed step at a
// time — factory PKI → `ztp cloud run` (child process) → CA registration → the JITR role, Python
// function, permission and rule through the IAM, Lambda and IoT APIs (`ztp aws deploy-jitr`) →
// `ztp kit run` (child process) → set-wifi + provision over the kit's USB protocol → the device's
// first connection is refused while JITR registers it, then it subscribes → LED1 switched on
// through the shadow → button 1 pressed and seen in the reported state → the web console's device
// page (a one-time login link, as `ztp interact` prints it). The steps call the same
// library functions as their `ztp` commands; only the two long-running servers are processes.
//
// State lives in `dir` (CA files, kit-info.json, cloud/, kit/): a second run reuses the keys, the
// cloud's account and registry, and the chip (same device key, a new device certificate).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>

#include "common/result.hpp"
#include "kit/flow.hpp"

namespace zt::cli {

struct DemoOptions {
  std::filesystem::path dir = "demo";
  bool once = false;
  kit::Flow flow =
      kit::Flow::jitr;  // the provisioning path (`--flow`, kit/flow.hpp)  // exit after the round
                        // trips instead of running until SIGINT/SIGTERM
  std::string ssid = "zerotouch-lab";
  std::string wifi_password = "correct-horse-battery-staple";
  std::chrono::milliseconds subscribe_limit = std::chrono::seconds(60);
  std::chrono::milliseconds round_trip_limit = std::chrono::seconds(20);
  std::chrono::milliseconds kit_retry_max = std::chrono::seconds(2);
};

// Runs the flow; `stop` (set by SIGINT/SIGTERM) ends a waiting step or the final keep-running
// phase. Returns an error naming the step that failed; the children are stopped in every case.
Status run_demo(const DemoOptions& options, const std::atomic<bool>& stop);

}  // namespace zt::cli
