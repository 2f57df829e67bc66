// The kit's MQTT 3.1.1 client pieces over its TLS link: whole packets in (PacketReader), packets
// out (send), CONNECT → CONNACK (mqtt_connect), and the request/response exchange of AWS's MQTT
// APIs (subscribe to …/accepted and …/rejected, then publish the request: AWS "Before publishing a
// request message topic, subscribe to the response topics").
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "kit/tls_client.hpp"
#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"

namespace zt::kit {

// Reads whole MQTT packets from the connection, up to `wait` for the first one.
class PacketReader {
 public:
  explicit PacketReader(TlsConnection& connection) : connection_(connection) {}
  Result<std::optional<mqtt::Packet>> next(std::chrono::milliseconds wait);

 private:
  TlsConnection& connection_;
  mqtt::StreamDecoder decoder_{64 * 1024};
};

Status send(TlsConnection& connection, const mqtt::Packet& packet);

// CONNECT (clean session) and its CONNACK: a refusal is an Errc::permission error saying why.
Status mqtt_connect(TlsConnection& connection, PacketReader& reader, const std::string& client_id,
                    uint16_t keep_alive_seconds);

// Subscribes to `<topic>/accepted` and `<topic>/rejected` (QoS 0, one SUBSCRIBE; a refused filter
// is an error), publishes `payload` on `topic` and waits up to `wait` for an answer on either.
struct ApiAnswer {
  bool accepted = false;
  std::string payload;
};
Result<ApiAnswer> mqtt_request(TlsConnection& connection, PacketReader& reader,
                               const std::string& topic, const std::string& payload,
                               uint16_t packet_id, std::chrono::milliseconds wait);

}  // namespace zt::kit
