// `ztp cloud run`: the local AWS-IoT-compatible control plane (+ data plane, + web console).
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/kit_link.hpp"
#include "cloud/endpoint_names.hpp"
#include "cloud/local_cloud.hpp"
#include "common/connection_limits.hpp"
#include "common/host_port.hpp"
#include "common/log.hpp"

namespace zt::cli {
namespace {

struct CloudRunOptions {
  std::string state_dir;
  std::string http = "127.0.0.1:4580";
  // "auto": AWS's MQTT port 8883 on 127.0.0.1 where it is free (devices such as the kit connect
  // there), else an ephemeral port, so concurrent runs (tests) never collide. HOST:PORT binds
  // exactly that or fails; "off" serves the control plane only.
  std::string mqtt = "auto";
  std::string endpoint_domain{cloud::kLocalDomain};
  std::string region = "us-east-1";
  unsigned threads = 0;
  std::string web_dir;                // default: <dir of ztp>/../web (build/web)
  std::vector<std::string> kit_dirs;  // emulated kits shown as virtual boards
  // Limits (docs/hardening.md). Connection caps of 0 are derived from the open-file limit.
  size_t http_max_connections = 0;
  size_t http_max_connections_per_address = 256;
  size_t mqtt_max_connections = 0;
  size_t mqtt_max_connections_per_address = 0;
  size_t mqtt_max_queued_messages = cloud::service::CloudServiceOptions{}.max_queued_messages;
  int http_header_timeout = 10;
  int http_body_timeout = 60;
  int http_idle_timeout = 120;
};

// build/bin/ztp → build/web, where the web target bundles the console.
std::filesystem::path default_web_dir() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "web";
  return self.parent_path().parent_path() / "web";
}

Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& text,
                                                         const char* option = "--http") {
  ZT_TRY_ASSIGN(auto parsed, parse_host_port(text, option));
  return std::pair{std::move(parsed.host), parsed.port};
}

std::string cap_text(size_t cap) { return cap ? std::to_string(cap) : "none"; }

Status cloud_run(const CloudRunOptions& options) {
  // Before anything opens a descriptor: the default soft limit (1,024) is what a few hundred slow
  // clients exhaust; the caps below keep the connections under the raised limit.
  size_t open_files = raise_open_file_limit();
  DescriptorBudget budget = descriptor_budget(open_files);
  ConnectionCaps http_caps{.max_total = options.http_max_connections ? options.http_max_connections
                                                                     : budget.http_connections,
                           .max_per_address = options.http_max_connections_per_address};
  ConnectionCaps mqtt_caps{.max_total = options.mqtt_max_connections ? options.mqtt_max_connections
                                                                     : budget.mqtt_connections,
                           .max_per_address = options.mqtt_max_connections_per_address};
  ZT_TRY_ASSIGN(auto listen, split_host_port(options.http));
  std::optional<std::pair<std::string, uint16_t>> mqtt_listen;
  const bool mqtt_auto = options.mqtt == "auto";
  if (mqtt_auto) {
    mqtt_listen = std::pair<std::string, uint16_t>{"127.0.0.1", 8883};
  } else if (options.mqtt != "off") {
    ZT_TRY_ASSIGN(mqtt_listen, split_host_port(options.mqtt, "--mqtt"));
  }
  std::optional<cloud::service::CloudServiceOptions> data_plane;
  if (mqtt_listen) {
    data_plane = cloud::service::CloudServiceOptions{
        .mqtt_host = mqtt_listen->first,
        .mqtt_port = mqtt_listen->second,
        .fall_back_to_ephemeral = mqtt_auto,
        .threads = options.threads,
        .mqtt_connection_caps = mqtt_caps,
        .max_queued_messages = options.mqtt_max_queued_messages};
  }
  ZT_TRY_ASSIGN(
      auto local_cloud,
      cloud::LocalCloud::open(
          {.state_dir = options.state_dir,
           .region = options.region,
           .endpoint_domain = options.endpoint_domain,
           .threads = options.threads,
           .http = {.address = listen.first,
                    .port = listen.second,
                    .idle_timeout_seconds = options.http_idle_timeout,
                    .header_timeout_seconds = options.http_header_timeout,
                    .body_timeout_seconds = options.http_body_timeout,
                    .connection_caps = http_caps},
           .mqtt = data_plane,
           .console = {.web_dir = options.web_dir.empty() ? default_web_dir()
                                                          : std::filesystem::path(options.web_dir),
                       .kit_link = std::make_shared<EmulatedKitLink>()}}));
  const cloud::CloudState& state = local_cloud->state();
  if (state.created) {
    fmt::print("created account {} in {}\n", state.account_id, state.region);
    // The secret stays in the 0600 credentials file: this output is often a log (a service's
    // journal, a test's server.out), and secrets never go to one.
    fmt::print("access key id: {}\nsecret access key: in {}/credentials (mode 0600), not printed\n",
               state.access_key_id, state.dir.string());
    fmt::print(
        "aws configure files: AWS_SHARED_CREDENTIALS_FILE={}/credentials "
        "AWS_CONFIG_FILE={}/config\n",
        state.dir.string(), state.dir.string());
  }
  fmt::print("account={} region={} endpoint={}\n", state.account_id, state.region,
             state.endpoint_address());
  for (const auto& kit_dir : options.kit_dirs) {
    local_cloud->console().kits().attach_dir(std::filesystem::absolute(kit_dir));
  }
  ZT_TRY_ASSIGN(auto endpoint, local_cloud->listen());
  // Machine-readable: tests and scripts read the bound ports from these lines.
  fmt::print("listening http={}:{}\n", local_cloud->http_host(), endpoint.port());
  ZT_TRY(local_cloud->start());
  if (auto mqtt_port = local_cloud->mqtt_port()) {
    std::string mqtt_host = mqtt_listen->first.find(':') != std::string::npos
                                ? "[" + mqtt_listen->first + "]"
                                : mqtt_listen->first;
    fmt::print("listening mqtts={}:{}\n", mqtt_host, *mqtt_port);
    if (mqtt_auto && *mqtt_port != mqtt_listen->second) {
      fmt::print(
          "note: MQTT port {} is in use, so the broker listens on {}; devices that connect to "
          "{} (the kit) need `ztp kit run --endpoint-override {}:{}`\n",
          mqtt_listen->second, *mqtt_port, mqtt_listen->second, mqtt_host, *mqtt_port);
    }
  }
  fmt::print(
      "limits open-files={} http-connections={} per-address={} mqtt-connections={} "
      "per-address={} header-timeout={}s body-timeout={}s idle-timeout={}s\n",
      open_files, http_caps.max_total, cap_text(http_caps.max_per_address), mqtt_caps.max_total,
      cap_text(mqtt_caps.max_per_address), options.http_header_timeout, options.http_body_timeout,
      options.http_idle_timeout);
  fmt::print("console {}/console/\n", local_cloud->api_url());
  std::fflush(stdout);

  boost::asio::signal_set signals(local_cloud->io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { local_cloud->request_stop(); });
  local_cloud->wait();
  local_cloud->stop();
  fmt::print("stopped\n");
  return ok();
}

