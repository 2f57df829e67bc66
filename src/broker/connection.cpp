#include "broker/connection.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <boost/asio/redirect_error.hpp>

#include <array>

#include "common/hex.hpp"
#include "common/log.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::broker {

using Clock = std::chrono::steady_clock;
using Io = TlsStream::Io;

namespace {

// One record's worth of plaintext per read, shared by the connections of a network thread: it is
// filled and decoded without suspending in between, so no connection holds a read buffer while
// idle. A function rather than a thread_local used across co_await, whose address a compiler may
// keep from before a suspension.
std::span<uint8_t> read_scratch() {
  thread_local std::array<uint8_t, 16 * 1024> buffer;
  return buffer;
}

// Output buffers above this size are released once drained, so a burst does not pin memory to a
// connection that then goes idle.
constexpr size_t kKeptOutputCapacity = 16 * 1024;
// Reads (records) handled in a row before the connection lets the other connections of its thread
// run.
constexpr int kReadsPerTurn = 4;
// Buffers written in a row before the writer yields the thread in the same way.
constexpr int kWritesPerTurn = 16;

}  // namespace

Connection::Connection(Core& core, tcp::socket socket, SSL_CTX* tls, asio::any_io_executor blocking,
                       std::atomic<uint32_t>& busy)
    : core_(core),
      blocking_(std::move(blocking)),
      busy_(&busy),
      stream_(std::move(socket), tls),
      timer_(stream_.get_executor()),
      resume_reading_(stream_.get_executor()),
      decoder_(core.limits().max_payload_bytes + 2 + 65535 + 2) {
  ++core_.connections;
}

Connection::~Connection() {
  settle();
  --core_.connections;
}

void Connection::start(ConnectionLimiter::Slot slot) {
  slot_ = std::move(slot);
  auto self = shared_from_this();
  asio::co_spawn(stream_.get_executor(), run(self), ended_by_exception(self, "connection"));
}

LogExceptions Connection::ended_by_exception(std::shared_ptr<Connection> self,
                                             std::string_view what) {
  boost::system::error_code ec;
  auto peer = stream_.socket().remote_endpoint(ec);
  std::string where =
      fmt::format("broker: {} from {}:{}", what, peer.address().to_string(), peer.port());
  // Runs on the connection's executor (co_spawn calls the handler there), like the coroutine.
  return log_exceptions(std::move(where), [self = std::move(self)] {
    self->close_now(DisconnectReason::server_initiated, false);
    self->finish();
  });
}

asio::awaitable<void> Connection::run(
    std::shared_ptr<Connection> self) {  // NOLINT(performance-unnecessary-value-param)
  boost::system::error_code ec;
  deadline_ = Clock::now() + core_.limits().connect_timeout;
  asio::co_spawn(stream_.get_executor(), watchdog(self), ended_by_exception(self, "watchdog"));

  if (SSL* ssl = stream_.native_handle()) {
    auto store = core_.authenticator().trust_store();
    SSL_set1_verify_cert_store(ssl, store.get());
    // A registered CA may be an intermediate; the device may or may not send it (aws-iot.md §3).
    X509_VERIFY_PARAM_set_flags(SSL_get0_param(ssl), X509_V_FLAG_PARTIAL_CHAIN);
  }

  if (std::string failure = co_await stream_.handshake(); !failure.empty()) {
    spdlog::debug("broker: TLS handshake failed: {}", failure);
    close_now(DisconnectReason::auth_error, false);
    finish();
    co_return;
  }
  if (!co_await authenticate()) {
    finish();
    co_return;
  }

  int reads_in_turn = 0;
  while (!closed_) {
    if (unsent_bytes() > core_.limits().max_unsent_bytes_before_pause) {
      // The client is not reading its replies: read nothing more from it until they drain
      // (flush() wakes us), so its PINGREQ/PUBLISH flood cannot grow our memory. The keep-alive
      // watchdog still runs: a client that stays silent on both sides is closed as usual.
      spdlog::debug("broker: {}: {} bytes unsent; reading paused", context_.client_id,
                    unsent_bytes());
      reading_paused_ = true;
      resume_reading_.expires_at(Clock::time_point::max());
      co_await resume_reading_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      reading_paused_ = false;
      reads_in_turn = 0;
      continue;
    }
    std::span<uint8_t> buffer = read_scratch();
    size_t count = 0;
    Io io = stream_.read(buffer, count);
    if (io == Io::done) {
      process(ByteView(buffer.data(), count));
      if (++reads_in_turn == kReadsPerTurn) {
        reads_in_turn = 0;
        co_await asio::post(stream_.get_executor(), asio::use_awaitable);
      }
      continue;
    }
    reads_in_turn = 0;
    if (io == Io::want_read) {
      co_await stream_.wait_readable(asio::redirect_error(asio::use_awaitable, ec));
    } else if (io == Io::want_write) {
      co_await stream_.wait_writable(asio::redirect_error(asio::use_awaitable, ec));
    } else {
      if (!closed_) {
        spdlog::debug("broker: {}: {}",
                      context_.client_id.empty() ? context_.remote_address : context_.client_id,
                      stream_.last_error());
        reason_ = DisconnectReason::connection_lost;
      }
      break;
    }
    if (ec) {  // the socket was closed under the wait
      if (!closed_) reason_ = DisconnectReason::connection_lost;
      break;
    }
  }
  finish();
}

