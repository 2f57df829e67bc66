#include "broker/connection.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <boost/asio/redirect_error.hpp>

#include "common/hex.hpp"
#include "common/log.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::broker {

using Clock = std::chrono::steady_clock;

Connection::Connection(Core& core, tcp::socket socket, asio::ssl::context& tls)
    : core_(core),
      stream_(std::move(socket), tls),
      timer_(stream_.get_executor()),
      decoder_(core.limits().max_payload_bytes + 2 + 65535 + 2) {
  ++core_.connections;
}

Connection::~Connection() { --core_.connections; }

void Connection::start() {
  asio::co_spawn(stream_.get_executor(), run(shared_from_this()), asio::detached);
}

asio::awaitable<void> Connection::run(
    std::shared_ptr<Connection> self) {  // NOLINT(performance-unnecessary-value-param)
  boost::system::error_code ec;
  deadline_ = Clock::now() + core_.limits().connect_timeout;
  asio::co_spawn(stream_.get_executor(), watchdog(self), asio::detached);

  SSL* ssl = stream_.native_handle();
  auto store = core_.authenticator().trust_store();
  SSL_set1_verify_cert_store(ssl, store.get());
  // A registered CA may be an intermediate; the device may or may not send it (aws-iot.md §3).
  X509_VERIFY_PARAM_set_flags(SSL_get0_param(ssl), X509_V_FLAG_PARTIAL_CHAIN);

  co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    spdlog::debug("broker: TLS handshake failed: {}", ec.message());
    close_now(DisconnectReason::auth_error, false);
    finish();
    co_return;
  }
  if (!authenticate()) {
    finish();
    co_return;
  }

  std::vector<uint8_t> buffer(8192);
  while (!closed_) {
    size_t count = co_await stream_.async_read_some(asio::buffer(buffer),
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!closed_) reason_ = DisconnectReason::connection_lost;
      break;
    }
    decoder_.feed(ByteView(buffer.data(), count));
    // aws-iot.md §6.3: any control packet counts as activity for the keep-alive.
    if (connected_) deadline_ = Clock::now() + keep_alive_timeout_;
    core_.begin_batch();
    while (!closed_) {
      auto next = decoder_.next();
      if (!next) {
        fail(DisconnectReason::client_error, next.error().message);
        break;
      }
      if (!*next) break;
      if (!handle(**next)) break;
    }
    core_.end_batch();
  }
  finish();
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
      close_now(connected_ ? DisconnectReason::keep_alive_timeout : DisconnectReason::client_error,
                false);
    }
  }
}

bool Connection::authenticate() {
  SSL* ssl = stream_.native_handle();
  auto peer = std::make_shared<PeerCertificate>();
  peer->certificate.reset(SSL_get1_peer_certificate(ssl));
  if (!peer->certificate) {  // SSL_VERIFY_FAIL_IF_NO_PEER_CERT makes this unreachable; stay safe
    close_now(DisconnectReason::auth_error, false);
    return false;
  }
  if (STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* cert = sk_X509_value(chain, i);
      X509_up_ref(cert);
      peer->verified_chain.emplace_back(cert);
    }
  }
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
    peer->server_name = name;
  boost::system::error_code ec;
  auto endpoint = stream_.lowest_layer().remote_endpoint(ec);
  if (!ec) peer->remote_address = endpoint.address().to_string();

  AuthDecision decision = core_.authenticator().authenticate(*peer);
  context_.principal = decision.principal;
  context_.server_name = peer->server_name;
  context_.remote_address = peer->remote_address;
  context_.auth_context = decision.context;
  context_.peer = std::move(peer);
  context_.session_identifier = to_hex(crypto::random_bytes(16));
  switch (decision.outcome) {
    case AuthOutcome::accept:
      return true;
    case AuthOutcome::close_without_connack:
      spdlog::info("broker: {} will be closed at CONNECT: {}", context_.remote_address,
                   decision.reason);
      close_on_connect_ = true;
      return true;
    case AuthOutcome::reject:
      break;
  }
  spdlog::info("broker: client certificate from {} refused: {}", context_.remote_address,
               decision.reason);
  close_now(DisconnectReason::auth_error, false);
  return false;
}

bool Connection::fail(DisconnectReason reason, std::string_view why) {
  spdlog::info("broker: closing {} ({}): {}",
               context_.client_id.empty() ? context_.remote_address : context_.client_id,
               to_string(reason), why);
  close_now(reason, true);
  return false;
}

void Connection::close(DisconnectReason reason) {
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), reason] { self->close_now(reason, false); });
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
  boost::system::error_code ec;
  stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
  stream_.lowest_layer().close(ec);
  timer_.cancel();
}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
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
  if (auto status = mqtt::encode_packet(packet, out_pending_); !status) {
    spdlog::error("broker: encoding {}: {}", mqtt::to_string(mqtt::packet_type(packet)),
                  status.error().message);
    return;
  }
  schedule_flush_locked();
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
  if (!mqtt::encode_publish(message.topic, message.payload, qos, retain, dup, packet_id,
                            out_pending_))
    return;
  schedule_flush_locked();
}

void Connection::schedule_flush_locked() {
  if (write_scheduled_) return;
  write_scheduled_ = true;
  // Posting (even from this thread) lets every packet produced while handling one read go out in
  // a single TLS write.
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->flush(); });
}

void Connection::flush() {
  bool shutdown = false;
  {
    std::lock_guard lock(out_mutex_);
    out_writing_.clear();
    out_writing_.swap(out_pending_);
    if (out_writing_.empty()) {
      write_scheduled_ = false;
      shutdown = shutdown_after_write_;
    }
  }
  if (shutdown) shutdown_socket();
  if (out_writing_.empty() || socket_closed_) return;
  asio::async_write(stream_, asio::buffer(out_writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      if (ec) {
                        {
                          std::lock_guard lock(self->out_mutex_);
                          self->out_closed_ = true;
                          self->write_scheduled_ = false;
                          self->out_pending_.clear();
                        }
                        self->close_now(DisconnectReason::connection_lost, false);
                        self->shutdown_socket();
                        return;
                      }
                      // Large bursts should not pin their buffers to an idle connection.
                      if (self->out_writing_.capacity() > (256u << 10))
                        Bytes().swap(self->out_writing_);
                      self->flush();
                    });
}

}  // namespace zt::cloud::broker
