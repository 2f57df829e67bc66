// AWS IoT lifecycle events (reference/aws-iot.md §6.1): connected, disconnected, subscribed and
// unsubscribed on `$aws/events/...`. The builders below are the one place their topics and payloads
// are written; LifecycleEvents is the standalone broker's Observer that publishes them through a
// callback (Broker::publish), and the cloud service publishes the same events from its worker.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/interfaces.hpp"

namespace zt::cloud::broker {

struct LifecycleEvent {
  std::string topic;
  std::string payload;  // JSON
};

// §6.1: client ids containing `#` or `+` get no lifecycle events.
bool has_lifecycle_events(std::string_view client_id);
// `version`: the connection's versionNumber (VersionTable); connect and disconnect share it.
LifecycleEvent connected_event(const ClientContext& client, int64_t version, int64_t timestamp_ms);
LifecycleEvent disconnected_event(const ClientContext& client, DisconnectReason reason,
                                  int64_t version, int64_t timestamp_ms);
// `subscribed`: false for an unsubscribe.
LifecycleEvent subscription_event(const ClientContext& client,
                                  const std::vector<std::string>& filters, bool subscribed,
                                  int64_t timestamp_ms);

// versionNumber per client id (reference/aws-iot.md §6.1): connect and disconnect of one connection
// share it; it increases per client id and "resets to 0 after ~1 h offline". Bounded, whatever
// client ids are used: an id offline for `forget_after` (the persistent-session expiry, 1 h) is
// forgotten, and beyond `max_offline` offline ids the longest offline are forgotten first (their
// next connect is version 0 again). Not thread-safe: the owner locks.
class VersionTable {
 public:
  using Time = std::chrono::steady_clock::time_point;
  explicit VersionTable(std::chrono::seconds forget_after = std::chrono::hours(1),
                        size_t max_offline = 100000)
      : forget_after_(forget_after), max_offline_(max_offline) {}

  // A connection of `client_id` was accepted: its versionNumber.
  int64_t connected(const std::string& client_id, Time now);
  // The version of the client's latest connect (0 if unknown).
  int64_t current(const std::string& client_id) const;
  void disconnected(const std::string& client_id, Time now);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int64_t version = 0;
    int online = 0;  // live connections (a takeover briefly has two)
    Time offline_since{};
  };
  void prune(Time now);

  std::chrono::seconds forget_after_;
  size_t max_offline_;
  std::unordered_map<std::string, Entry> entries_;
  size_t prune_at_ = 1024;
};

class LifecycleEvents final : public Observer {
 public:
  explicit LifecycleEvents(std::function<void(Message)> publish) : publish_(std::move(publish)) {}

  void on_connected(const ClientContext& client) override;
  void on_disconnected(const ClientContext& client, DisconnectReason reason) override;
  void on_subscribed(const ClientContext& client, const std::vector<std::string>& filters) override;
  void on_unsubscribed(const ClientContext& client,
                       const std::vector<std::string>& filters) override;

 private:
  void emit(LifecycleEvent event);

  std::function<void(Message)> publish_;
  std::mutex mutex_;
  VersionTable versions_;
};

}  // namespace zt::cloud::broker
