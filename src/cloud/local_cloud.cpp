#include "cloud/local_cloud.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "common/log.hpp"

namespace zt::cloud {

namespace {

unsigned network_threads(unsigned requested) {
  return requested ? requested : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

Result<std::unique_ptr<LocalCloud>> LocalCloud::open(LocalCloudOptions options) {
  ZT_TRY(validate_endpoint_domain(options.endpoint_domain));
  ZT_TRY_ASSIGN(CloudState state,
                open_cloud_state(options.state_dir, options.region, options.endpoint_domain));
  return std::unique_ptr<LocalCloud>(new LocalCloud(std::move(options), std::move(state)));
}

LocalCloud::LocalCloud(LocalCloudOptions options, CloudState state)
    : options_(std::move(options)),
      state_(std::move(state)),
      io_(static_cast<int>(network_threads(options_.threads))) {
  context_ = std::make_unique<api::ServiceContext>(
      api::ServiceContext{.registry = *state_.registry,
                          .account_id = state_.account_id,
                          .region = state_.region,
                          .endpoint_prefix = state_.endpoint_prefix,
                          .endpoint_domain = state_.endpoint_domain,
                          .issuer_cert = state_.issuer_cert.get(),
                          .issuer_key = state_.issuer_key.get(),
                          .server_ca_cert = state_.server_ca_cert.get(),
                          .server_ca_key = state_.server_ca_key.get()});
  // The data plane (broker, shadows, rules, JITR) shares the registry; its iot-data routes
  // (signing names iotdata / iotdevicegateway) are served on the same port as the control plane.
  // One port, one router per service, chosen by the signing name of each request's SigV4 scope.
  api::ServiceRouters routers{.iot = api::make_control_plane_router(),
                              .iam = api::make_iam_router()};
  api::ServerOptions http = options_.http;
  // Lambda (signing name "lambda") on the same port, in its own router.
  lambda_ = std::make_unique<lambda::Invoker>(
      *state_.registry,
      lambda::InvokerOptions{.code_cache = state_.dir / "lambda" / "code",
                             .cloud = {.endpoint_url = {},
                                       .access_key_id = state_.access_key_id,
                                       .secret_access_key = state_.secret_access_key,
                                       .region = state_.region},
                             .account_id = state_.account_id});
  context_->lambda = lambda_.get();
  api::add_lambda_routes(routers.lambda);
  if (options_.mqtt) {
    service_ = std::make_unique<service::CloudService>(state_, *options_.mqtt);
    service_->add_routes(routers.iot);
    service_->add_jobs_data_routes(routers.jobs_data);
    http.services.push_back("iotdata");
    http.services.push_back("iotdevicegateway");
  }
  server_ = std::make_unique<api::ApiServer>(io_, *context_, std::move(routers), http);
  // The web console on the same port (before SigV4 for /console/*).
  console_ = std::make_shared<console::ConsoleServer>(*context_, service_.get(), options_.console);
  server_->set_hook(console_);
}

LocalCloud::~LocalCloud() { stop(); }

Result<boost::asio::ip::tcp::endpoint> LocalCloud::listen() {
  if (!listening_) {
    ZT_TRY_ASSIGN(http_endpoint_, server_->start());
    listening_ = true;
  }
  return http_endpoint_;
}

Status LocalCloud::start() {
  ZT_TRY(listen());
  lambda_->set_endpoint_url(api_url());
  if (service_) {
    service_->set_api_url(api_url());
    if (auto started = service_->start(); !started) {
      server_->stop();
      return started;
    }
  }
  console_->start();
  started_ = true;
  // The guard keeps the threads in run() until request_stop(), whatever is pending.
  auto guard =
      std::make_shared<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          io_.get_executor());
  for (unsigned i = 0; i < network_threads(options_.threads); ++i) {
    threads_.emplace_back([this, guard] { io_.run(); });
  }
  return ok();
}

void LocalCloud::request_stop() { io_.stop(); }

void LocalCloud::wait() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void LocalCloud::stop() {
  if (stopped_) return;
  stopped_ = true;
  request_stop();
  wait();
  server_->stop();
  if (started_) console_->stop();
  if (service_) service_->stop();
  lambda_->stop();
  // What group commit did (bench_shadow reads this line from `ztp cloud run`'s log).
  spdlog::info("registry: closed after {} WAL commits and {} WAL fdatasyncs",
               registry().wal_commits(), registry().wal_syncs());
}

std::string LocalCloud::http_host() const {
  std::string host = http_endpoint_.address().to_string();
  return http_endpoint_.address().is_v6() ? "[" + host + "]" : host;
}

std::string LocalCloud::api_url() const {
  return "http://" + http_host() + ":" + std::to_string(http_endpoint_.port());
}

std::optional<uint16_t> LocalCloud::mqtt_port() const {
  if (!service_) return std::nullopt;
  return service_->mqtt_port();
}

}  // namespace zt::cloud
