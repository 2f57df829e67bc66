// Device shadows persisted in the registry database (table `shadows`, a registry migration) and
// served on MQTT (`$aws/things/<thing>/shadow[/name/<n>]/get|update|delete`, reference/aws-iot.md
// §4.1) and on the HTTP data plane of the API port (GET|POST|DELETE /things/<thing>/shadow?name=N,
// POST /topics/<topic>, GET /api/things/shadow/ListNamedShadowsForThing/<thing>; §1.7). The
// document logic is cloud/shadow; this is storage + transport.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/rate_limit.hpp"
#include "cloud/api/router.hpp"
#include "cloud/registry/registry.hpp"
#include "cloud/rules/republish.hpp"
#include "cloud/shadow/shadow.hpp"
#include "common/time.hpp"

namespace zt::cloud::service {

struct Outgoing {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
  // MQTT 5 properties: a rule's republish sets them (cloud/rules/republish.hpp); the broker's own
  // messages (events, shadow responses) have none.
  rules::PublishProperties properties{};
};

struct ShadowReply {
  int status = 200;  // HTTP status: 200, or the rejection code
  nlohmann::json body;
  std::vector<Outgoing> messages;  // what MQTT subscribers get (accepted/rejected/delta/documents)
};

// One shadow request (MQTT: the topic's parts and the payload).
struct ShadowRequest {
  std::string thing;
  std::string shadow_name;  // "" for the classic shadow
  std::string operation;    // get | update | delete
  std::string payload;
  // The per-thing quota was applied already (admit_request, when the request arrived).
  bool counted = false;
};

class ShadowStore {
 public:
  // aws-iot.md §4.5: 20 shadow requests per second per thing; beyond, 429 (0: no limit).
  static constexpr size_t kRequestsPerThingPerSecond = 20;

  // `clock` times the per-thing quota (tests pass a fake one).
  explicit ShadowStore(registry::Registry& registry,
                       size_t requests_per_thing_per_second = kRequestsPerThingPerSecond,
                       SteadyClock clock = steady_now)
      : registry_(registry), rate_(requests_per_thing_per_second), clock_(std::move(clock)) {}
  // operation: get | update | delete. `via_mqtt`: errors are published on …/rejected (REST callers
  // get HTTP errors only, §4.1). Does not publish: the caller sends `messages` outside any lock.
  ShadowReply handle(const std::string& thing, const std::string& shadow_name,
                     const std::string& operation, std::string_view payload, bool via_mqtt);
  // Counts a request of `thing` against its quota (kRequestsPerThingPerSecond) when it arrives;
  // false: over it, to be answered 429. A server that queues requests counts them here, so that
  // time spent in its queue does not bunch a device's requests into one window.
  bool admit_request(const std::string& thing);
  // `requests` as handle() does them one by one, in order, but in ONE registry transaction (the
  // caller may defer its durability: Registry::DeferredDurability), so a batch costs one commit
  // instead of one each. Each request runs in its own savepoint: one whose write fails is undone
  // alone and answered 500, the others stand. If the commit itself fails, every request of the
  // batch is answered 500 (a get may have read an update that was rolled back). Replies in the
  // order of `requests`.
  std::vector<ShadowReply> handle_batch(const std::vector<ShadowRequest>& requests, bool via_mqtt);

  // ListNamedShadowsForThing: the names of the thing's named shadows that exist (not the classic
  // shadow, not deleted ones), in name order, up to `page.limit` after `page.after`.
  Result<registry::Page<std::string>> list_named(const std::string& thing,
                                                 const registry::PageRequest& page);

 private:
  struct Pending;
  // The checks that need no storage (names, the per-thing quota); false when it was rejected.
  bool admit(Pending& pending);
  // Inside a transaction: reads, applies and stores one request; ok() for a refused request too
  // (its rejection is in the reply); an error when the registry failed.
  Status apply(Pending& pending);
  void fail(Pending& pending);  // 500, after a registry failure

  registry::Registry& registry_;
  broker::KeyedRateLimit rate_;
  SteadyClock clock_;
};

// Adds the iot-data routes. `send` delivers messages (to subscribers and the rules engine) later,
// on another thread: handlers run inside a registry transaction.
void add_data_plane_routes(api::Router& router, ShadowStore& store,
                           std::function<void(std::vector<Outgoing>)> send);

}  // namespace zt::cloud::service
