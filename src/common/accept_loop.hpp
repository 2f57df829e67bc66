// The one accept loop of the MQTT broker and the HTTP server: accept, pause after a failed accept
// (EMFILE: the listening socket stays readable, so retrying at once fails at once, for as long as
// the error lasts), count the connection against the caps, and hand it on or refuse it. The
// bookkeeping is connection_limits.hpp's; this is the Boost.Asio loop around it (header-only: the
// modules that include it link Boost).
#pragma once

#include <utility>  // std::exchange, used by boost/asio/awaitable.hpp (1.74) without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <string>

#include "common/connection_limits.hpp"

namespace zt {

// Accepts until `acceptor` is closed. `name` starts the log lines ("api", "broker").
// - `next_socket()`: an unconnected socket on the executor the next connection is to live on;
// - `refuse(socket)`: closes a connection over a cap (each protocol says "busy" its own way);
// - `serve(socket, slot, address)`: takes an admitted connection, holding `slot` for its life.
// `allow_eviction`: whether a new connection may close one waiting for its first request
// (ConnectionLimiter::admit).
template <class NextSocket, class Refuse, class Serve>
boost::asio::awaitable<void> accept_connections(std::string name,
                                                boost::asio::ip::tcp::acceptor& acceptor,
                                                std::shared_ptr<ConnectionLimiter> limiter,
                                                bool allow_eviction, NextSocket next_socket,
                                                Refuse refuse, Serve serve) {
  namespace asio = boost::asio;
  AcceptLoopGuard guard(std::move(name));
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (acceptor.is_open()) {
    asio::ip::tcp::socket socket = next_socket();
    boost::system::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Keep serving the connections we have; retry after a pause (10 ms doubling to 1 s), log
      // once a second.
      pause.expires_after(guard.failed(ec.message(), std::chrono::steady_clock::now()));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    guard.accepted();
    std::string address = socket.remote_endpoint(ec).address().to_string();
    if (ec) continue;  // the peer already left
    auto admission = limiter->admit(address, allow_eviction);
    if (!admission.slot) {
      refuse(socket);
      guard.refused(address, admission.refusal, limiter->caps(), std::chrono::steady_clock::now());
      continue;
    }
    serve(std::move(socket), std::move(*admission.slot), address);
  }
}

}  // namespace zt
