// The network half of ApiServer: accept loop and per-connection coroutines (Beast HTTP/1.1,
// keep-alive, body limit). Kept apart from server.cpp so the fuzz build (clang 14 cannot emit
// these coroutines with sanitizer coverage: "Cannot represent a difference across sections") can
// still link the request path.
#include <utility>  // std::exchange, used by boost/asio/awaitable.hpp (1.74) without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "cloud/api/beast_request.hpp"
#include "cloud/api/handler_util.hpp"
#include "cloud/api/server.hpp"
#include "cloud/api/server_impl.hpp"
#include "common/accept_loop.hpp"
#include "common/connection_limits.hpp"
#include "common/log.hpp"

namespace zt::cloud::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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

}  // namespace

// The wait half of EventStream (event_stream.cpp has the rest).
asio::awaitable<EventStream::Batch> EventStream::next(std::chrono::milliseconds heartbeat) {
  Batch batch = take();
  if (!batch.events.empty() || batch.overflowed || batch.ended) co_return batch;
  timer_->expires_after(heartbeat);
  boost::system::error_code ec;
  co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return take();
}

namespace {

// A text/event-stream answer: the head (no Content-Length; the body ends when the connection
// closes, RFC 9112 §6.3), then the stream's events as they come, a comment line as heartbeat so
// dead peers are noticed and proxies keep the connection, and `resync` after an overflow.
asio::awaitable<void> serve_event_stream(beast::tcp_stream& stream, HookReply answer) {
  constexpr auto kHeartbeat = std::chrono::seconds(15);
  std::string head = "HTTP/1.1 200 OK\r\nServer: zerotouch\r\nConnection: close\r\n";
  for (const auto& [name, value] : answer.stream_headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  auto events = answer.stream;
  events->attach(co_await asio::this_coro::executor);
  stream.expires_never();
  boost::system::error_code ec;
  co_await asio::async_write(stream.socket(), asio::buffer(head),
                             asio::redirect_error(asio::use_awaitable, ec));
  while (!ec) {
    auto batch = co_await events->next(kHeartbeat);
    std::string out;
    if (batch.overflowed) out += EventStream::format("resync", "{}");
    for (auto& event : batch.events) out += event;
    if (out.empty() && !batch.ended) out = ": heartbeat\n\n";
    if (!out.empty()) {
      co_await asio::async_write(stream.socket(), asio::buffer(out),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (batch.ended) break;
  }
  events->close();  // producers stop queueing for a peer that is gone
}

// A reply for a request that could not be read: the AWS shape, then the connection closes (the
// stream's framing is no longer trustworthy).
Reply unreadable_request_reply(const boost::system::error_code& ec) {
  return ec == http::error::body_limit
             ? error_reply(413, "RequestEntityTooLargeException", "the request body is too large")
             : error_reply(400, "InvalidRequestException",
                           "malformed HTTP request: " + ec.message());
}

bool connection_gone(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == beast::error::timeout || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor;
}

// One connection: requests in turn (keep-alive). Time bounds, so a silent or slow client cannot
// hold a connection (and a descriptor) for long: the wait for the next request on a kept-alive
// connection (idle timeout), the request head from the first byte of the connection or of the
// request (header timeout), the body (body timeout). While it waits for a request head the
// connection may be evicted (closed) to make room for a new one (ConnectionLimiter).
asio::awaitable<void> serve_connection(ApiServer& server, std::shared_ptr<beast::tcp_stream> stream,
                                       ConnectionLimiter::Slot slot, const ServerOptions& options) {
  std::weak_ptr<beast::tcp_stream> weak = stream;
  auto executor = stream->get_executor();
  auto evict = [weak, executor] {
    asio::post(executor, [weak] {
      boost::system::error_code ignored;
      if (auto alive = weak.lock()) alive->socket().close(ignored);
    });
  };
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    slot.set_evictable(evict);
    boost::system::error_code ec;
    if (!first && buffer.size() == 0) {
      stream->expires_after(std::chrono::seconds(options.idle_timeout_seconds));
      size_t read = co_await stream->async_read_some(buffer.prepare(4096),
                                                     asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(read);
      if (ec) break;
    }
    http::request_parser<http::string_body> parser;
    // The header decides which limit applies; Beast checks a Content-Length against the limit set
    // before the header is read, so the largest goes first and the path's is checked after.
    parser.body_limit(options.largest_body_limit());
    parser.header_limit(64 * 1024);
    stream->expires_after(std::chrono::seconds(options.header_timeout_seconds));
    co_await http::async_read_header(*stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    slot.clear_evictable();
    if (!ec) {
      auto target = parser.get().target();
      auto authorization = parser.get()[http::field::authorization];
      size_t limit = options.body_limit_for(std::string_view(target.data(), target.size()));
      if (limit > options.body_limit &&
          !server.known_signer(std::string_view(authorization.data(), authorization.size())))
        limit = options.body_limit;
      parser.body_limit(limit);
      if (auto length = parser.content_length(); length && *length > limit)
        ec = http::error::body_limit;
    }
    if (!ec && !parser.is_done()) {
      stream->expires_after(std::chrono::seconds(options.body_timeout_seconds));
      co_await http::async_read(*stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    if (connection_gone(ec) || !stream->socket().is_open()) break;
    if (ec) {
      stream->expires_after(std::chrono::seconds(options.header_timeout_seconds));
      auto response = to_response(unreadable_request_reply(ec), 11, false);
      co_await http::async_write(*stream, response, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    stream->expires_never();
    auto message = parser.release();
    aws::HttpRequest request = to_http_request(message);
    bool keep_alive = message.keep_alive();

    Reply reply;
    Caller caller;
    if (RequestHook* hook = server.hook_for(request.target)) {
      HookReply answer = hook->handle(request, server);
      if (answer.stream) {
        co_await serve_event_stream(*stream, std::move(answer));
        break;
      }
      if (answer.deferred) {
        asio::thread_pool& pool = answer.pool ? *answer.pool : server.registry_worker();
        reply = co_await asio::co_spawn(
            pool, [&]() -> asio::awaitable<Reply> { co_return answer.deferred(); },
            asio::use_awaitable);
        co_await asio::post(executor, asio::use_awaitable);
      } else {
        reply = answer.reply.value_or(
            error_reply(500, "InternalFailureException", "the hook gave no reply"));
      }
    } else if (auto refused = server.authenticate(request, caller)) {
      reply = std::move(*refused);
    } else {
      // Registry work on the single worker thread, then back to this connection's strand. The
      // worker returns at COMMIT and goes on with the next request (of any connection) while this
      // one waits for the fdatasync that makes its commit durable, shared with every commit before
      // it (group commit, registry.hpp). The worker's queue holds at most one request per
      // connection, and connections are capped (ConnectionLimiter): a flood of writes waits in the
      // clients' sockets, not in our memory.
      uint64_t sequence = 0;
      reply = co_await asio::co_spawn(
          server.registry_worker(),
          [&]() -> asio::awaitable<Reply> { co_return server.dispatch(request, caller, sequence); },
          asio::use_awaitable);
      co_await asio::post(executor, asio::use_awaitable);
      if (sequence != 0) {
        std::string failure =
            co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::string)>(
                [&](auto handler) {
                  auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                  server.registry().when_durable(sequence, [shared, executor](Status durable) {
                    std::string why = durable ? std::string() : durable.error().message;
                    asio::post(executor, [shared, why = std::move(why)]() mutable {
                      (*shared)(std::move(why));
                    });
                  });
                },
                asio::use_awaitable);
        if (!failure.empty()) reply = server.durability_failed(caller, failure);
      }
      if (reply.deferred) {
        // After the commit, on the deferred pool: the registry worker stays free meanwhile.
        auto work = std::move(reply.deferred);
        reply = co_await asio::co_spawn(
            server.deferred_pool(), [&]() -> asio::awaitable<Reply> { co_return work(); },
            asio::use_awaitable);
        co_await asio::post(executor, asio::use_awaitable);
      }
    }
    auto response = to_response(reply, message.version(), keep_alive);
    // A client that does not read its answer is bounded like one that does not send.
    stream->expires_after(std::chrono::seconds(options.body_timeout_seconds));
    co_await http::async_write(*stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
}

// A connection over a cap with no waiting connection to evict (all are busy with requests or
// event streams): a 503 if the socket takes it at once (AWS's ServiceUnavailableException, which
// the SDKs retry), then close. Never waits: a refused client gets no time of ours.
void refuse_connection(tcp::socket& socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nServer: zerotouch\r\nConnection: close\r\n"
      "Retry-After: 1\r\nx-amzn-ErrorType: ServiceUnavailableException\r\n"
      "Content-Type: application/json\r\nContent-Length: 53\r\n\r\n"
      "{\"message\":\"too many connections, retry in a moment\"}";
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(kBusy), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> accept_loop(ApiServer& server, tcp::acceptor& acceptor, asio::io_context& io,
                                  const ServerOptions& options,
                                  std::shared_ptr<ConnectionLimiter> limiter) {
  return accept_connections(
      "api", acceptor, std::move(limiter), /*allow_eviction=*/true,
      [&io] { return tcp::socket(asio::make_strand(io)); }, refuse_connection,
      [&server, &options](tcp::socket socket, ConnectionLimiter::Slot slot,
                          const std::string& address) {
        auto executor = socket.get_executor();
        asio::co_spawn(
            executor,
            serve_connection(server, std::make_shared<beast::tcp_stream>(std::move(socket)),
                             std::move(slot), options),
            log_exceptions("api: connection from " + address));
      });
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
  impl_->limiter = ConnectionLimiter::create(options_.connection_caps);
  asio::co_spawn(io_, accept_loop(*this, acceptor, io_, options_, impl_->limiter),
                 log_exceptions("api: accept loop"));
  return acceptor.local_endpoint();
}

}  // namespace zt::cloud::api
