// The broker core shared by every connection: configuration, the pluggable interfaces, the session
// table (client id → Session, with takeover), the subscription trie and retained messages.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/interfaces.hpp"
#include "broker/rate_limit.hpp"
#include "broker/reserved_topics.hpp"
#include "broker/session.hpp"
#include "broker/shared_subscriptions.hpp"
#include "broker/subscriptions.hpp"
#include "common/connection_limits.hpp"

namespace zt::cloud::broker {

// reference/aws-iot.md §6.3 quotas, as defaults.
struct BrokerLimits {
  size_t max_payload_bytes = 128 * 1024;
  size_t max_client_id_bytes = 128;
  size_t max_filters_per_subscribe = 8;
  uint16_t min_keep_alive_seconds = 30;    // 1–29 → 30
  uint16_t max_keep_alive_seconds = 1200;  // 0 or > 1200 → 1200
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds session_expiry{3600};  // persistent sessions kept 1 h offline
  // Persistent sessions (clean session 0) held at once, and the bytes (topic + payload) queued in
  // all sessions together; beyond either cap, the persistent sessions offline the longest expire
  // at once, oldest first (logged), as if their session_expiry had passed.
  size_t max_persistent_sessions = 10000;
  size_t max_queued_bytes_total = 256u << 20;
  size_t max_output_buffer_bytes = 64u << 20;  // beyond it QoS 0 deliveries are dropped
  // Backpressure: while a connection has more than this unsent (its client does not read what it
  // asked for: PINGRESP, PUBACK, SUBACK…), the broker stops reading from it, and reads again once
  // the output has drained below half. The client's own TCP window then holds the rest.
  size_t max_unsent_bytes_before_pause = 1u << 20;
  SessionLimits session;
  // §6.3 rate quotas (0 turns one off): 1 CONNECT per second per client id (a faster one is hung
  // up on without CONNACK); per connection, 100 publishes and 512 KiB of payload per second (the
  // excess is discarded: no delivery, no PUBACK).
  std::chrono::milliseconds min_connect_interval{1000};
  size_t max_publishes_per_second = 100;
  size_t max_publish_bytes_per_second = 512 * 1024;
  // MQTT 5 (docs/mqtt5.md, "Limits and where they come from", gives the source of each): the
  // session expiry cap is session_expiry above; the Receive Maximum announced is
  // session.max_inflight (100).
  uint16_t topic_alias_maximum = 8;             // client → server aliases per connection
  size_t max_user_properties_bytes = 8 * 1024;  // names + values of one PUBLISH
  std::chrono::seconds max_message_expiry{7 * 24 * 3600};
  // Maximum Packet Size announced in CONNACK and enforced on what a client sends: room for a
  // 128 KB payload plus topic and properties (146 KiB, the value AWS IoT Core announces).
  uint32_t max_packet_size = 149504;
};

// The session a CONNECT asks for (broker/mqtt5.hpp session_request builds it for both versions).
struct SessionRequest {
  bool clean_start = true;         // 3.1.1: clean session
  std::chrono::seconds expiry{0};  // 0: the session ends with the connection (not persistent)
  bool capped = false;             // MQTT 5: the client asked for more than the maximum
  size_t receive_maximum = 0;      // MQTT 5: the client's in-flight window (0: the broker's)
};

struct BrokerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8883;                    // 0: an ephemeral port
  std::filesystem::path certificate_file;  // server certificate (chain) PEM
  std::filesystem::path key_file;
  size_t threads = 0;  // io_contexts; 0 = one per hardware thread
  BrokerLimits limits;
  // Which reserved topics clients may publish to (reserved_topics.hpp).
  ReservedTopics reserved_topics = ReservedTopics::aws_services;
  // Open connections (0: no cap); one over a cap is closed at once, before the TLS handshake.
  ConnectionCaps connection_caps{};
};

class Core {
 public:
  Core(BrokerConfig config, std::shared_ptr<Authenticator> authenticator,
       std::shared_ptr<Authorizer> authorizer);

  const BrokerConfig& config() const { return config_; }
  const BrokerLimits& limits() const { return config_.limits; }
  Authenticator& authenticator() { return *authenticator_; }
  Authorizer& authorizer() { return *authorizer_; }

  void add_observer(std::shared_ptr<Observer> observer) {
    observers_.push_back(std::move(observer));
  }
  template <class Fn>
  void notify(Fn&& fn) {
    for (const auto& observer : observers_) fn(*observer);
  }

