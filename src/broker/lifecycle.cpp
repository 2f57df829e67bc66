#include "broker/lifecycle.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

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
    auto [it, inserted] = versions_.try_emplace(client.client_id, 0);
    if (!inserted) ++it->second;
    version = it->second;
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
    if (auto it = versions_.find(client.client_id); it != versions_.end()) version = it->second;
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
