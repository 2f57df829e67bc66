// One client connection: TLS handshake with a required client certificate, the MQTT read loop, and
// a batched writer. Runs on one io_context (one thread), which serialises everything but
// send_publish and close; those may come from other threads (routing) and are guarded by out_mutex_
// / posted.
#pragma once

#include <utility>  // before Boost 1.74 asio/awaitable.hpp, which uses std::exchange without it

#include <boost/asio.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "broker/core.hpp"
#include "broker/rate_limit.hpp"
#include "broker/tls_stream.hpp"
#include "common/connection_limits.hpp"
#include "common/log.hpp"
#include "mqtt/decoder.hpp"

namespace zt::cloud::broker {

class Connection final : public Outlet, public std::enable_shared_from_this<Connection> {
 public:
  Connection(Core& core, tcp::socket socket, SSL_CTX* tls);
  ~Connection() override;

  // `slot` counts the connection against the listener's caps until it is destroyed.
  void start(ConnectionLimiter::Slot slot = {});

  // Outlet: any thread.
  void send_publish(const Message& message, uint8_t qos, uint16_t packet_id, bool dup,
                    bool retain) override;
  void close(DisconnectReason reason) override;

 private:
  // `self` keeps the connection alive for as long as the coroutine runs (it starts after start()
  // returns, when the caller's reference may be gone).
  asio::awaitable<void> run(std::shared_ptr<Connection> self);
  asio::awaitable<void> watchdog(std::shared_ptr<Connection> self);
  bool authenticate();
  // What a coroutine of the connection that ends by an exception leaves: a log line and a closed
  // connection.
  LogExceptions ended_by_exception(std::shared_ptr<Connection> self, std::string_view what);
  // Decodes and handles what one read returned.
  void process(ByteView bytes);

  // Packet handlers (handle_*.cpp) return false when the connection must end; they have called
  // fail() or close_now() by then.
  bool handle(mqtt::Packet& packet);
  bool handle_connect(mqtt::Connect& connect);
  bool refuse_connect(mqtt::ConnectReturnCode code, std::string_view why);
  bool handle_publish(mqtt::Publish& publish);
  bool handle_subscribe(const mqtt::Subscribe& subscribe);
  bool handle_unsubscribe(const mqtt::Unsubscribe& unsubscribe);
  void publish_will();
  // Why the will may not be published (reserved topic, RETAIN on one, or the policy), or "".
  std::string will_refusal(const mqtt::Will& will);

  // Ends the connection for `reason`, after sending what is queued (bounded by a short deadline).
  bool fail(DisconnectReason reason, std::string_view why);
  void close_now(DisconnectReason reason, bool after_pending_writes);
  void shutdown_socket();
  void finish();

  // Backpressure (BrokerLimits::max_unsent_bytes_before_pause): executor thread.
  size_t unsent_bytes();
  void resume_reading_if_drained();

  void send_packet(const mqtt::Packet& packet);
  void send_bytes(ByteView bytes);
  void schedule_flush_locked();
  void flush();

  Core& core_;
  TlsStream stream_;
  asio::steady_timer timer_;
  asio::steady_timer resume_reading_;  // waited on (never expiring) while reading is paused
  bool reading_paused_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds keep_alive_timeout_{0};
  mqtt::StreamDecoder decoder_;

  // Executor-thread state.
  bool connected_ = false;         // CONNECT accepted
  bool close_on_connect_ = false;  // Authenticator: hang up when CONNECT arrives, without CONNACK
  bool closed_ = false;            // no more reading; reason_ is final
  bool socket_closed_ = false;
  bool finished_ = false;
  bool clean_disconnect_ = false;  // DISCONNECT received: the will is discarded (§3.14.4)
  DisconnectReason reason_ = DisconnectReason::connection_lost;
  ClientContext context_;
  std::optional<mqtt::Will> will_;
  RateWindow publish_quota_;  // aws-iot.md §6.3 publishes per connection
  std::shared_ptr<Session> session_;
  ConnectionLimiter::Slot slot_;

  // Output, shared with other threads.
  std::mutex out_mutex_;
  Bytes out_pending_;
  Bytes out_writing_;  // executor thread only: the buffer being written, from write_offset_ on
  size_t write_offset_ = 0;
  bool write_scheduled_ = false;
  bool out_closed_ = false;
  bool shutdown_after_write_ = false;
};

}  // namespace zt::cloud::broker
