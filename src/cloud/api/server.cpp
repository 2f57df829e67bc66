#include "cloud/api/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "cloud/api/handler_util.hpp"
#include "common/log.hpp"

namespace zt::cloud::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ApiServer::Impl {
  explicit Impl(asio::io_context& io) : acceptor(io) {}
  tcp::acceptor acceptor;
};

ApiServer::ApiServer(asio::io_context& io, ServiceContext& context, Router router,
                     ServerOptions options)
    : io_(io),
      context_(context),
      router_(std::move(router)),
      options_(std::move(options)),
      impl_(std::make_unique<Impl>(io)) {}

ApiServer::~ApiServer() {
  stop();
  registry_worker_.join();
}

void ApiServer::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

std::optional<Reply> ApiServer::authenticate(const aws::HttpRequest& request, std::string& region) {
  aws::SecretLookup lookup = [this](std::string_view key) -> std::optional<std::string> {
    {
      std::shared_lock lock(secrets_mutex_);
      if (auto it = secrets_.find(key); it != secrets_.end()) return it->second;
    }
    auto secret = context_.registry.find_secret(key);
    if (!secret || !*secret) return std::nullopt;
    std::unique_lock lock(secrets_mutex_);
    secrets_.emplace(std::string(key), **secret);
    return *secret;
  };
  std::string error_type;
  auto caller = aws::verify_request(request, lookup,
                                    {.services = options_.services,
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
  // One API call = one transaction: a handler error (status >= 300) rolls everything back.
  Reply reply;
  Status committed = context_.registry.transaction([&]() -> Status {
    reply = (*match.handler)(context_, request);
    if (reply.status >= 300) return make_error(Errc::conflict, "handler refused the request");
    return ok();
  });
  if (!committed && reply.status < 300) {
    spdlog::error("{}: commit failed: {}", request.operation, committed.error().message);
    return error_reply(500, "InternalFailureException", "the change could not be committed");
  }
  spdlog::debug("{} {} -> {}", request.operation, std::string(path), reply.status);
  return reply;
}

Reply ApiServer::handle(const aws::HttpRequest& request) {
  std::string region;
  if (auto refused = authenticate(request, region)) return *refused;
  return dispatch(request, region);
}

namespace {

http::response<http::string_body> to_response(const Reply& reply, unsigned version,
                                              bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(reply.status), version};
  response.set(http::field::server, "zerotouch");
  for (const auto& [name, value] : reply.headers) response.set(name, value);
  response.body() = reply.body;
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

asio::awaitable<void> serve_connection(ApiServer& server, tcp::socket socket,
                                       const ServerOptions& options) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(options.idle_timeout_seconds));
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      break;
    }
    if (ec) {
      // Malformed or oversized request: answer in the AWS shape, then close (the stream's framing
      // is no longer trustworthy).
      Reply reply =
          ec == http::error::body_limit
              ? error_reply(413, "RequestEntityTooLargeException", "the request body is too large")
              : error_reply(400, "InvalidRequestException",
                            "malformed HTTP request: " + ec.message());
      auto response = to_response(reply, 11, false);
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    auto message = parser.release();
    aws::HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    bool keep_alive = message.keep_alive();

    Reply reply;
    std::string region;
    if (auto refused = server.authenticate(request, region)) {
      reply = std::move(*refused);
    } else {
      // Registry work on the single worker thread, then back to this connection's strand.
      auto executor = co_await asio::this_coro::executor;
      reply = co_await asio::co_spawn(
          server.registry_worker(),
          [&]() -> asio::awaitable<Reply> { co_return server.dispatch(request, region); },
          asio::use_awaitable);
      co_await asio::post(executor, asio::use_awaitable);
    }
    auto response = to_response(reply, message.version(), keep_alive);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(ApiServer& server, tcp::acceptor& acceptor, asio::io_context& io,
                                  const ServerOptions& options) {
  while (acceptor.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(
        asio::make_strand(io), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_connection(server, std::move(socket), options), asio::detached);
  }
}

}  // namespace

Result<tcp::endpoint> ApiServer::start() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.address, ec);
  if (ec)
    return make_error(Errc::invalid_argument, "bad listen address '" + options_.address + "'");
  tcp::endpoint endpoint(address, options_.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::io, "listening on " + options_.address + ":" +
                                    std::to_string(options_.port) + ": " + ec.message());
  }
  asio::co_spawn(io_, accept_loop(*this, acceptor, io_, options_), asio::detached);
  return acceptor.local_endpoint();
}

}  // namespace zt::cloud::api
