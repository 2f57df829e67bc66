// Device shadows persisted in the registry database (table `shadows`, a registry migration) and
// served on MQTT (`$aws/things/<thing>/shadow[/name/<n>]/get|update|delete`, reference/aws-iot.md
// §4.1) and on the HTTP data plane of the API port (GET|POST|DELETE /things/<thing>/shadow?name=N,
// POST /topics/<topic>; §1.7). The document logic is cloud/shadow; this is storage + transport.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cloud/api/router.hpp"
#include "cloud/registry/registry.hpp"
#include "cloud/shadow/shadow.hpp"

namespace zt::cloud::service {

struct Outgoing {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
};

struct ShadowReply {
  int status = 200;  // HTTP status: 200, or the rejection code
  nlohmann::json body;
  std::vector<Outgoing> messages;  // what MQTT subscribers get (accepted/rejected/delta/documents)
};

class ShadowStore {
 public:
  explicit ShadowStore(registry::Registry& registry) : registry_(registry) {}
  // operation: get | update | delete. `via_mqtt`: errors are published on …/rejected (REST callers
  // get HTTP errors only, §4.1). Does not publish: the caller sends `messages` outside any lock.
  ShadowReply handle(const std::string& thing, const std::string& shadow_name,
                     const std::string& operation, std::string_view payload, bool via_mqtt);

 private:
  registry::Registry& registry_;
};

// Adds the iot-data routes. `send` delivers messages (to subscribers and the rules engine) later,
// on another thread: handlers run inside a registry transaction.
void add_data_plane_routes(api::Router& router, ShadowStore& store,
                           std::function<void(std::vector<Outgoing>)> send);

}  // namespace zt::cloud::service
