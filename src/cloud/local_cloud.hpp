// The whole local cloud as one embeddable object, wired as `ztp cloud run` wires it: the state
// directory (registry, keys, credentials), the control-plane API server (SigV4, rest-json) with
// the iot-data routes, the data plane (MQTT broker over mutual TLS with JITR, policies, shadows,
// rules and functions) and the web console on the API's port. Tests and benchmarks start one
// in-process on ephemeral ports; `ztp cloud run` is this plus flags, output and signals.
//
//   auto cloud = LocalCloud::open({.state_dir = dir});   // state opened, nothing listens yet
//   ZT_TRY(cloud->start());                              // HTTP bound, broker up, threads run
//   ... cloud->api_url(), cloud->mqtt_port(), cloud->state().access_key_id ...
//   cloud->stop();                                       // threads joined, ports closed
//
// Kits: the console's kit attachment is the caller's (console() before start()), so this layer
// knows nothing of the kit.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cloud/api/server.hpp"
#include "cloud/console/server.hpp"
#include "cloud/endpoint_names.hpp"
#include "cloud/service/cloud_service.hpp"
#include "cloud/state.hpp"

namespace zt::cloud {

struct LocalCloudOptions {
  std::filesystem::path state_dir;
  std::string region = "us-east-1";  // used only when the state directory is created
  std::string endpoint_domain{kLocalDomain};
  unsigned threads = 0;  // HTTP network threads; 0 = one per core
  // The control plane, iot-data and console port (127.0.0.1, ephemeral by default).
  api::ServerOptions http{.port = 0};
  // The data plane; nullopt serves the control plane only.
  std::optional<service::CloudServiceOptions> mqtt = service::CloudServiceOptions{.mqtt_port = 0};
  console::ConsoleOptions console{};
};

class LocalCloud {
 public:
  // Opens (or creates) the state directory and builds every part; nothing listens yet.
  static Result<std::unique_ptr<LocalCloud>> open(LocalCloudOptions options);
  ~LocalCloud();
  LocalCloud(const LocalCloud&) = delete;
  LocalCloud& operator=(const LocalCloud&) = delete;

  // Binds the HTTP server (start() does it when not done yet): the bound endpoint.
  Result<boost::asio::ip::tcp::endpoint> listen();
  // Starts the data plane and the console, then the network threads.
  Status start();
  // Asks the network threads to return; any thread (a signal handler's completion too).
  void request_stop();
  // Blocks until the network threads have returned (after request_stop()).
  void wait();
  // request_stop(), wait(), then closes the HTTP port and stops the console and the data plane.
  // Idempotent; the destructor calls it.
  void stop();

  const CloudState& state() const { return state_; }
  registry::Registry& registry() { return *state_.registry; }
  api::ServiceContext& context() { return *context_; }
  boost::asio::io_context& io() { return io_; }
  api::ApiServer& api_server() { return *server_; }
  console::ConsoleServer& console() { return *console_; }
  service::CloudService* service() { return service_.get(); }  // null: control plane only

  // After listen(): the bound HTTP endpoint, its host as a URL writes it ([::1] for IPv6) and
  // http://host:port.
  boost::asio::ip::tcp::endpoint http_endpoint() const { return http_endpoint_; }
  std::string http_host() const;
  std::string api_url() const;
  // After start(): the broker's port (nullopt: control plane only).
  std::optional<uint16_t> mqtt_port() const;

 private:
  explicit LocalCloud(LocalCloudOptions options, CloudState state);

  LocalCloudOptions options_;
  CloudState state_;
  std::unique_ptr<api::ServiceContext> context_;
  std::unique_ptr<lambda::Invoker> lambda_;  // Lambda's Invoke (the API's)
  boost::asio::io_context io_;
  std::unique_ptr<service::CloudService> service_;
  std::unique_ptr<api::ApiServer> server_;
  std::shared_ptr<console::ConsoleServer> console_;
  boost::asio::ip::tcp::endpoint http_endpoint_;
  bool listening_ = false;
  bool started_ = false;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace zt::cloud
