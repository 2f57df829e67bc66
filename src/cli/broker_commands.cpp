// `ztp broker run`: the MQTT broker alone, for tests and benchmarks. Trust anchors come from a PEM
// file and every authenticated client may do everything; `ztp cloud run` embeds the same broker
// with the registry-backed Authenticator and the policy engine.
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>

#include "broker/broker.hpp"
#include "broker/lifecycle.hpp"
#include "broker/trust.hpp"
#include "cli/commands.hpp"
#include "common/connection_limits.hpp"
#include "common/host_port.hpp"

namespace zt::cli {
namespace {

struct BrokerRunOptions {
  std::string certificate;
  std::string key;
  std::string trust;
  std::string listen = "127.0.0.1:8883";
  size_t threads = 0;
  size_t max_queued = 1000;
  bool no_rate_limits = false;
  size_t max_connections = 0;  // 0: from the open-file limit
  size_t max_connections_per_address = 0;
};

Status run_broker(const BrokerRunOptions& options) {
  ZT_TRY_ASSIGN(auto listen, parse_host_port(options.listen, "--listen"));
  ZT_TRY_ASSIGN(auto authenticator, cloud::broker::PemFileAuthenticator::load(options.trust));
  cloud::broker::BrokerConfig config;
  config.host = listen.host;
  config.port = listen.port;
  config.certificate_file = options.certificate;
  config.key_file = options.key;
  config.threads = options.threads;
  config.limits.session.max_queued = options.max_queued;
  // No shadow or rules service here: tests publish the shadow's topics themselves (as they do on
  // Mosquitto). The local cloud keeps AWS's rule (request topics only).
  config.reserved_topics = cloud::broker::ReservedTopics::no_services;
  // The default soft limit (1,024) is what a few hundred slow clients exhaust.
  size_t open_files = raise_open_file_limit();
  config.connection_caps.max_total =
      options.max_connections ? options.max_connections
                              : open_files - std::min(open_files / 2, kReservedDescriptors);
  config.connection_caps.max_per_address = options.max_connections_per_address;
  if (options.no_rate_limits) {
    config.limits.min_connect_interval = std::chrono::milliseconds(0);
    config.limits.max_publishes_per_second = 0;
    config.limits.max_publish_bytes_per_second = 0;
  }
  cloud::broker::Broker broker(config, authenticator,
                               std::make_shared<cloud::broker::AllowAllAuthorizer>());
  // AWS lifecycle events on $aws/events/presence|subscriptions/... (reference/aws-iot.md §6.1).
  broker.add_observer(std::make_shared<cloud::broker::LifecycleEvents>(
      [&broker](cloud::broker::Message message) { broker.publish(std::move(message)); }));
  ZT_TRY(broker.start());
  bool ipv6 = config.host.find(':') != std::string::npos;
  fmt::print("listening mqtts={}{}{}:{}\n", ipv6 ? "[" : "", config.host, ipv6 ? "]" : "",
             broker.port());
  // After the listening line (which scripts read first), as `ztp cloud run` prints its own.
  fmt::print("limits open-files={} mqtt-connections={} per-address={}\n", open_files,
             config.connection_caps.max_total,
             config.connection_caps.max_per_address
                 ? std::to_string(config.connection_caps.max_per_address)
                 : std::string("none"));
  std::fflush(stdout);

  boost::asio::io_context signals_context;
  boost::asio::signal_set signals(signals_context, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});
  signals_context.run();
  broker.stop();
  return ok();
}

}  // namespace

void register_broker_commands(CLI::App& app) {
  auto* broker = app.add_subcommand("broker", "The MQTT broker on its own (mutual TLS, allow-all)");
  broker->require_subcommand(1);
  auto options = std::make_shared<BrokerRunOptions>();
  auto* run = broker->add_subcommand("run", "Run the broker until SIGINT/SIGTERM");
  run->add_option("--cert", options->certificate, "Server certificate (chain) PEM")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--key", options->key, "Server private key PEM")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--ca", options->trust,
                  "Trust anchors for client certificates (PEM, may be intermediates)")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("--listen", options->listen, "HOST:PORT (port 0: ephemeral)")
      ->capture_default_str();
  run->add_option("--threads", options->threads, "Network threads (0: one per core)")
      ->capture_default_str();
  run->add_option("--max-queued", options->max_queued,
                  "QoS 1 messages kept per session beyond the in-flight window / while offline")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  run->add_flag("--no-rate-limits", options->no_rate_limits,
                "Turn off AWS IoT's rate quotas (1 CONNECT/s per client id; 100 publishes and "
                "512 KiB per second per connection), e.g. for throughput benchmarks");
  run->add_option("--max-connections", options->max_connections,
                  "Open connections; one over the cap is closed at once (0: the open-file limit, "
                  "raised to its hard limit, less 128)")
      ->capture_default_str();
  run->add_option("--max-connections-per-address", options->max_connections_per_address,
                  "Open connections from one client address (0: no cap)")
      ->capture_default_str();
  run->callback(run_command([options] { return run_broker(*options); }));
}

}  // namespace zt::cli