void Connection::process(ByteView bytes) {
  decoder_.feed(bytes);
  // aws-iot.md §6.3: any control packet counts as activity for the keep-alive.
  if (connected_) deadline_ = Clock::now() + keep_alive_timeout_;
  core_.begin_batch();
  while (!closed_) {
    auto next = decoder_.next();
    if (!next) {
      // MQTT 5 §4.13: Malformed Packet (0x81), Protocol Error (0x82) or Packet Too Large (0x95).
      fail(DisconnectReason::client_error, next.error().message, decoder_.failure_reason());
      break;
    }
    if (!*next) break;
    if (!handle(**next)) break;
  }
  core_.end_batch();
  decoder_.release_buffer(kKeptOutputCapacity);
}

asio::awaitable<void> Connection::watchdog(std::shared_ptr<Connection> /*self*/) {
  boost::system::error_code ec;
  while (!socket_closed_) {
    timer_.expires_at(deadline_);
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (socket_closed_) break;
    if (Clock::now() < deadline_) continue;
    if (closed_) {
      shutdown_socket();  // a graceful close whose writes did not drain in time
    } else {
      spdlog::debug("broker: {} timed out",
                    context_.client_id.empty() ? "connection" : context_.client_id);
      if (connected_ && v5()) {
        // MQTT 5 §3.1.2.10: DISCONNECT 0x8D Keep Alive timeout, then the close.
        fail(DisconnectReason::keep_alive_timeout, "keep-alive timeout");
        continue;
      }
      close_now(connected_ ? DisconnectReason::keep_alive_timeout : DisconnectReason::client_error,
                false);
    }
  }
}

asio::awaitable<bool> Connection::authenticate() {
  SSL* ssl = stream_.native_handle();
  // What the Authenticator needs, for this call only: the identity it returns (principal, policy
  // variables in auth_context) is what the connection keeps, not the certificates, so an idle
  // connection holds no copy of its chain beyond OpenSSL's own (docs/benchmarks.md, bench_scale).
  PeerCertificate peer;
  peer.certificate.reset(SSL_get1_peer_certificate(ssl));
  if (!peer.certificate) {  // SSL_VERIFY_FAIL_IF_NO_PEER_CERT makes this unreachable; stay safe
    close_now(DisconnectReason::auth_error, false);
    co_return false;
  }
  peer.verified_chain = stream_.take_verified_chain();
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
    peer.server_name = name;
  boost::system::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  if (!ec) peer.remote_address = endpoint.address().to_string();

  AuthDecision decision = core_.authenticator().authenticate(peer);
  if (decision.outcome == AuthOutcome::deferred) {
    // It may block (a registry write and its fsync): on the blocking threads, while this network
    // thread goes on with other connections; then back here.
    decision = co_await run_blocking(std::move(decision.deferred));
    // The watchdog (connect timeout) or a shutdown may have closed the connection meanwhile.
    if (closed_) co_return false;
  }
  context_.principal = std::move(decision.principal);
  context_.server_name = std::move(peer.server_name);
  context_.remote_address = std::move(peer.remote_address);
  context_.auth_context = std::move(decision.context);
  context_.session_identifier = to_hex(crypto::random_bytes(16));
  // The identity is what stays; OpenSSL's copies of the client's certificates go (~5 KB per idle
  // connection, docs/benchmarks.md, bench_scale).
  peer = {};
  stream_.release_peer_certificates();
  switch (decision.outcome) {
    case AuthOutcome::accept:
      co_return true;
    case AuthOutcome::close_without_connack:
      spdlog::info("broker: {} will be closed at CONNECT: {}", context_.remote_address,
                   decision.reason);
      close_on_connect_ = true;
      co_return true;
    case AuthOutcome::reject:
    case AuthOutcome::deferred:  // a deferred decision that deferred again: refused
      break;
  }
  spdlog::info("broker: client certificate from {} refused: {}", context_.remote_address,
               decision.reason);
  close_now(DisconnectReason::auth_error, false);
  co_return false;
}

