// The MQTT broker of the local AWS-IoT-compatible cloud: MQTT 3.1.1 over TLS 1.2/1.3 with a
// required client certificate, one io_context per core. Authentication, authorization and observers
// are supplied by the embedder (interfaces.hpp); `ztp broker run` uses a PEM file and allow-all.
#pragma once

#include <memory>

#include "broker/core.hpp"
#include "broker/interfaces.hpp"
#include "common/result.hpp"

namespace zt::cloud::broker {

class Broker {
 public:
  Broker(BrokerConfig config, std::shared_ptr<Authenticator> authenticator,
         std::shared_ptr<Authorizer> authorizer);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  void add_observer(std::shared_ptr<Observer> observer);  // before start()

  // Loads the server certificate, binds the listener and starts the network threads.
  Status start();
  // The bound port (the ephemeral one when config.port was 0).
  uint16_t port() const;
  // Publishes as the broker itself (lifecycle events, shadow responses): no authorization.
  void publish(Message message);
  // The same, to the subscriptions of one connection (ClientContext::session_identifier) only.
  void publish_to_connection(std::string_view session_identifier, Message message);
  size_t connection_count() const;
  // Connections in their TLS handshake or not yet past CONNECT, over all network threads (what
  // places a new connection on the least busy thread).
  size_t connections_in_handshake() const;
  // Closes the live connections of a certificate (UpdateCertificate to INACTIVE/REVOKED,
  // reference/aws-iot.md §2).
  size_t disconnect_principal(std::string_view principal,
                              DisconnectReason reason = DisconnectReason::server_initiated);
  size_t session_count() const;
  // Closes the listener and every connection, joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zt::cloud::broker
