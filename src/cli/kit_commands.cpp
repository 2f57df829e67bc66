// `ztp kit …`: the emulated kit (run, press, leds) and the seed's PC scripts for a kit
// (set-wifi, provision, status, reset), over the emulated kit's socket or a real kit's hidraw node.
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <thread>

#include "aws/iot_client.hpp"
#include "cli/commands.hpp"
#include "cli/kit_claim.hpp"
#include "cli/secret_input.hpp"
#include "common/file.hpp"
#include "common/host_port.hpp"
#include "kit/emulated_kit.hpp"
#include "kit/host_link.hpp"
#include "kit/pc_tools.hpp"

namespace zt::cli {
namespace {

struct KitRunOptions {
  std::string dir = "kit";
  std::vector<std::string> access_points;  // SSID[:wpa2|open|enterprise]
  std::string access_point_file;           // lines ssid:psk[:security]
  std::string endpoint_override;
  std::string server_ca;
  int retry_max_ms = 8000;
  bool jobs = false;
  std::string flow = "jitr";
};

struct KitTarget {
  std::string dir = ".";
  std::string kit_socket;  // the emulated kit's usb.sock
  std::string hidraw;      // a real kit: /dev/hidrawN (default: search VID/PID)
  bool use_hidraw = false;
};

std::atomic<bool> stop_requested{false};

// `--wifi-ap SSID[:wpa2|open|enterprise]`: the passphrase of a WPA2 access point comes from
// ZTP_WIFI_PASSWORD (or a prompt), never from the command line.
Result<kit::AccessPoint> access_point_from_option(const std::string& spec) {
  size_t colon = spec.find(':');
  std::string ssid = spec.substr(0, colon);
  std::string security = colon == std::string::npos ? "wpa2" : spec.substr(colon + 1);
  if (security != "wpa2" && security != "open" && security != "enterprise") {
    return make_error(Errc::invalid_argument,
                      fmt::format("--wifi-ap '{}:…': a passphrase on the command line is readable "
                                  "by every local user (/proc/<pid>/cmdline); give --wifi-ap {} "
                                  "with the passphrase in {}, or --wifi-ap-file FILE with lines "
                                  "ssid:psk[:wpa2|open|enterprise]",
                                  ssid, ssid, kWifiPasswordEnv));
  }
  std::string psk;
  if (security == "wpa2") {
    ZT_TRY_ASSIGN(psk, read_secret({.file = "",
                                    .env = kWifiPasswordEnv,
                                    .prompt = "Passphrase of access point '" + ssid + "': ",
                                    .what = "the passphrase of access point '" + ssid + "'"}));
  }
  auto ap = kit::parse_access_point(ssid + ":" + psk + ":" + security);
  secure_zero(psk.data(), psk.size());
  return ap;
}

Status run_kit(const KitRunOptions& options) {
  kit::EmulatedKitOptions kit_options;
  kit_options.dir = options.dir;
  for (const auto& spec : options.access_points) {
    ZT_TRY_ASSIGN(auto ap, access_point_from_option(spec));
    kit_options.firmware.access_points.push_back(std::move(ap));
  }
  if (!options.access_point_file.empty()) {
    ZT_TRY_ASSIGN(std::string text, read_text_file(options.access_point_file, 64 * 1024));
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.front() == '#') continue;
      auto ap = kit::parse_access_point(line);
      if (!ap) {
        return make_error(
            Errc::invalid_argument,
            fmt::format("{} line {}: {}", options.access_point_file, number, ap.error().message));
      }
      kit_options.firmware.access_points.push_back(std::move(*ap));
    }
    secure_zero(text.data(), text.size());
  }
  if (!options.endpoint_override.empty()) {
    ZT_TRY_ASSIGN(auto endpoint, parse_host_port(options.endpoint_override, "--endpoint-override"));
    if (endpoint.port == 0) {
      return make_error(Errc::invalid_argument, "--endpoint-override: bad port");
    }
    kit_options.firmware.endpoint_override_host = std::move(endpoint.host);
    kit_options.firmware.endpoint_override_port = endpoint.port;
  }
  kit_options.firmware.server_ca = options.server_ca;
  kit_options.firmware.retry_max = std::chrono::milliseconds(options.retry_max_ms);
  kit_options.firmware.jobs = options.jobs;
  ZT_TRY_ASSIGN(kit_options.firmware.flow, kit::parse_flow(options.flow));
  ZT_TRY_ASSIGN(auto emulated, kit::EmulatedKit::start(kit_options));
  fmt::print("kit dir={} usb={} control={} console={}\n", options.dir,
             (std::filesystem::path(options.dir) / kit::kUsbSocket).string(),
             (std::filesystem::path(options.dir) / kit::kControlSocket).string(),
             emulated->console_pty());
  std::fflush(stdout);

  std::thread signals_thread([] {
    boost::asio::io_context context;
    boost::asio::signal_set signals(context, SIGINT, SIGTERM);
    signals.async_wait([](const boost::system::error_code&, int) { stop_requested = true; });
    while (!stop_requested) context.run_for(std::chrono::milliseconds(100));
  });
  Status status = emulated->run(stop_requested);
  stop_requested = true;
  signals_thread.join();
  return status;
}

