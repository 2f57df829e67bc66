// The control-plane HTTP/1.1 server (Boost.Beast, C++20 coroutines). Embeddable: it runs on the
// caller's io_context (run it from as many threads as cores); registry work is serialised on
// one worker thread so SQLite writes never block the network threads.
//
// Every request: SigV4 verification → the router of the service the verified credential scope
// names (ServiceRouters) → route on the raw path → handler inside one registry transaction → the
// service's answer (rest-json; IAM's XML). A RequestHook (the web console) may claim paths first;
// it authenticates its own way and may answer with a long-lived event stream.
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "cloud/api/event_stream.hpp"
#include "cloud/api/router.hpp"
#include "cloud/api/service.hpp"
#include "common/connection_limits.hpp"

namespace zt::cloud::api {

class ApiServer;

// What a hook answers: an immediate reply, work to run off the network threads (on `pool`, or
// the registry worker when null) that produces the reply, or an event stream.
struct HookReply {
  std::optional<Reply> reply{};
  std::function<Reply()> deferred{};
  boost::asio::thread_pool* pool = nullptr;
  std::shared_ptr<EventStream> stream{};
  std::vector<std::pair<std::string, std::string>> stream_headers{};
};

class RequestHook {
 public:
  virtual ~RequestHook() = default;
  // Whether this hook serves `path` (the raw path, without the query).
  virtual bool claims(std::string_view path) const = 0;
  // Runs on a network thread: must not block. `server` offers SigV4 (`authenticate`).
  virtual HookReply handle(const aws::HttpRequest& request, ApiServer& server) = 0;
};

// The routers of the services one server answers, chosen by the service (signing name) of the
// request's verified SigV4 credential scope. A service whose router has no routes is not served.
struct ServiceRouters {
  Router iot{};     // the signing names of ServerOptions::services (iot, execute-api, iotdata…)
  Router lambda{};  // lambda
  Router iam{};     // iam: a global service, signed for us-east-1 whatever the cloud's region
  Router jobs_data{};  // iot-jobs-data: the Jobs device HTTP API (its paths overlap the iot ones)
};

// Who signed a request, as SigV4 verification found it.
struct Caller {
  std::string access_key_id{};
  std::string region{};
  std::string service{};
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 4580;  // 0 = ephemeral
  size_t body_limit = 1 << 20;
  // Larger bodies for paths under a prefix: Lambda's CreateFunction carries a 50 MB zip as base64
  // (AWS: "Request must be smaller than 69905067 bytes for the CreateFunction operation").
  std::vector<std::pair<std::string, size_t>> large_bodies{{"/2015-03-31/functions", 69905067}};
  size_t body_limit_for(std::string_view target) const {
    for (const auto& [prefix, limit] : large_bodies) {
      if (target.starts_with(prefix)) return limit;
    }
    return body_limit;
  }
  size_t largest_body_limit() const {
    size_t largest = body_limit;
    for (const auto& entry : large_bodies) largest = std::max(largest, entry.second);
    return largest;
  }
  // Threads for deferred replies (Reply::deferred: Lambda invocations), each busy while its
  // function runs.
  size_t deferred_threads = 8;
  // The signing names the IoT router answers (the local cloud adds iotdata / iotdevicegateway for
  // the data plane); lambda and iam are served when their routers have routes.
  std::vector<std::string> services{"iot", "execute-api"};
  int64_t max_skew_seconds = 15 * 60;
  // Time bounds of a connection (see docs: "Limits"): the wait for the next request on a kept-alive
  // connection; the request head (line and headers) from the first byte the server waits for, as
  // common servers bound it (Apache's RequestReadTimeout header=20, Go's ReadHeaderTimeout); the
  // body and the writing of the answer.
  int idle_timeout_seconds = 120;
  int header_timeout_seconds = 10;
  int body_timeout_seconds = 60;
  // Open connections (0: no cap). At a cap, the oldest connection still waiting for a request head
  // is closed to make room; with none waiting the new one gets 503 and is closed.
  ConnectionCaps connection_caps{.max_total = 1024, .max_per_address = 256};
};

class ApiServer {
 public:
  ApiServer(boost::asio::io_context& io, ServiceContext& context, ServiceRouters routers,
            ServerOptions options);
  // The IoT services only.
  ApiServer(boost::asio::io_context& io, ServiceContext& context, Router router,
            ServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts accepting; returns the bound endpoint (useful with port 0).
  Result<boost::asio::ip::tcp::endpoint> start();
  void stop();

  // Authentication + routing + handler for one request, without the network (tests, fuzzing).
  Reply handle(const aws::HttpRequest& request);
  // The two halves: authenticate on any thread; dispatch on the registry worker. dispatch returns
  // once the request's transaction is durable.
  std::optional<Reply> authenticate(const aws::HttpRequest& request, Caller& caller);
  Reply dispatch(const aws::HttpRequest& request, const Caller& caller);
  // Group commit (registry.hpp): returns at COMMIT, with `durable_sequence` to hand to
  // Registry::when_durable; the reply must not leave before that says durable (or, if the sync
  // failed, durability_failed's reply leaves instead). The registry worker meanwhile runs the next
  // requests, whose commits share the fsync.
  Reply dispatch(const aws::HttpRequest& request, const Caller& caller, uint64_t& durable_sequence);
  Reply durability_failed(const Caller& caller, std::string_view why) const;
  registry::Registry& registry() { return context_.registry; }
  // The same for callers that need only the region (the console; fuzz targets: the IoT router).
  std::optional<Reply> authenticate(const aws::HttpRequest& request, std::string& region);
  Reply dispatch(const aws::HttpRequest& request, const std::string& region);

  // Whether a request head may carry a body over ServerOptions::body_limit (a large_bodies path):
  // only when its Authorization names one of our access keys, so an unauthenticated client cannot
  // make the server hold 67 MB per connection. The signature is verified with the body, as always.
  bool known_signer(std::string_view authorization);

  const ServiceRouters& routers() const { return routers_; }
  boost::asio::thread_pool& registry_worker() { return registry_worker_; }
  boost::asio::thread_pool& deferred_pool() { return deferred_pool_; }

  // Before start(): paths the hook claims skip SigV4 and the router.
  void set_hook(std::shared_ptr<RequestHook> hook) { hook_ = std::move(hook); }
  RequestHook* hook_for(std::string_view target) const;

 private:
  struct Impl;
  // The router of a signing name, or nullptr when this server does not serve it.
  const Router* router_for(std::string_view service) const;
  std::vector<std::string> served_services() const;
  void forget_access_key(std::string_view access_key_id);

  boost::asio::io_context& io_;
  ServiceContext& context_;
  ServiceRouters routers_;
  ServerOptions options_;
  boost::asio::thread_pool registry_worker_{1};
  boost::asio::thread_pool deferred_pool_;
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<RequestHook> hook_;
  std::shared_mutex secrets_mutex_;
  std::map<std::string, std::string, std::less<>> secrets_;  // cache of access keys
  std::optional<std::string> secret_of(std::string_view access_key_id);
};

}  // namespace zt::cloud::api