asio::awaitable<AuthDecision> Connection::run_blocking(std::function<AuthDecision()> work) {
  // Not a coroutine itself: written as one (GCC 12, Boost 1.74), the frame's by-value `work` was
  // destroyed again after the lambda below had moved it away (ASan: a double free), so the
  // awaitable is async_initiate's. A plain post there and back rather than co_spawn onto the pool,
  // which Boost 1.74 reports racing when started from a thread that does not run the target
  // executor (chriskohlhoff/asio#552).
  return asio::async_initiate<decltype(asio::use_awaitable), void(AuthDecision)>(
      [blocking = blocking_, home = stream_.get_executor(),
       work = std::move(work)](auto handler) mutable {
        asio::post(
            blocking, [home, work = std::move(work), handler = std::move(handler)]() mutable {
              AuthDecision decision;  // reject, unless the work decides
              try {
                decision = work();
              } catch (const std::exception& e) {  // a thrown decision refuses this one connection
                decision.reason = std::string("authentication failed: ") + e.what();
              }
              asio::post(home,
                         [handler = std::move(handler), decision = std::move(decision)]() mutable {
                           std::move(handler)(std::move(decision));
                         });
            });
      },
      asio::use_awaitable);
}

bool Connection::fail(DisconnectReason reason, std::string_view why, uint8_t reason_code) {
  spdlog::info("broker: closing {} ({}): {}",
               context_.client_id.empty() ? context_.remote_address : context_.client_id,
               to_string(reason), why);
  // MQTT 5 §4.13.2: the server may send a DISCONNECT with a reason code before it closes.
  if (v5() && connected_ && !closed_)
    send_packet(
        v5::disconnect_packet(reason_code ? reason_code : v5::disconnect_code(reason), why));
  close_now(reason, true);
  return false;
}

void Connection::close(DisconnectReason reason) {
  asio::post(stream_.get_executor(), [self = shared_from_this(), reason] {
    if (self->v5() && self->connected_ && !self->closed_) {
      // A takeover (0x8E), a revoked certificate or shutdown: said in a DISCONNECT on MQTT 5.
      self->send_packet(v5::disconnect_packet(v5::disconnect_code(reason), to_string(reason)));
      self->close_now(reason, true);
      return;
    }
    self->close_now(reason, false);
  });
}

bool Connection::say_goodbye() {
  if (!v5()) return false;  // version_ is settled before the session attaches
  ++core_.goodbyes_pending;
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->finished_) {
      --self->core_.goodbyes_pending;
      return;
    }
    self->saying_goodbye_ = true;
    if (!self->closed_) {
      self->send_packet(
          v5::disconnect_packet(mqtt::reason::server_shutting_down, "server shutting down"));
      self->close_now(DisconnectReason::server_shutdown, true);
    }
  });
  return true;
}

void Connection::close_now(DisconnectReason reason, bool after_pending_writes) {
  if (closed_) return;
  closed_ = true;
  reason_ = reason;
  bool wait_for_writes = false;
  {
    std::lock_guard lock(out_mutex_);
    out_closed_ = true;
    if (after_pending_writes && write_scheduled_) wait_for_writes = shutdown_after_write_ = true;
  }
  if (wait_for_writes) {
    deadline_ = Clock::now() + std::chrono::seconds(5);  // a client that never reads cannot hold us
  } else {
    shutdown_socket();
  }
}

void Connection::shutdown_socket() {
  if (socket_closed_) return;
  socket_closed_ = true;
  stream_.close();
  timer_.cancel();
  resume_reading_.cancel();
}

size_t Connection::unsent_bytes() {
  std::lock_guard lock(out_mutex_);
  return out_pending_.size() + (out_writing_.size() - write_offset_);
}

void Connection::resume_reading_if_drained() {
  if (reading_paused_ && unsent_bytes() <= core_.limits().max_unsent_bytes_before_pause / 2)
    resume_reading_.cancel();
}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
  settle();
  if (saying_goodbye_) --core_.goodbyes_pending;
  if (!closed_) close_now(reason_, true);
  if (!session_) return;
  if (!clean_disconnect_) publish_will();
  core_.detach(session_, this);
  core_.notify([&](Observer& observer) { observer.on_disconnected(context_, reason_); });
  session_.reset();
}

