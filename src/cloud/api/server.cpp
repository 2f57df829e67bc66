#include "cloud/api/server.hpp"

#include "cloud/api/handler_util.hpp"
#include "cloud/api/server_impl.hpp"
#include "common/log.hpp"

namespace zt::cloud::api {
namespace asio = boost::asio;

ApiServer::ApiServer(asio::io_context& io, ServiceContext& context, Router router,
                     ServerOptions options)
    : io_(io),
      context_(context),
      router_(std::move(router)),
      options_(std::move(options)),
      deferred_pool_(std::max<size_t>(1, options_.deferred_threads)),
      impl_(std::make_unique<Impl>(io)) {}

ApiServer::~ApiServer() {
  stop();
  registry_worker_.join();
  deferred_pool_.join();
}

void ApiServer::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
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

std::optional<Reply> ApiServer::authenticate(const aws::HttpRequest& request, std::string& region) {
  aws::SecretLookup lookup = [this](std::string_view key) { return secret_of(key); };
  std::string error_type;
  auto caller = aws::verify_request(
      request, lookup,
      {.services = options_.services,
       .regions = context_.region.empty() ? std::vector<std::string>{}
                                          : std::vector<std::string>{context_.region},
       .allow_unsigned_payload = false,
       .now = 0,
       .max_skew_seconds = options_.max_skew_seconds,
       .normalize = true},
      &error_type);
  if (!caller) return error_reply(403, error_type, caller.error().message);
  region = caller->region;
  return std::nullopt;
}

Reply ApiServer::dispatch(const aws::HttpRequest& http_request, const std::string& region) {
  std::string_view target = http_request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  auto match = router_.match(http_request.method, path);
  if (!match.handler) {
    if (match.path_known) {
      return error_reply(405, "MethodNotAllowedException",
                         "Method " + http_request.method + " is not allowed on " +
                             std::string(path.substr(0, 200)));
    }
    return error_reply(
        404, "ResourceNotFoundException",
        "No operation matches " + http_request.method + " " + std::string(path.substr(0, 200)));
  }
  ApiRequest request{
      .http = &http_request,
      .operation = match.operation,
      .path = std::move(match.path),
      .query = parse_query(question == std::string_view::npos ? "" : target.substr(question + 1)),
      .caller_region = region};
  // One API call = one transaction: a handler error rolls everything back.
  Reply reply;
  bool refused = false;
  Status committed = context_.registry.transaction([&]() -> Status {
    ApiResult<Reply> answer = (*match.handler)(context_, request);
    refused = !answer;
    reply = refused ? error_reply(answer.error()) : std::move(*answer);
    if (refused) return make_error(Errc::conflict, "handler refused the request");
    return ok();
  });
  if (!committed && !refused) {
    spdlog::error("{}: commit failed: {}", request.operation, committed.error().message);
    reply.deferred = nullptr;
    return error_reply(500, "InternalFailureException", "the change could not be committed");
  }
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
  std::string region;
  if (auto refused = authenticate(request, region)) return *refused;
  Reply reply = dispatch(request, region);
  return reply.deferred ? reply.deferred() : reply;
}

}  // namespace zt::cloud::api
