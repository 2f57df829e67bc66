// One client connection: TLS handshake with a required client certificate, the MQTT read loop, and
// a batched writer. Runs on one io_context (one thread), which serialises everything but
// send_publish and close; those may come from other threads (routing) and are guarded by out_mutex_
// / posted.
#pragma once

#include <utility>  // before Boost 1.74 asio/awaitable.hpp, which uses std::exchange without it

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "broker/core.hpp"
#include "broker/mqtt5.hpp"
#include "broker/rate_limit.hpp"
#include "broker/tls_stream.hpp"
#include "common/connection_limits.hpp"
#include "common/log.hpp"
#include "mqtt/decoder.hpp"

namespace zt::cloud::broker {

class Connection final : public Outlet, public std::enable_shared_from_this<Connection> {
 public:
  // `blocking`: where an Authenticator's deferred decision runs. `busy`: its thread's count of
  // connections in their handshake or CONNECT, which the broker raised for this one; decremented
  // once that is over (or the connection ends).
  Connection(Core& core, tcp::socket socket, SSL_CTX* tls, asio::any_io_executor blocking,
             std::atomic<uint32_t>& busy);
  ~Connection() override;

  // `slot` counts the connection against the listener's caps until it is destroyed.
  void start(ConnectionLimiter::Slot slot = {});

  // Outlet: any thread.
  void send_publish(const Message& message, uint8_t qos, uint16_t packet_id, bool dup,
                    bool retain) override;
  bool fits(const Message& message) override;
  void close(DisconnectReason reason) override;
  bool say_goodbye() override;

 private:
  // `self` keeps the connection alive for as long as the coroutine runs (it starts after start()
  // returns, when the caller's reference may be gone).
  asio::awaitable<void> run(std::shared_ptr<Connection> self);
  asio::awaitable<void> watchdog(std::shared_ptr<Connection> self);
  // The Authenticator's decision applied: false when the connection ends here.
  asio::awaitable<bool> authenticate();
  // `work` on the blocking executor, resumed on this connection's thread.
  asio::awaitable<AuthDecision> run_blocking(std::function<AuthDecision()> work);
  // What a coroutine of the connection that ends by an exception leaves: a log line and a closed
  // connection.
  LogExceptions ended_by_exception(std::shared_ptr<Connection> self, std::string_view what);
  // Decodes and handles what one read returned.
  void process(ByteView bytes);

  // Packet handlers (handle_*.cpp) return false when the connection must end; they have called
  // fail() or close_now() by then.
  bool handle(mqtt::Packet& packet);
  bool handle_connect(mqtt::Connect& connect);
  // Refuses a CONNECT with a CONNACK: `code` for 3.1.1, `reason_code` for MQTT 5 (§3.2.2.2).
  bool refuse_connect(mqtt::ConnectReturnCode code, uint8_t reason_code, std::string_view why);
  // A CONNECT refused without a CONNACK on 3.1.1 (AWS hangs up), with CONNACK `reason_code` on 5.
  bool hang_up_on_connect(DisconnectReason reason, uint8_t reason_code, std::string_view why);
  // The MQTT 5 parts of CONNECT (handle_connect_v5.cpp): false when refused.
  bool accept_v5_connect(const mqtt::Connect& connect);
  void send_connack(const mqtt::Connect& connect, const Core::Attached& attached,
                    const SessionRequest& request, uint16_t keep_alive,
                    const std::string& assigned_client_id);
  bool handle_disconnect(const mqtt::Disconnect& disconnect);
  bool handle_publish(mqtt::Publish& publish);
  bool handle_subscribe(const mqtt::Subscribe& subscribe);
  bool handle_unsubscribe(const mqtt::Unsubscribe& unsubscribe);
  void publish_will();
  // Why the will may not be published (reserved topic, RETAIN on one, or the policy), or "".
  std::string will_refusal(const mqtt::Will& will);

  // Ends the connection for `reason`, after sending what is queued (bounded by a short deadline).
  // An MQTT 5 client gets a DISCONNECT first, with `reason_code` (0: the one for `reason`).
  bool fail(DisconnectReason reason, std::string_view why, uint8_t reason_code = 0);
  bool v5() const { return version_ == mqtt::kProtocolLevel5; }
  void close_now(DisconnectReason reason, bool after_pending_writes);
  void shutdown_socket();
  void finish();
  void settle() {
    if (busy_) std::exchange(busy_, nullptr)->fetch_sub(1, std::memory_order_relaxed);
  }

  // Backpressure (BrokerLimits::max_unsent_bytes_before_pause): executor thread.
  size_t unsent_bytes();
  void resume_reading_if_drained();

  void send_packet(const mqtt::Packet& packet);
  void send_bytes(ByteView bytes);
  // PUBACK Success for a QoS 1 PUBLISH: the packet of every accepted message, written directly.
  void send_puback(uint16_t packet_id);
  void schedule_flush_locked();
  void flush();

  Core& core_;
  asio::any_io_executor blocking_;
  std::atomic<uint32_t>* busy_;  // null once settled
  TlsStream stream_;
  asio::steady_timer timer_;
  asio::steady_timer resume_reading_;  // waited on (never expiring) while reading is paused
  bool reading_paused_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds keep_alive_timeout_{0};
  mqtt::StreamDecoder decoder_;
  uint8_t version_ = mqtt::kProtocolLevel311;  // set by CONNECT, before the session attaches

  // Executor-thread state.
  bool connected_ = false;         // CONNECT accepted
  bool close_on_connect_ = false;  // Authenticator: hang up when CONNECT arrives, without CONNACK
  bool closed_ = false;            // no more reading; reason_ is final
  bool socket_closed_ = false;
  bool finished_ = false;
  bool clean_disconnect_ = false;  // DISCONNECT received: the will is discarded (§3.14.4)
  bool saying_goodbye_ = false;    // counted in core_.goodbyes_pending until finish()
  DisconnectReason reason_ = DisconnectReason::connection_lost;
  ClientContext context_;
  std::unique_ptr<mqtt::Will> will_;  // most clients leave none: 8 bytes, not ~540 inline
  // MQTT 5: set at CONNECT, before the session attaches (so other threads see them settled).
  std::optional<v5::TopicAliases> topic_aliases_;
  uint32_t client_max_packet_ = 0;  // the client's Maximum Packet Size; 0 = none
  std::chrono::seconds session_expiry_{0};
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