Result<std::unique_ptr<kit::KitClient>> open_kit(const KitTarget& target) {
  std::unique_ptr<kit::KitLink> link;
  if (target.use_hidraw || !target.hidraw.empty()) {
    ZT_TRY_ASSIGN(link, kit::open_kit_hidraw(target.hidraw));
  } else {
    std::string socket = target.kit_socket.empty()
                             ? (std::filesystem::path("kit") / kit::kUsbSocket).string()
                             : target.kit_socket;
    ZT_TRY_ASSIGN(link, kit::connect_kit_socket(socket));
  }
  return std::make_unique<kit::KitClient>(std::move(link));
}

void add_target_options(CLI::App* command, KitTarget& target, bool with_dir) {
  if (with_dir) {
    command->add_option("--dir", target.dir, "working directory (CA files, kit-info.json)")
        ->capture_default_str();
  }
  command->add_option("--kit-socket", target.kit_socket,
                      "the emulated kit's USB socket (default kit/usb.sock)");
  command->add_flag("--hidraw", target.use_hidraw,
                    "talk to a real kit over hidraw (USB 04D8:0F32)");
  command->add_option("--hidraw-node", target.hidraw, "a specific /dev/hidrawN");
}

std::filesystem::path control_socket(const std::string& kit_dir) {
  return std::filesystem::path(kit_dir) / kit::kControlSocket;
}

}  // namespace

