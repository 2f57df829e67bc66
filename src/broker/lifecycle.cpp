#include "broker/lifecycle.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

namespace zt::cloud::broker {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// §6.1: client ids containing `#` or `+` get no lifecycle events.
bool emits_events(const ClientContext& client) {
  return client.client_id.find_first_of("#+") == std::string::npos;
}

nlohmann::json base(const ClientContext& client, const char* event_type) {
  return {{"clientId", client.client_id},
          {"timestamp", now_ms()},
          {"eventType", event_type},
          {"sessionIdentifier", client.session_identifier},
          {"principalIdentifier", client.principal}};
}

}  // namespace

int64_t VersionTable::connected(const std::string& client_id, Time now) {
  if (entries_.size() >= prune_at_) prune(now);
  auto [it, inserted] = entries_.try_emplace(client_id);
  Entry& entry = it->second;
  if (!inserted && entry.online == 0 && now - entry.offline_since >= forget_after_) {
    entry.version = 0;  // §6.1: reset after ~1 h offline
  } else if (!inserted) {
    ++entry.version;
  }
  ++entry.online;
  return entry.version;
}

int64_t VersionTable::current(const std::string& client_id) const {
  auto it = entries_.find(client_id);
  return it == entries_.end() ? 0 : it->second.version;
}

void VersionTable::disconnected(const std::string& client_id, Time now) {
  auto it = entries_.find(client_id);
  if (it == entries_.end() || it->second.online == 0) return;
  if (--it->second.online == 0) it->second.offline_since = now;
}

void VersionTable::prune(Time now) {
  std::erase_if(entries_, [&](const auto& entry) {
    return entry.second.online == 0 && now - entry.second.offline_since >= forget_after_;
  });
  std::vector<std::pair<Time, const std::string*>> offline;
  for (const auto& [id, entry] : entries_) {
    if (entry.online == 0) offline.emplace_back(entry.offline_since, &id);
  }
  if (offline.size() > max_offline_) {
    size_t excess = offline.size() - max_offline_;
    std::nth_element(offline.begin(), offline.begin() + static_cast<std::ptrdiff_t>(excess),
                     offline.end());
    std::vector<std::string> forget;
    for (size_t i = 0; i < excess; ++i) forget.push_back(*offline[i].second);
    for (const auto& id : forget) entries_.erase(id);
  }
  prune_at_ = std::max<size_t>(1024, 2 * entries_.size());
}

void LifecycleEvents::emit(std::string topic, std::string payload) {
  publish_(Message{.topic = std::move(topic),
                   .payload = Bytes(payload.begin(), payload.end()),
                   .qos = 0,
                   .retain = false,
                   .publisher_client_id = {},
                   .timestamp_ms = now_ms()});
}

void LifecycleEvents::on_connected(const ClientContext& client) {
  if (!emits_events(client)) return;
  int64_t version;
  {
    std::lock_guard lock(mutex_);
    version = versions_.connected(client.client_id, std::chrono::steady_clock::now());
  }
  auto event = base(client, "connected");
  event["ipAddress"] = client.remote_address;
  event["versionNumber"] = version;
  emit("$aws/events/presence/connected/" + client.client_id, event.dump());
}

void LifecycleEvents::on_disconnected(const ClientContext& client, DisconnectReason reason) {
  if (!emits_events(client)) return;
  int64_t version = 0;
  {
    std::lock_guard lock(mutex_);
    version = versions_.current(client.client_id);
    versions_.disconnected(client.client_id, std::chrono::steady_clock::now());
  }
  auto event = base(client, "disconnected");
  event["clientInitiatedDisconnect"] = reason == DisconnectReason::client_initiated;
  event["disconnectReason"] = to_string(reason);
  event["versionNumber"] = version;
  emit("$aws/events/presence/disconnected/" + client.client_id, event.dump());
}

void LifecycleEvents::on_subscribed(const ClientContext& client,
                                    const std::vector<std::string>& filters) {
  if (!emits_events(client)) return;
  auto event = base(client, "subscribed");
  event["topics"] = filters;
  emit("$aws/events/subscriptions/subscribed/" + client.client_id, event.dump());
}

void LifecycleEvents::on_unsubscribed(const ClientContext& client,
                                      const std::vector<std::string>& filters) {
  if (!emits_events(client)) return;
  auto event = base(client, "unsubscribed");
  event["topics"] = filters;
  emit("$aws/events/subscriptions/unsubscribed/" + client.client_id, event.dump());
}

}  // namespace zt::cloud::broker
