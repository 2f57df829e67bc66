// The demo's steps (cli/demo.hpp): the seed's JITR flow in demo.cpp, the other provisioning
// paths' own steps in demo_flows.cpp. Private to the demo.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/iot_client.hpp"
#include "cli/child_process.hpp"
#include "cli/demo.hpp"

namespace zt::cli::demo_detail {

using nlohmann::json;
namespace fs = std::filesystem;

class Demo {
 public:
  Demo(const DemoOptions& options, const std::atomic<bool>& stop) : options_(options), stop_(stop) {
    bold_ = ::isatty(STDOUT_FILENO) ? "\033[1m" : "";
    plain_ = ::isatty(STDOUT_FILENO) ? "\033[0m" : "";
  }
  ~Demo() { stop_children(); }

  Status run();

 private:
  Status factory_pki();
  Status start_cloud();
  Status register_ca();
  Status start_kit();
  Status provision_kit();
  Status wait_for_subscription();
  Status check_registry();
  Status toggle_led();
  Status press_button();
  Status open_console();
  Status keep_running();
  // The other paths (demo_flows.cpp).
  Status setup_jitp();
  Status setup_fleet();
  Status provision_claim_kit();
  Status setup_preprovisioned();
  Status register_without_ca();
  Status check_identity();
  Result<std::string> create_role(const std::string& name);
  Status run_ca_register();  // `ztp ca register` on the demo's directory and cloud
  void mark_console();       // what the kit prints from here on is about the current step
  void stop_children();

  void step(const std::string& title) {
    print("\n{}== {}. {}{}", bold_, ++step_number_, title, plain_);
  }
  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) {
    fmt::print("{}\n", fmt::format(format, std::forward<Args>(args)...));
    std::fflush(stdout);
  }
  void command(const std::string& line) { print("$ {}", line); }
  Status interrupted() const { return stop_ ? make_error(Errc::io, "interrupted") : ok(); }
  // Polls `done` every 200 ms until it yields true, for at most `limit`; `what` names the wait.
  Status poll(const std::function<Result<bool>()>& done, std::chrono::milliseconds limit,
              const std::string& what);
  Result<json> board();
  std::string aws() const { return "aws --endpoint-url " + http_url_; }

  const DemoOptions& options_;
  const std::atomic<bool>& stop_;
  std::string bold_, plain_;
  fs::path dir_, cloud_dir_, kit_dir_, ztp_;
  std::optional<ChildProcess> cloud_, kit_;
  std::string http_url_, mqtt_address_;
  std::unique_ptr<aws::IotClient> iot_;
  size_t console_offset_ = 0;
  std::string thing_, certificate_id_, console_url_;
  int step_number_ = 0;
  bool factory_floor_ = false;  // preprovisioned: the kit runs without an access point
};

}  // namespace zt::cli::demo_detail
