// The AWS-IoT-compatible cloud's data plane, joined to the control plane's registry: the MQTT
// broker with registry authentication (JITR) and policy authorization, lifecycle events, the rules
// engine, device shadows (MQTT and HTTP) and revocation of live sessions. `ztp cloud run` embeds it
// next to the REST API server.
//
// Threads: the broker's network threads call the observer, which only queues work (devices'
// messages in a bounded queue: CloudServiceOptions::max_queued_messages); one service worker
// thread runs shadows, rules and events in arrival order, the shadow requests queued together in
// one registry transaction; the built-in JITR function runs on
// its own threads (registrations share a group commit there) and external function invocations on
// the dispatcher's threads (RulesRuntime). Nothing publishes to the broker
// while holding the registry lock (the broker's receive checks take the registry lock under a
// session lock).
//
// Revocation: the registry reports every committed certificate/CA change; a certificate that is no
// longer ACTIVE (UpdateCertificate INACTIVE/REVOKED, DeleteCertificate) or whose CA was deactivated
// or deleted has its live sessions closed at once, on the worker, without polling.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "cloud/api/router.hpp"
#include "cloud/events/recorder.hpp"
#include "cloud/service/rules_runtime.hpp"
#include "cloud/service/shadows.hpp"
#include "cloud/state.hpp"
#include "common/connection_limits.hpp"

namespace zt::cloud::service {

struct CloudServiceOptions {
  std::string mqtt_host = "127.0.0.1";
  uint16_t mqtt_port = 8883;  // 0 = ephemeral
  // When mqtt_port cannot be bound (in use), listen on an ephemeral port instead of failing.
  bool fall_back_to_ephemeral = false;
  size_t threads = 0;                     // broker io_contexts; 0 = one per core
  ConnectionCaps mqtt_connection_caps{};  // 0: no cap (`ztp cloud run` sets them)
  // Devices' messages waiting for the service worker (shadows, jobs, rules): beyond either bound a
  // message is not queued; a shadow request is answered 429 "Too Many Requests" on its /rejected
  // topic at once, as AWS IoT throttles (Device Shadow error messages), and spends none of its
  // thing's quota (InboundQueue); anything else is dropped (logged). At 20,000 shadow updates/s,
  // 16,384 is under a second of work.
  size_t max_queued_messages = 16384;
  size_t max_queued_bytes = 64u << 20;  // payloads and topics
  functions::RetryPolicy retry{};
};

class CloudService {
 public:
  CloudService(CloudState& state, CloudServiceOptions options);
  ~CloudService();
  CloudService(const CloudService&) = delete;
  CloudService& operator=(const CloudService&) = delete;

  // Adds the iot-data routes (shadows, Publish) to the API router; before the API server starts.
  void add_routes(api::Router& router);
  // Adds the iot-jobs-data routes (AWS IoT Jobs' device HTTP API) to their own router.
  void add_jobs_data_routes(api::Router& router);
  // Sees every MQTT message the cloud routes (clients' publishes, shadow responses, lifecycle
  // events), on the service worker thread in arrival order; must not block (the web console
  // queues them for its event streams). Before start().
  using MessageTap = std::function<void(const std::string& topic, const std::string& payload)>;
  void add_message_tap(MessageTap tap);
  // A shadow request as the HTTP data plane makes it (UpdateThingShadow and friends): the
  // accepted/delta/documents messages go to subscribers, so the device gets the delta. Any thread
  // (runs its own registry transaction).
  ShadowReply shadow_request(const std::string& thing, const std::string& operation,
                             std::string_view payload);
  // Where external functions reach the API (AWS_ENDPOINT_URL), once the API server is bound.
  void set_api_url(std::string url);
  Status start();
  uint16_t mqtt_port() const;
  // Waits until queued events and function invocations are done and device events written (tests).
  void drain();
  // The device-event recorder (fleet view): the console listens to written batches.
  events::EventRecorder& device_events();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared: queued work and the broker's observer hold it
};

}  // namespace zt::cloud::service
