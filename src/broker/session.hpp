// MQTT session state that outlives a connection (MQTT 3.1.1 §4.1): subscriptions, QoS 1 messages
// sent but not acknowledged, and QoS 1 messages queued while the client is offline or its in-flight
// window is full. A Session is shared between the router (any network thread) and the connection
// that owns it, so it guards itself with a mutex; it sends through an Outlet while attached.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/interfaces.hpp"

namespace zt::cloud::broker {

// Where a session's outgoing PUBLISH packets go while a client is connected (the Connection).
class Outlet {
 public:
  virtual ~Outlet() = default;
  virtual void send_publish(const Message& message, uint8_t qos, uint16_t packet_id, bool dup,
                            bool retain) = 0;
  // MQTT 5 §3.1.2.11.4: false when the client's Maximum Packet Size is too small for `message`;
  // the server then discards it as if it had been sent.
  virtual bool fits(const Message& /*message*/) { return true; }
  // Ends the connection (from any thread), e.g. when another connection takes the client id over.
  virtual void close(DisconnectReason reason) = 0;
  // Broker shutdown (any thread): an MQTT 5 connection sends DISCONNECT 0x8B and closes, returning
  // true; others return false and are left to the shutdown as they were.
  virtual bool say_goodbye() { return false; }
};

struct SessionLimits {
  size_t max_inflight = 100;      // §6.3: 100 unacknowledged outbound QoS 1 per client
  size_t max_queued = 1000;       // QoS 1 messages held beyond the in-flight window / while offline
  size_t max_subscriptions = 50;  // §6.3: subscriptions per connection
};

class Session {
 public:
  // `queued_bytes_total`, when given, is shared by the sessions of one broker: each adds the bytes
  // of the messages it queues (Core caps the total).
  Session(std::string client_id, SessionLimits limits,
          std::shared_ptr<std::atomic<size_t>> queued_bytes_total = nullptr)
      : client_id_(std::move(client_id)),
        limits_(limits),
        queued_bytes_total_(std::move(queued_bytes_total)) {}
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& client_id() const { return client_id_; }

  // Binds the session to a connection (nullptr: to none). `persistent` is !clean_session of that
  // CONNECT (MQTT 5: a session expiry interval above 0). Returns the outlet it was bound to before.
  std::shared_ptr<Outlet> attach(std::shared_ptr<Outlet> outlet, ClientContext context,
                                 bool persistent);
  // MQTT 5: how long the session outlives its connection, and the client's Receive Maximum (the
  // in-flight window is the smaller of it and SessionLimits::max_inflight; 0 = the limit).
  void configure(std::chrono::seconds expiry, size_t receive_maximum);
  // A DISCONNECT's new Session Expiry Interval (MQTT 5 §3.14.2.2.2).
  void set_expiry(std::chrono::seconds expiry);
  std::chrono::seconds expiry() const;
  // Resends unacknowledged messages with DUP (§4.4) and then the queue; call after CONNACK.
  void resume();
  // Unbinds if `outlet` is the one attached (a takeover may have replaced it). Returns whether it
  // was.
  bool detach(const Outlet* outlet);
  bool persistent() const;
  bool attached() const;
  // Closes the attached connection when it authenticated as `principal` (a revoked certificate).
  bool close_if_principal(std::string_view principal, DisconnectReason reason);
  // Whether the attached connection is the one with this ClientContext::session_identifier.
  bool on_connection(std::string_view session_identifier) const;
  // Outlet::say_goodbye on the attached connection, if any.
  bool say_goodbye();
  std::chrono::steady_clock::time_point offline_since() const;

  // PUBACK from the client: frees a window slot, which the queue refills.
  void acknowledge(uint16_t packet_id);

  // Routes one message to this session at `qos` (already min(publish, granted)). `retain` is the
  // flag on the wire (set only for retained messages sent on subscribe, §3.3.1.3).
  void deliver(const std::shared_ptr<const Message>& message, uint8_t qos, bool retain,
               Authorizer& authorizer);
  // The same for several live messages, under one lock.
  struct Delivery {
    std::shared_ptr<const Message> message;
    uint8_t qos = 0;
    bool retain = false;  // MQTT 5 retain-as-published; otherwise RETAIN 0 (§3.3.1.3)
  };
  void deliver_all(const std::vector<Delivery>& deliveries, Authorizer& authorizer);

  // Bookkeeping of this session's filters (the trie holds the routing copy). add_subscription
  // refuses a new filter beyond max_subscriptions; replacing an existing one is always allowed.
  // `existed` (if given) tells whether it replaced one.
  bool add_subscription(const std::string& filter, uint8_t qos, bool* existed = nullptr);
  bool remove_subscription(const std::string& filter);
  std::vector<std::string> subscription_filters() const;

  size_t inflight_count() const;
  size_t queued_count() const;
  size_t queued_bytes() const;
  size_t dropped_count() const;
  // Forgets the queued messages (the session is being discarded).
  void clear_queue();

 private:
  struct Pending {
    std::shared_ptr<const Message> message;
    bool retain = false;
  };
  uint16_t allocate_packet_id();
  size_t window_locked() const;
  // Takes the next message from the queue that has not expired (MQTT 5 message expiry).
  bool pop_live_locked(Pending& out);
  void send_locked(uint16_t packet_id, const Pending& pending, bool dup);
  void fill_window_locked();
  void enqueue_locked(Pending pending);
  Pending pop_queue_locked();
  size_t queue_size_locked() const { return queue_ ? queue_->size() : 0; }
  static size_t size_of(const Pending& pending) {
    return pending.message->topic.size() + pending.message->payload.size();
  }
  void deliver_locked(const std::shared_ptr<const Message>& message, uint8_t qos, bool retain,
                      Authorizer& authorizer);

  const std::string client_id_;
  const SessionLimits limits_;
  mutable std::mutex mutex_;
  std::shared_ptr<Outlet> outlet_;
  ClientContext context_;
  bool persistent_ = false;
  std::chrono::seconds expiry_{0};
  size_t receive_maximum_ = 0;
  std::chrono::steady_clock::time_point offline_since_{};
  std::unordered_map<std::string, uint8_t> subscriptions_;
  std::map<uint16_t, Pending> inflight_;
  // Allocated by the first message queued: an empty std::deque already holds a 512-byte block and
  // its map, which every idle session would pay (docs/benchmarks.md, bench_scale).
  std::unique_ptr<std::deque<Pending>> queue_;
  size_t queued_bytes_ = 0;
  std::shared_ptr<std::atomic<size_t>> queued_bytes_total_;
  uint16_t next_packet_id_ = 1;
  size_t dropped_ = 0;
};

}  // namespace zt::cloud::broker