void register_kit_commands(CLI::App& app) {
  auto* kit_app = app.add_subcommand("kit", "The Zero Touch kit: emulated board and PC tools");
  kit_app->require_subcommand(1);

  auto run_options = std::make_shared<KitRunOptions>();
  auto* run = kit_app->add_subcommand("run", "Run one emulated kit until SIGINT/SIGTERM");
  run->add_option("--dir", run_options->dir, "kit directory (chip state, sockets, console log)")
      ->capture_default_str();
  run->add_option("--wifi-ap", run_options->access_points,
                  "an emulated access point SSID[:wpa2|open|enterprise] (repeatable); a WPA2 "
                  "one's passphrase comes from $ZTP_WIFI_PASSWORD (or a prompt)");
  run->add_option("--wifi-ap-file", run_options->access_point_file,
                  "emulated access points, one a line: ssid:psk[:wpa2|open|enterprise] (keep it "
                  "0600)")
      ->check(CLI::ExistingFile);
  run->add_option("--endpoint-override", run_options->endpoint_override,
                  "connect to HOST:PORT instead of resolving the endpoint (tests)");
  run->add_option("--server-ca", run_options->server_ca,
                  "CA certificate(s) (PEM) that verify the MQTT endpoint's server certificate")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--retry-max-ms", run_options->retry_max_ms,
                  "upper bound of the MQTT reconnect backoff")
      ->capture_default_str();
  run->add_flag("--jobs", run_options->jobs,
                "subscribe to the thing's AWS IoT Jobs topics and run its jobs (the thing's policy "
                "must allow $aws/things/<thing>/jobs/*)");
  run->add_option("--flow", run_options->flow,
                  "how the kit gets its identity: jitr (the seed's), jitp, preprovisioned, "
                  "fleet-csr, fleet-claim (docs/kit.md)")
      ->check(CLI::IsMember({"jitr", "jitp", "preprovisioned", "fleet-csr", "fleet-claim"}))
      ->capture_default_str();
  run->callback(run_command([run_options] { return run_kit(*run_options); }));

  struct ClaimArgs {
    KitTarget target;
    std::string template_name, claim_policy, endpoint_url, region, profile;
  };
  auto claim_args = std::make_shared<ClaimArgs>();
  auto* provision_claim_command = kit_app->add_subcommand(
      "provision-claim",
      "Fleet flows: a claim certificate for the kit's slot 0 key (CreateCertificateFromCsr + "
      "AttachPolicy), stored in the kit with the template name and the endpoint, then Wi-Fi");
  add_target_options(provision_claim_command, claim_args->target, true);
  provision_claim_command
      ->add_option("--template-name", claim_args->template_name,
                   "the provisioning template RegisterThing names")
      ->required();
  provision_claim_command
      ->add_option("--claim-policy", claim_args->claim_policy,
                   "the IoT policy attached to the claim certificate")
      ->required();
  provision_claim_command->add_option("--endpoint-url", claim_args->endpoint_url,
                                      "the control plane (e.g. the local cloud's)");
  provision_claim_command->add_option("--region", claim_args->region, "AWS region");
  provision_claim_command->add_option("--profile", claim_args->profile, "AWS profile");
  provision_claim_command->callback(run_command([claim_args]() -> Status {
    auto optional = [](const std::string& value) {
      return value.empty() ? std::nullopt : std::optional<std::string>(value);
    };
    ZT_TRY_ASSIGN(aws::ClientConfig config,
                  aws::load_client_config({.profile = optional(claim_args->profile),
                                           .region = optional(claim_args->region),
                                           .endpoint_url = optional(claim_args->endpoint_url)}));
    aws::IotClient iot(std::move(config));
    ZT_TRY_ASSIGN(auto client, open_kit(claim_args->target));
    ZT_TRY_ASSIGN(auto report, provision_claim(*client, iot,
                                               {.dir = claim_args->target.dir,
                                                .template_name = claim_args->template_name,
                                                .claim_policy = claim_args->claim_policy}));
    for (const auto& line : report.lines) fmt::print("{}\n", line);
    return ok();
  }));

  // ssid, password file
  auto wifi_args = std::make_shared<std::pair<std::string, std::string>>();
  auto wifi_dir = std::make_shared<std::string>(".");
  auto* set_wifi = kit_app->add_subcommand(
      "set-wifi",
      "Store the kit's Wi-Fi credentials in kit-info.json (the password encrypted, see "
      "kit-wifi.key). The password comes from --password-file, $ZTP_WIFI_PASSWORD or a prompt");
  set_wifi->add_option("--ssid", wifi_args->first, "access point SSID")->required();
  set_wifi->add_option("--password-file", wifi_args->second,
                       "a file whose first line is the WPA2 passphrase (- = standard input)");
  add_removed_secret_option(*set_wifi, "--password",
                            "a password on the command line is readable by every local user "
                            "(/proc/<pid>/cmdline): give --password-file FILE (- for standard "
                            "input), set ZTP_WIFI_PASSWORD, or type it at the prompt");
  set_wifi->add_option("--dir", *wifi_dir, "working directory")->capture_default_str();
  set_wifi->callback(run_command([wifi_args, wifi_dir]() -> Status {
    ZT_TRY_ASSIGN(std::string password,
                  read_secret({.file = wifi_args->second,
                               .env = kWifiPasswordEnv,
                               .prompt = "Wi-Fi password for " + wifi_args->first + ": ",
                               .what = "the Wi-Fi password"}));
    Status stored = kit::set_wifi(*wifi_dir, wifi_args->first, password);
    secure_zero(password.data(), password.size());
    ZT_TRY(stored);
    fmt::print("Wi-Fi SSID {} saved to {} (password encrypted with {})\n", wifi_args->first,
               (std::filesystem::path(*wifi_dir) / kit::kKitInfoFile).string(), kit::kWifiKeyFile);
    return ok();
  }));

  auto provision_target = std::make_shared<KitTarget>();
  auto* provision = kit_app->add_subcommand("provision", "Provision a kit (kit_provision)");
  add_target_options(provision, *provision_target, true);
  provision->callback(run_command([provision_target]() -> Status {
    ZT_TRY_ASSIGN(auto client, open_kit(*provision_target));
    auto report = kit::provision(*client, provision_target->dir);
    if (!report) return std::move(report).error();
    for (const auto& line : report->lines) fmt::print("{}\n", line);
    return ok();
  }));

  auto status_target = std::make_shared<KitTarget>();
  auto* status = kit_app->add_subcommand("status", "The kit's state (getStatus)");
  add_target_options(status, *status_target, false);
  status->callback(run_command([status_target]() -> Status {
    ZT_TRY_ASSIGN(auto client, open_kit(*status_target));
    ZT_TRY_ASSIGN(auto reply, client->call("getStatus"));
    fmt::print("{}\n", reply.dump());
    return ok();
  }));

  auto reset_target = std::make_shared<KitTarget>();
  auto* reset =
      kit_app->add_subcommand("reset", "Clear the kit's credentials (resetKit; the key stays)");
  add_target_options(reset, *reset_target, false);
  reset->callback(run_command([reset_target]() -> Status {
    ZT_TRY_ASSIGN(auto client, open_kit(*reset_target));
    ZT_TRY(client->call("resetKit"));
    fmt::print("kit reset: Wi-Fi, host name and certificates cleared\n");
    return ok();
  }));

  auto board_dir = std::make_shared<std::string>("kit");
  auto button = std::make_shared<int>(1);
  auto* press = kit_app->add_subcommand("press", "Press a button (1-3) on the emulated kit");
  press->add_option("button", *button, "button number")->required();
  press->add_option("--kit-dir", *board_dir, "the emulated kit's directory")->capture_default_str();
  press->callback(run_command([board_dir, button]() -> Status {
    ZT_TRY(kit::control_request(control_socket(*board_dir), fmt::format("press {}", *button)));
    fmt::print("button {} pressed\n", *button);
    return ok();
  }));

  auto* leds = kit_app->add_subcommand("leds", "The emulated kit's LEDs and buttons (JSON)");
  leds->add_option("--kit-dir", *board_dir, "the emulated kit's directory")->capture_default_str();
  leds->callback(run_command([board_dir]() -> Status {
    ZT_TRY_ASSIGN(std::string reply, kit::control_request(control_socket(*board_dir), "leds"));
    fmt::print("{}\n", reply);
    return ok();
  }));
}

}  // namespace zt::cli