void Connection::send_packet(const mqtt::Packet& packet) {
  std::lock_guard lock(out_mutex_);
  if (out_closed_) return;
  if (auto status = mqtt::encode_packet(packet, out_pending_, version_); !status) {
    spdlog::error("broker: encoding {}: {}", mqtt::to_string(mqtt::packet_type(packet)),
                  status.error().message);
    return;
  }
  schedule_flush_locked();
}

void Connection::send_puback(uint16_t packet_id) {
  // 3.1.1 §3.4 and MQTT 5 §3.4.2.1 (Success without properties may omit the reason code and the
  // property length): the same four bytes on both. Written without building an mqtt::Packet, whose
  // MQTT 5 properties make the general encoder cost more than the rest of a PUBACK.
  const uint8_t puback[4] = {0x40, 0x02, static_cast<uint8_t>(packet_id >> 8),
                             static_cast<uint8_t>(packet_id & 0xff)};
  send_bytes(ByteView(puback, sizeof puback));
}

void Connection::send_bytes(ByteView bytes) {
  std::lock_guard lock(out_mutex_);
  if (out_closed_) return;
  out_pending_.insert(out_pending_.end(), bytes.begin(), bytes.end());
  schedule_flush_locked();
}

void Connection::send_publish(const Message& message, uint8_t qos, uint16_t packet_id, bool dup,
                              bool retain) {
  std::lock_guard lock(out_mutex_);
  if (out_closed_) return;
  // A subscriber that does not read fast enough loses QoS 0 messages (QoS 1 ones wait in the
  // session).
  if (qos == 0 && out_pending_.size() > core_.limits().max_output_buffer_bytes) return;
  if (v5()) {
    auto properties = v5::forwarded_properties(message, Clock::now());
    if (!mqtt::encode_publish(message.topic, message.payload, qos, retain, dup, packet_id,
                              out_pending_, &properties))
      return;
  } else if (!mqtt::encode_publish(message.topic, message.payload, qos, retain, dup, packet_id,
                                   out_pending_)) {
    return;
  }
  schedule_flush_locked();
}

bool Connection::fits(const Message& message) {
  if (!v5() || client_max_packet_ == 0) return true;
  // Fixed header (at most 5 bytes), topic, packet id, properties, payload (§3.3).
  size_t size = 5 + 2 + message.topic.size() + 2 +
                mqtt::properties_size(v5::forwarded_properties(message, Clock::now())) +
                message.payload.size();
  return size <= client_max_packet_;
}

void Connection::schedule_flush_locked() {
  if (write_scheduled_) return;
  write_scheduled_ = true;
  // Posting (even from this thread) lets every packet produced while handling one read go out in
  // a single TLS write.
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->flush(); });
}

void Connection::flush() {
  // Runs on the executor thread, one at a time: write_scheduled_ stays set from the post (or the
  // writability wait) until the output is drained.
  for (int round = 0;; ++round) {
    if (write_offset_ == out_writing_.size()) {
      bool drained = false, shutdown = false;
      {
        std::lock_guard lock(out_mutex_);
        out_writing_.clear();
        write_offset_ = 0;
        out_writing_.swap(out_pending_);
        if (out_writing_.empty()) {
          drained = true;
          write_scheduled_ = false;
          shutdown = shutdown_after_write_;
          if (out_pending_.capacity() > kKeptOutputCapacity) Bytes().swap(out_pending_);
        }
      }
      if (drained) {
        if (out_writing_.capacity() > kKeptOutputCapacity) Bytes().swap(out_writing_);
        if (shutdown) shutdown_socket();
        resume_reading_if_drained();
        return;
      }
      if (round >= kWritesPerTurn) {  // let the thread's other connections run
        asio::post(stream_.get_executor(), [self = shared_from_this()] { self->flush(); });
        return;
      }
    }
    if (socket_closed_) return;
    size_t count = 0;
    auto resume = [self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->flush();  // else the socket was closed; nothing left to write to
    };
    switch (stream_.write(ByteView(out_writing_).subspan(write_offset_), count)) {
      case Io::done:
        write_offset_ += count;
        resume_reading_if_drained();
        break;
      case Io::want_write:
        stream_.wait_writable(std::move(resume));
        return;
      case Io::want_read:
        stream_.wait_readable(std::move(resume));
        return;
      case Io::closed:
      case Io::failed:
        spdlog::debug("broker: writing to {}: {}",
                      context_.client_id.empty() ? context_.remote_address : context_.client_id,
                      stream_.last_error());
        {
          std::lock_guard lock(out_mutex_);
          out_closed_ = true;
          write_scheduled_ = false;
          out_pending_.clear();
        }
        close_now(DisconnectReason::connection_lost, false);
        shutdown_socket();
        return;
    }
  }
}

}  // namespace zt::cloud::broker
