#include "kit/mqtt_link.hpp"

#include <fmt/format.h>

namespace zt::kit {

using namespace std::chrono_literals;

Result<std::optional<mqtt::Packet>> PacketReader::next(std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    ZT_TRY_ASSIGN(auto packet, decoder_.next());
    if (packet) return packet;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::optional<mqtt::Packet>{};
    ZT_TRY_ASSIGN(Bytes bytes,
                  connection_.read(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::min<std::chrono::steady_clock::duration>(deadline - now, 100ms))));
    decoder_.feed(bytes);
  }
}

Status send(TlsConnection& connection, const mqtt::Packet& packet) {
  ZT_TRY_ASSIGN(Bytes bytes, mqtt::encode_packet(packet));
  return connection.write_all(bytes);
}

Status mqtt_connect(TlsConnection& connection, PacketReader& reader, const std::string& client_id,
                    uint16_t keep_alive_seconds) {
  mqtt::Connect connect;
  connect.client_id = client_id;
  connect.keep_alive = keep_alive_seconds;
  connect.clean_session = true;
  ZT_TRY(with_context(send(connection, connect), "MQTT CONNECT"));
  auto connack = reader.next(5s);
  if (!connack) {
    // AWS IoT gives a refused certificate no CONNACK: it ends the connection (reference/aws-iot.md,
    // JITR). The device cannot tell why, so the message names what the seed's guide lists.
    return make_error(
        Errc::permission,
        fmt::format("MQTT connect refused: the endpoint closed the connection without a CONNACK "
                    "({}): the device certificate is not accepted — being registered just in "
                    "time (first connection), or inactive/revoked",
                    connack.error().message));
  }
  if (!*connack || !std::holds_alternative<mqtt::Connack>(**connack)) {
    return make_error(Errc::io, "MQTT connect: no CONNACK within 5 s");
  }
  auto code = std::get<mqtt::Connack>(**connack).return_code;
  if (code != mqtt::ConnectReturnCode::accepted) {
    return make_error(Errc::permission, fmt::format("MQTT connect refused: CONNACK return code {}",
                                                    static_cast<int>(code)));
  }
  return ok();
}

Result<ApiAnswer> mqtt_request(TlsConnection& connection, PacketReader& reader,
                               const std::string& topic, const std::string& payload,
                               uint16_t packet_id, std::chrono::milliseconds wait) {
  const std::string accepted = topic + "/accepted", rejected = topic + "/rejected";
  mqtt::Subscribe subscribe{.packet_id = packet_id,
                            .subscriptions = {{accepted, 0}, {rejected, 0}}};
  ZT_TRY(with_context(send(connection, subscribe), "MQTT SUBSCRIBE"));
  auto deadline = std::chrono::steady_clock::now() + wait;
  auto remaining = [&] {
    return std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now()));
  };
  for (;;) {
    ZT_TRY_ASSIGN(auto packet, with_context(reader.next(remaining()), "MQTT subscribe"));
    if (!packet) return make_error(Errc::timeout, "MQTT subscribe to " + topic + "/+: no SUBACK");
    if (!std::holds_alternative<mqtt::Suback>(*packet)) continue;
    const auto& codes = std::get<mqtt::Suback>(*packet).return_codes;
    if (codes.size() != 2 || codes[0] == mqtt::kSubackFailure || codes[1] == mqtt::kSubackFailure) {
      return make_error(Errc::permission,
                        fmt::format("MQTT subscribe to {} and {} refused (the claim policy must "
                                    "allow iot:Subscribe and iot:Receive on them)",
                                    accepted, rejected));
    }
    break;
  }
  mqtt::Publish publish{.topic = topic, .payload = Bytes(payload.begin(), payload.end())};
  ZT_TRY(with_context(send(connection, publish), "MQTT PUBLISH " + topic));
  for (;;) {
    ZT_TRY_ASSIGN(auto packet, with_context(reader.next(remaining()),
                                            "waiting for " + topic +
                                                "/accepted (the connection was closed: "
                                                "is publishing to it allowed?)"));
    if (!packet) {
      return make_error(Errc::timeout,
                        fmt::format("no answer on {}/accepted or /rejected within {} s", topic,
                                    wait.count() / 1000));
    }
    if (!std::holds_alternative<mqtt::Publish>(*packet)) continue;
    const auto& message = std::get<mqtt::Publish>(*packet);
    if (message.topic != accepted && message.topic != rejected) continue;
    return ApiAnswer{.accepted = message.topic == accepted,
                     .payload = std::string(message.payload.begin(), message.payload.end())};
  }
}

}  // namespace zt::kit