  struct Attached {
    std::shared_ptr<Session> session;
    bool session_present = false;
  };
  // CONNECT accepted: finds or creates the session of `client_id`. A connection already using that
  // client id is closed (DUPLICATE_CLIENTID); clean start or a non-persistent old session starts
  // fresh (MQTT 3.1.1 §3.1.2.4, MQTT 5 §3.1.2.4).
  Attached attach(const std::string& client_id, const SessionRequest& request,
                  const std::shared_ptr<Outlet>& outlet, const ClientContext& context);
  // The MQTT 3.1.1 request: persistent (kept limits().session_expiry) unless clean session.
  Attached attach(const std::string& client_id, bool clean_session,
                  const std::shared_ptr<Outlet>& outlet, const ClientContext& context) {
    SessionRequest request{.clean_start = clean_session};
    if (!clean_session) request.expiry = config_.limits.session_expiry;
    return attach(client_id, request, outlet, context);
  }
  // The connection ended. A non-persistent session is discarded with its subscriptions.
  void detach(const std::shared_ptr<Session>& session, const Outlet* outlet);

  // Returns false when the session already holds the maximum number of filters. `existed` (if
  // given) tells whether the session had this filter already (MQTT 5 retain handling 1).
  bool subscribe(const std::shared_ptr<Session>& session, const std::string& filter, uint8_t qos,
                 SubscriptionOptions options = {}, bool* existed = nullptr);
  // Returns whether the session had the filter.
  bool unsubscribe(const std::shared_ptr<Session>& session, const std::string& filter);
  // Retained message for an exact (non-wildcard) filter, sent after SUBACK. AWS does not send
  // retained messages to wildcard subscriptions (reference/aws-iot.md §6.2).
  void send_retained(const std::shared_ptr<Session>& session, const std::string& filter,
                     uint8_t qos);

  // Stores (if retained) and routes a message to every matching subscriber. Between
  // begin_batch() and end_batch() on the same thread, deliveries are collected and handed to each
  // session once per batch (one lock instead of one per message when many publishers feed one
  // subscriber from other threads); otherwise they happen at once.
  void publish(const std::shared_ptr<const Message>& message);
  // Routes a message to the subscriptions of one connection only (the one whose
  // ClientContext::session_identifier is given): an answer meant for the client that asked, as AWS
  // IoT's fleet provisioning API answers. Never retained.
  void publish_to_connection(std::string_view session_identifier,
                             const std::shared_ptr<const Message>& message);
  void begin_batch();
  void end_batch();

  // aws-iot.md §6.3: 1 CONNECT per second per client id. False when `client_id` was admitted less
  // than min_connect_interval before `now`; a refused attempt is not recorded, so a client that
  // retries once a second gets through.
  bool admit_connect(const std::string& client_id, std::chrono::steady_clock::time_point now);

  // Drops persistent sessions offline for longer than their expiry interval. Returns how many.
  size_t expire_sessions(std::chrono::steady_clock::time_point now);

  // Closes every connection authenticated as `principal`. Returns how many.
  size_t disconnect_principal(std::string_view principal, DisconnectReason reason);
  // Broker::stop(): the attached MQTT 5 connections send DISCONNECT 0x8B and close (Outlet::
  // say_goodbye); `goodbyes_pending` counts those not finished yet. Returns how many were told.
  size_t say_goodbye();
  std::atomic<size_t> goodbyes_pending{0};

  size_t session_count() const;
  size_t queued_bytes_total() const { return queued_bytes_total_->load(); }
  std::atomic<size_t> connections{0};

  // Broker::stop(), after the network threads are joined: every session drops its reference to
  // its connection. A connection holds its session too; without this, connections abandoned by the
  // stopped io_contexts would keep each other alive (LeakSanitizer found them at exit).
  void release_outlets();

 private:
  void discard_locked(const std::shared_ptr<Session>& session);
  // Removes the routing entry of `filter` (the trie's, or the shared group's) for `session`.
  void remove_route(const std::string& filter, const Session* session);
  // Matches `topic` against both the trie and the shared groups.
  void match(std::string_view topic, std::vector<Subscriber>& out);
  // Expires offline persistent sessions, longest offline first, until both caps hold. Returns how
  // many.
  size_t enforce_session_caps_locked();
  void enforce_queued_bytes_cap();

  BrokerConfig config_;
  std::shared_ptr<Authenticator> authenticator_;
  std::shared_ptr<Authorizer> authorizer_;
  std::vector<std::shared_ptr<Observer>> observers_;
  SubscriptionTrie trie_;
  SharedSubscriptions shared_;
  RetainedStore retained_;
  mutable std::mutex sessions_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
  // An upper bound on the persistent sessions in sessions_ (under sessions_mutex_): each session
  // created persistent adds one, enforce_session_caps_locked sets the exact count. A new one scans
  // the sessions only when the bound passes max_persistent_sessions — not whenever the map, which
  // also holds every clean session, is larger than it (an O(N) scan per connect at scale).
  size_t persistent_bound_ = 0;
  std::shared_ptr<std::atomic<size_t>> queued_bytes_total_ =
      std::make_shared<std::atomic<size_t>>(0);
  IntervalLimit connects_;
};

}  // namespace zt::cloud::broker
