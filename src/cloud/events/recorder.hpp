// Device events: the zero-touch story of each device, for the console's fleet view (issue 8).
// A module of its own below both the service (which records) and the console (which shows), above
// the registry (which stores).
//
// Two writers fill the registry table `device_events` (schema version 3, registry.cpp):
//  - registry triggers, for what changes rows (certificate registered / status / deleted, thing
//    created, certificate attached to a thing, policy attached): recorded in the same transaction
//    as the change itself, whoever makes it;
//  - this EventRecorder, for what only the data plane sees (a refused or JITR-closed connect, the
//    published registration event, rules matched, function attempts, connected / disconnected /
//    subscribed). Those happen on the broker's network threads and on the JITR path, so recording
//    only appends to a queue in memory; a background thread writes the queue in ONE transaction
//    every `interval` (group commit: one fsync per batch, never one per event).
// Rows are keyed by certificate id (a JITR device has no thing at its first connect) and carry the
// thing name when known; the fleet queries (Registry::device_timeline, list_devices) join the two
// through thing_principals.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::events {

// Kinds the data plane records (the registry triggers add certificate-registered,
// certificate-<status>, certificate-deleted, thing-created, thing-deleted, principal-attached,
// principal-detached, policy-attached, policy-detached).
inline constexpr const char* kConnectRefused = "connect-refused";
inline constexpr const char* kRegistrationEvent = "registration-event";
inline constexpr const char* kRuleMatched = "rule-matched";
inline constexpr const char* kFunctionInvoked = "function-invoked";
inline constexpr const char* kFunctionSucceeded = "function-succeeded";
inline constexpr const char* kFunctionFailed = "function-failed";
inline constexpr const char* kConnected = "connected";
inline constexpr const char* kDisconnected = "disconnected";
inline constexpr const char* kSubscribed = "subscribed";
// Fleet provisioning (cloud/service/fleet_provisioning.hpp): a certificateOwnershipToken handed
// out with a new certificate and used by RegisterThing; RegisterThing's answer (a rejection's
// detail is AWS's errorCode and errorMessage).
inline constexpr const char* kOwnershipTokenIssued = "ownership-token-issued";
inline constexpr const char* kOwnershipTokenConsumed = "ownership-token-consumed";
inline constexpr const char* kRegisterThingAccepted = "register-thing-accepted";
inline constexpr const char* kRegisterThingRejected = "register-thing-rejected";
// JITP (cloud/service/auth.cpp): the CA's template provisioned the device at its first connect, or
// failed (the certificate stays PENDING_ACTIVATION).
inline constexpr const char* kJitpProvisioned = "jitp-provisioned";
inline constexpr const char* kJitpFailed = "jitp-failed";
// Provisioning templates (cloud/provisioning/provisioner.hpp): the template evaluated for a device,
// the pre-provisioning hook's answer, a refused provisioning (detail = AWS's error code + message).
inline constexpr const char* kProvisioningTemplateEvaluated = "provisioning-template-evaluated";
inline constexpr const char* kProvisioningHookAnswered = "provisioning-hook-answered";
inline constexpr const char* kProvisioningFailed = "provisioning-failed";

// Wall-clock microseconds, the unit of device_events.time_us (the triggers' zt_now_us()).
int64_t now_us();

struct DeviceEvent {
  int64_t time_us = 0;         // wall clock, microseconds since the epoch
  std::string certificate_id;  // "" when not known
  std::string thing_name;      // "" when not known
  std::string kind;
  std::string detail;
  std::string client_id;  // connected/disconnected: the MQTT client id (presence), not stored
};

// Writes events (and their presence effects: connected / disconnected count live connections, any
// activity kind or an event without a kind moves last seen) inside the caller's transaction.
Status insert_events(registry::Registry& registry, const std::vector<DeviceEvent>& events);

class EventRecorder {
 public:
  using Listener = std::function<void(const std::vector<DeviceEvent>&)>;

  explicit EventRecorder(registry::Registry& registry,
                         std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Marks every device disconnected (a starting broker has no sessions) and starts the writer.
  Status start();
  // Writes what is queued and stops the writer.
  void stop();

  // Queue only: never touches SQLite, safe on network threads.
  void record(DeviceEvent event);
  // The same, stamped now.
  void record(std::string certificate_id, std::string kind, std::string detail,
              std::string client_id = {});
  // Device activity that is not a stored event (a PUBLISH): updates last seen at the next write.
  void seen(const std::string& certificate_id, int64_t time_us);
  // Writes the queue now (tests; CloudService::drain).
  Status flush();

  // Called after each written batch, outside any lock (the console's fleet-wide stream).
  void set_listener(Listener listener);

 private:
  void run();

  registry::Registry& registry_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<DeviceEvent> queue_;
  std::map<std::string, int64_t> seen_;  // certificate id → latest activity since the last write
  bool running_ = false;
  bool stopping_ = false;
  std::thread writer_;
  std::mutex flush_mutex_;  // one batch at a time, in queue order
  std::mutex listener_mutex_;
  Listener listener_;
};

}  // namespace zt::cloud::events
