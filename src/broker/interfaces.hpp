// The narrow interfaces the broker core calls (Mosquitto's shape: the core knows nothing of
// registries or policies). The local cloud plugs in a registry-backed Authenticator (JITR), the
// policy engine as Authorizer, and lifecycle events / the rules engine as Observers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/ossl.hpp"
#include "mqtt/properties.hpp"

namespace zt::cloud::broker {

// What the TLS handshake proved about the client.
struct PeerCertificate {
  crypto::X509Ptr certificate{};                  // the client's leaf certificate
  std::vector<crypto::X509Ptr> verified_chain{};  // leaf … trust anchor, as OpenSSL built it
  std::string server_name{};                      // SNI the client sent ("" if none)
  std::string remote_address{};                   // client IP
};

enum class AuthOutcome {
  accept,
  reject,                 // hang up right after the handshake
  close_without_connack,  // read the CONNECT, then hang up (JITR, reference/aws-iot.md §3 step 4)
  deferred,               // AuthDecision::deferred decides, off the network thread
};

struct AuthDecision {
  AuthOutcome outcome = AuthOutcome::reject;
  std::string principal{};  // AWS certificateId: lowercase hex SHA-256 of the leaf DER
  std::string reason{};     // logged when not accepted
  std::shared_ptr<const void> context{};  // opaque, handed back to the Authorizer
  // With outcome deferred: the decision is this function's, which may block (a registry write and
  // its fsync: JITR's PENDING_ACTIVATION record, a JITP provisioning). The broker runs it on its
  // blocking threads and the connection waits for it; the network thread goes on with the others'
  // handshakes meanwhile. It owns what it needs (it outlives the authenticate() call).
  std::function<AuthDecision()> deferred{};
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The anchors client chains are verified against, asked on every handshake so changes apply to
  // the next connection. Anchors may be intermediates (X509_V_FLAG_PARTIAL_CHAIN is set).
  virtual crypto::UniquePtr<X509_STORE> trust_store() = 0;
  // Called once per connection after a successful handshake, on a network thread: keep it short;
  // work that may block goes in AuthDecision::deferred.
  virtual AuthDecision authenticate(const PeerCertificate& peer) = 0;
  // Asked during the handshake, on a network thread, when the client sent a server name (SNI).
  // false ends the handshake with the fatal alert unrecognized_name (RFC 6066 §3), which the
  // client's TLS stack reports as such. local_address: where the connection arrived.
  virtual bool accept_server_name(std::string_view /*server_name*/,
                                  std::string_view /*local_address*/,
                                  std::string_view /*remote_address*/) {
    return true;
  }
  // The server certificate for a name accepted by accept_server_name when it is not the
  // broker's own (AWS IoT domain configurations: each name has its own certificate): a PEM chain,
  // leaf first, and its key. nullopt keeps the broker's certificate. Asked during the handshake.
  struct ServerIdentity {
    std::string chain_pem{};
    std::string key_pem{};
  };
  virtual std::optional<ServerIdentity> server_identity(std::string_view /*server_name*/) {
    return std::nullopt;
  }
};

// The final decision: a deferred one run at once, on the caller's thread (a caller that may block:
// tests, tools).
inline AuthDecision decide(Authenticator& authenticator, const PeerCertificate& peer) {
  AuthDecision decision = authenticator.authenticate(peer);
  if (decision.outcome == AuthOutcome::deferred) return decision.deferred();
  return decision;
}

// Who is on the other end of a session, for authorization and events.
struct ClientContext {
  std::string client_id{};
  std::string principal{};
  std::string server_name{};
  std::string remote_address{};
  std::string session_identifier{};  // random, 32 hex (lifecycle events' sessionIdentifier)
  std::shared_ptr<const void> auth_context{};
};

// reference/aws-iot.md §5: the actions checked on MQTT.
enum class Action { connect, publish, retain_publish, subscribe, receive };
const char* to_string(Action action);

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // resource: client id (connect), topic (publish, retain_publish, receive), filter (subscribe).
  virtual bool allow(Action action, std::string_view resource, const ClientContext& client) = 0;
};

class AllowAllAuthorizer final : public Authorizer {
 public:
  bool allow(Action, std::string_view, const ClientContext&) override { return true; }
};

// reference/aws-iot.md §6.1 DisconnectReasonValue.
enum class DisconnectReason {
  client_initiated,
  client_error,
  connection_lost,
  duplicate_client_id,
  forbidden_access,
  keep_alive_timeout,
  server_initiated,
  auth_error,
  server_shutdown,  // Broker::stop(): SERVER_INITIATED_DISCONNECT too; MQTT 5 0x8B
};
const char* to_string(DisconnectReason reason);

struct Message {
  std::string topic{};
  Bytes payload{};
  uint8_t qos = 0;
  bool retain = false;
  // MQTT 5 PUBLISH properties forwarded to subscribers as sent (payload format indicator, content
  // type, response topic, correlation data: mqtt-v5.0 §3.3.2.3); user properties are kept below.
  // Empty for MQTT 3.1.1. expires_at: the Message Expiry Interval as a deadline (§3.3.2.3.3).
  mqtt::Properties properties{};
  std::optional<std::chrono::steady_clock::time_point> expires_at{};

  std::string publisher_client_id{};  // "" when the broker itself publishes
  int64_t timestamp_ms = 0;
  // MQTT 5 user properties, in order (empty for MQTT 3.1.1): rules' get_user_property().
  std::vector<std::pair<std::string, std::string>> user_properties{};
};

// Called on network threads; must not block. Default implementations ignore the event.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_connected(const ClientContext&) {}
  virtual void on_disconnected(const ClientContext&, DisconnectReason) {}
  virtual void on_subscribed(const ClientContext&, const std::vector<std::string>& /*filters*/) {}
  virtual void on_unsubscribed(const ClientContext&, const std::vector<std::string>& /*filters*/) {}
  // Every accepted client PUBLISH (after authorization, before routing): the rules engine's tap.
  virtual void on_publish(const Message&, const ClientContext&) {}
};

}  // namespace zt::cloud::broker
