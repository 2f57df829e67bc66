#include "cloud/api/server.hpp"

#include <algorithm>

#include "cloud/api/handler_util.hpp"
#include "cloud/api/server_impl.hpp"
#include "common/bytes.hpp"
#include "common/log.hpp"

namespace zt::cloud::api {
namespace asio = boost::asio;

namespace {

// IAM is a global service: whatever the region of the cloud, its requests are signed for
// us-east-1 (IAM API Reference, "Signing AWS API requests": the endpoint iam.amazonaws.com is in
// us-east-1).
constexpr std::string_view kIamService = "iam";
constexpr std::string_view kIamSigningRegion = "us-east-1";
// AWS IoT Jobs' device HTTP API signs as iot-jobs-data (API Reference, "AWS IoT Jobs data plane").
constexpr std::string_view kJobsDataService = "iot-jobs-data";

}  // namespace

ApiServer::ApiServer(asio::io_context& io, ServiceContext& context, ServiceRouters routers,
                     ServerOptions options)
    : io_(io),
      context_(context),
      routers_(std::move(routers)),
      options_(std::move(options)),
      deferred_pool_(std::max<size_t>(1, options_.deferred_threads)),
      impl_(std::make_unique<Impl>(io)) {
  context_.forget_access_key = [this](std::string_view key) { forget_access_key(key); };
}

ApiServer::ApiServer(asio::io_context& io, ServiceContext& context, Router router,
                     ServerOptions options)
    : ApiServer(io, context, ServiceRouters{.iot = std::move(router)}, std::move(options)) {}

ApiServer::~ApiServer() {
  context_.forget_access_key = nullptr;  // the context may outlive this server
  stop();
  registry_worker_.join();
  deferred_pool_.join();
}

void ApiServer::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

const Router* ApiServer::router_for(std::string_view service) const {
  if (std::find(options_.services.begin(), options_.services.end(), service) !=
      options_.services.end())
    return &routers_.iot;
  if (service == "lambda" && !routers_.lambda.empty()) return &routers_.lambda;
  if (service == kIamService && !routers_.iam.empty()) return &routers_.iam;
  if (service == kJobsDataService && !routers_.jobs_data.empty()) return &routers_.jobs_data;
  return nullptr;
}

std::vector<std::string> ApiServer::served_services() const {
  std::vector<std::string> services = options_.services;
  if (!routers_.lambda.empty()) services.emplace_back("lambda");
  if (!routers_.iam.empty()) services.emplace_back(kIamService);
  if (!routers_.jobs_data.empty()) services.emplace_back(kJobsDataService);
  return services;
}

void ApiServer::forget_access_key(std::string_view access_key_id) {
  std::unique_lock lock(secrets_mutex_);
  if (auto it = secrets_.find(access_key_id); it != secrets_.end()) {
    secure_zero(it->second.data(), it->second.size());
    secrets_.erase(it);
  }
}

std::optional<std::string> ApiServer::secret_of(std::string_view key) {
  {
    std::shared_lock lock(secrets_mutex_);
    if (auto it = secrets_.find(key); it != secrets_.end()) return it->second;
  }
  auto secret = context_.registry.find_secret(key);
  if (!secret || !*secret) return std::nullopt;
  std::unique_lock lock(secrets_mutex_);
  secrets_.emplace(std::string(key), **secret);
  return *secret;
}

bool ApiServer::known_signer(std::string_view authorization) {
  // AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, ...
  size_t at = authorization.find("Credential=");
  if (at == std::string_view::npos) return false;
  std::string_view rest = authorization.substr(at + 11);
  std::string_view key = rest.substr(0, rest.find('/'));
  if (key.empty() || key.size() > 128 || key.size() == rest.size()) return false;
  return secret_of(key).has_value();
}

std::optional<Reply> ApiServer::authenticate(const aws::HttpRequest& request, Caller& caller) {
  aws::SecretLookup lookup = [this](std::string_view key) { return secret_of(key); };
  // The scope's service picks the region it must be signed for and the shape of a refusal; the
  // signature itself is checked by verify_request. A request signed for a service this server
  // does not serve gets AWS's answer for a wrong signing name, InvalidSignatureException
  // "Credential should be scoped to correct service: 'iot'. " (IAM User Guide, "Troubleshoot
  // signed requests": credential scope errors), in the IoT endpoint's rest-json shape.
  std::string scope_service;
  if (auto header = request.header("authorization")) {
    if (auto parsed = aws::parse_authorization(*header)) scope_service = parsed->service;
  }
  const Router* router = router_for(scope_service);
  std::vector<std::string> regions;
  if (scope_service == kIamService && router) {
    regions.emplace_back(kIamSigningRegion);
  } else if (!context_.region.empty()) {
    regions.push_back(context_.region);
  }
  std::string error_type;
  auto verified = aws::verify_request(request, lookup,
                                      {.services = served_services(),
                                       .regions = std::move(regions),
                                       .allow_unsigned_payload = false,
                                       .now = 0,
                                       .max_skew_seconds = options_.max_skew_seconds,
                                       .normalize = true},
                                      &error_type);
  if (!verified) {
    ApiError refusal = api_error(403, error_type, verified.error().message);
    return router ? router->refuse(refusal) : error_reply(refusal);
  }
  caller = Caller{.access_key_id = verified->access_key_id,
                  .region = verified->region,
                  .service = verified->service};
  return std::nullopt;
}

std::optional<Reply> ApiServer::authenticate(const aws::HttpRequest& request, std::string& region) {
  Caller caller;
  auto refused = authenticate(request, caller);
  region = caller.region;
  return refused;
}

Reply ApiServer::dispatch(const aws::HttpRequest& http_request, const std::string& region) {
  return dispatch(http_request, Caller{.region = region, .service = "iot"});
}

Reply ApiServer::dispatch(const aws::HttpRequest& http_request, const Caller& caller) {
  uint64_t sequence = 0;
  Reply reply = dispatch(http_request, caller, sequence);
  if (Status durable = context_.registry.wait_durable(sequence); !durable)
    return durability_failed(caller, durable.error().message);
  return reply;
}

Reply ApiServer::durability_failed(const Caller& caller, std::string_view why) const {
  spdlog::error("a committed change could not be made durable: {}", why);
  const Router* router = router_for(caller.service);
  if (!router) router = &routers_.iot;
  return router->refuse(
      api_error(500, "InternalFailureException", "the change could not be committed"));
}

Reply ApiServer::dispatch(const aws::HttpRequest& http_request, const Caller& caller,
                          uint64_t& durable_sequence) {
  durable_sequence = 0;
  const Router* router = router_for(caller.service);
  if (!router) router = &routers_.iot;
  std::string_view target = http_request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  auto match = router->match(http_request.method, path);
  if (!match.handler) {
    // No operation of ours (an unknown path, or a method no operation of the path has):
    // answered as AWS IoT answers a request it has no operation for,
    // UnknownOperationException (HTTP 400 as AWS IoT sent it to SDK users, aws-sdk-android
    // issues 2206/2208), never ResourceNotFoundException, which a client would take for "that
    // resource is not there". docs/compatibility.md.
    return router->refuse(api_error(
        400, "UnknownOperationException",
        "No operation matches " + http_request.method + " " + std::string(path.substr(0, 200))));
  }
  ApiRequest request{
      .http = &http_request,
      .operation = match.operation,
      .path = std::move(match.path),
      .query = parse_query(question == std::string_view::npos ? "" : target.substr(question + 1)),
      .caller_region = caller.region,
      .caller_access_key = caller.access_key_id};
  // One API call = one transaction: a handler error rolls everything back. Its commit does not
  // wait for the fsync here (group commit): the caller acknowledges after when_durable.
  Reply reply;
  bool refused = false;
  registry::Registry::DeferredDurability deferred(context_.registry);
  Status committed = context_.registry.transaction([&]() -> Status {
    ApiResult<Reply> answer = (*match.handler)(context_, request);
    refused = !answer;
    reply = refused ? router->refuse(answer.error()) : std::move(*answer);
    if (refused) return make_error(Errc::conflict, "handler refused the request");
    return ok();
  });
  if (!committed && !refused) {
    spdlog::error("{}: commit failed: {}", request.operation, committed.error().message);
    reply.deferred = nullptr;
    return router->refuse(
        api_error(500, "InternalFailureException", "the change could not be committed"));
  }
  durable_sequence = deferred.commit_sequence();
  spdlog::debug("{} {} -> {}", request.operation, std::string(path), reply.status);
  return reply;
}

RequestHook* ApiServer::hook_for(std::string_view target) const {
  if (!hook_) return nullptr;
  return hook_->claims(target.substr(0, target.find('?'))) ? hook_.get() : nullptr;
}

Reply ApiServer::handle(const aws::HttpRequest& request) {
  if (RequestHook* hook = hook_for(request.target)) {
    HookReply answer = hook->handle(request, *this);
    if (answer.deferred) return answer.deferred();
    if (answer.stream) {
      answer.stream->close();  // no connection to drain it here
      return Reply{200, "", answer.stream_headers};
    }
    return answer.reply.value_or(error_reply(500, "InternalFailureException", "no reply"));
  }
  Caller caller;
  if (auto refused = authenticate(request, caller)) return *refused;
  Reply reply = dispatch(request, caller);
  return reply.deferred ? reply.deferred() : reply;
}

}  // namespace zt::cloud::api