void add_limit_options(CLI::App& run, CloudRunOptions& options) {
  const std::string group = "Limits (what a client sees at each: docs/hardening.md)";
  auto seconds = CLI::Range(1, 24 * 3600);
  run.add_option("--http-max-connections", options.http_max_connections,
                 "Open HTTP connections (API and console); at the cap the oldest one still "
                 "waiting for its request head is closed, else 503. 0 = a quarter of the "
                 "open-file limit after raising it, at most 1024")
      ->capture_default_str()
      ->group(group);
  run.add_option("--http-max-connections-per-address", options.http_max_connections_per_address,
                 "Open HTTP connections from one client address (0 = no cap)")
      ->capture_default_str()
      ->group(group);
  run.add_option("--http-header-timeout", options.http_header_timeout,
                 "Seconds to receive a request's line and headers")
      ->capture_default_str()
      ->check(seconds)
      ->group(group);
  run.add_option("--http-body-timeout", options.http_body_timeout,
                 "Seconds to receive a request body, and to send an answer")
      ->capture_default_str()
      ->check(seconds)
      ->group(group);
  run.add_option("--http-idle-timeout", options.http_idle_timeout,
                 "Seconds a kept-alive connection may wait for its next request")
      ->capture_default_str()
      ->check(seconds)
      ->group(group);
  run.add_option("--mqtt-max-connections", options.mqtt_max_connections,
                 "Open MQTT connections; one over the cap is closed at once. 0 = the open-file "
                 "limit less the HTTP share and 128 for files")
      ->capture_default_str()
      ->group(group);
  run.add_option("--mqtt-max-connections-per-address", options.mqtt_max_connections_per_address,
                 "Open MQTT connections from one client address (0 = no cap: local devices all "
                 "come from 127.0.0.1)")
      ->capture_default_str()
      ->group(group);
  run.add_option("--mqtt-max-queued-messages", options.mqtt_max_queued_messages,
                 "Devices' messages waiting for the cloud's worker (shadows, jobs, rules); beyond, "
                 "a shadow request is answered 429 Too Many Requests and others are dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group(group);
}

}  // namespace

void register_cloud_commands(CLI::App& app) {
  auto* cloud = app.add_subcommand("cloud", "The local AWS-IoT-compatible cloud");
  cloud->require_subcommand(1);
  auto options = std::make_shared<CloudRunOptions>();
  auto* run = cloud->add_subcommand("run", "Serve the control-plane REST API (SigV4, rest-json)");
  run->add_option("--state-dir", options->state_dir, "State directory (registry, keys, aws config)")
      ->required();
  run->add_option("--http", options->http, "HOST:PORT to listen on (port 0 = ephemeral)")
      ->capture_default_str();
  run->add_option(
         "--mqtt", options->mqtt,
         "HOST:PORT of the MQTT broker (mutual TLS, JITR, shadows; port 0 = ephemeral); auto = "
         "127.0.0.1:8883, AWS's port, or an ephemeral port when 8883 is in use; off = control "
         "plane only")
      ->capture_default_str();
  run->add_option("--region", options->region, "Region of a new state directory")
      ->capture_default_str();
  run->add_option("--endpoint-domain", options->endpoint_domain,
                  "A domain you control: DescribeEndpoint answers <prefix>-ats.iot.<region>."
                  "<domain>, and the server certificate and the broker accept it (the .localhost "
                  "names stay accepted). See <state-dir>/endpoint-hosts for /etc/hosts lines")
      ->capture_default_str();
  run->add_option("--threads", options->threads, "Network threads (0 = one per core)");
  run->add_option("--web-dir", options->web_dir,
                  "The web console's files (default: <ztp's dir>/../web, i.e. build/web)");
  run->add_option("--kit-dir", options->kit_dirs,
                  "An emulated kit's directory to show as a virtual board (repeatable)");
  add_limit_options(*run, *options);
  run->callback(run_command([options] { return cloud_run(*options); }));
  register_cloud_service_commands(*cloud);
  register_cloud_fleet_commands(*cloud);
  register_import_certificates_command(*cloud);
  register_cloud_operations_command(*cloud);
}

}  // namespace zt::cli
