#include "broker/lifecycle.hpp"
#include "common/time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

namespace zt::cloud::broker {
namespace {

nlohmann::json base(const ClientContext& client, const char* event_type, int64_t timestamp_ms) {
  return {{"clientId", client.client_id},
          {"timestamp", timestamp_ms},
          {"eventType", event_type},
          {"sessionIdentifier", client.session_identifier},
          {"principalIdentifier", client.principal}};
}

}  // namespace

bool has_lifecycle_events(std::string_view client_id) {
  return client_id.find_first_of("#+") == std::string_view::npos;
}

LifecycleEvent connected_event(const ClientContext& client, int64_t version, int64_t timestamp_ms) {
  auto event = base(client, "connected", timestamp_ms);
  event["ipAddress"] = client.remote_address;
  event["versionNumber"] = version;
  return {"$aws/events/presence/connected/" + client.client_id, event.dump()};
}

LifecycleEvent disconnected_event(const ClientContext& client, DisconnectReason reason,
                                  int64_t version, int64_t timestamp_ms) {
  auto event = base(client, "disconnected", timestamp_ms);
  event["clientInitiatedDisconnect"] = reason == DisconnectReason::client_initiated;
  event["disconnectReason"] = to_string(reason);
  event["versionNumber"] = version;
  return {"$aws/events/presence/disconnected/" + client.client_id, event.dump()};
}

LifecycleEvent subscription_event(const ClientContext& client,
                                  const std::vector<std::string>& filters, bool subscribed,
                                  int64_t timestamp_ms) {
  const char* type = subscribed ? "subscribed" : "unsubscribed";
  auto event = base(client, type, timestamp_ms);
  event["topics"] = filters;
  return {std::string("$aws/events/subscriptions/") + type + "/" + client.client_id, event.dump()};
}

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

void LifecycleEvents::emit(LifecycleEvent event) {
  publish_(Message{.topic = std::move(event.topic),
                   .payload = Bytes(event.payload.begin(), event.payload.end()),
                   .qos = 0,
                   .retain = false,
                   .publisher_client_id = {},
                   .timestamp_ms = unix_now_ms()});
}

void LifecycleEvents::on_connected(const ClientContext& client) {
  if (!has_lifecycle_events(client.client_id)) return;
  int64_t version;
  {
    std::lock_guard lock(mutex_);
    version = versions_.connected(client.client_id, steady_now());
  }
  emit(connected_event(client, version, unix_now_ms()));
}

void LifecycleEvents::on_disconnected(const ClientContext& client, DisconnectReason reason) {
  if (!has_lifecycle_events(client.client_id)) return;
  int64_t version = 0;
  {
    std::lock_guard lock(mutex_);
    version = versions_.current(client.client_id);
    versions_.disconnected(client.client_id, steady_now());
  }
  emit(disconnected_event(client, reason, version, unix_now_ms()));
}

void LifecycleEvents::on_subscribed(const ClientContext& client,
                                    const std::vector<std::string>& filters) {
  if (!has_lifecycle_events(client.client_id)) return;
  emit(subscription_event(client, filters, /*subscribed=*/true, unix_now_ms()));
}

void LifecycleEvents::on_unsubscribed(const ClientContext& client,
                                      const std::vector<std::string>& filters) {
  if (!has_lifecycle_events(client.client_id)) return;
  emit(subscription_event(client, filters, /*subscribed=*/false, unix_now_ms()));
}

}  // namespace zt::cloud::broker
