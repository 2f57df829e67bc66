// AWS IoT lifecycle events (reference/aws-iot.md §6.1) as an Observer: connected, disconnected,
// subscribed and unsubscribed, published on `$aws/events/...` through a callback (Broker::publish).
#pragma once

#include <functional>
#include <mutex>
#include <unordered_map>

#include "broker/interfaces.hpp"

namespace zt::cloud::broker {

class LifecycleEvents final : public Observer {
 public:
  explicit LifecycleEvents(std::function<void(Message)> publish) : publish_(std::move(publish)) {}

  void on_connected(const ClientContext& client) override;
  void on_disconnected(const ClientContext& client, DisconnectReason reason) override;
  void on_subscribed(const ClientContext& client, const std::vector<std::string>& filters) override;
  void on_unsubscribed(const ClientContext& client,
                       const std::vector<std::string>& filters) override;

 private:
  void emit(std::string topic, std::string payload);

  std::function<void(Message)> publish_;
  std::mutex mutex_;
  // versionNumber per client id: connect and disconnect of one connection share it (§6.1).
  std::unordered_map<std::string, int64_t> versions_;
};

}  // namespace zt::cloud::broker
