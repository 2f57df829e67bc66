// SUBSCRIBE, SUBACK and UNSUBSCRIBE (MQTT 3.1.1 §3.8–§3.10). UNSUBACK lives in packet.cpp.
#include <fmt/format.h>

#include "mqtt/handlers.hpp"

namespace zt::mqtt::detail {
namespace {

Status put_packet_id(Bytes& out, uint16_t packet_id, std::string_view packet) {
  if (packet_id == 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{}: packet identifier must be non-zero", packet));
  }
  wire::put_u16(out, packet_id);
  return ok();
}

}  // namespace

Result<Packet> decode_subscribe(uint8_t /*flags*/, ByteView body) {
  wire::Reader reader(body, "SUBSCRIBE");
  Subscribe subscribe;
  ZT_TRY_ASSIGN(subscribe.packet_id, reader.u16("packet identifier"));
  if (subscribe.packet_id == 0)
    return reader.error("packet identifier", "must be non-zero (§2.3.1)");
  while (!reader.empty()) {
    Subscription subscription;
    ZT_TRY_ASSIGN(subscription.filter, reader.utf8("topic filter"));
    ZT_TRY_ASSIGN(uint8_t options, reader.u8("requested QoS"));
    // §3.8.3.1: the upper six bits are reserved and QoS 3 is malformed.
    if (options & 0xfc) return reader.error("requested QoS", "reserved bits 7-2 are set");
    if (options == 3) return reader.error("requested QoS", "QoS 3 is not a QoS");
    subscription.qos = options;
    subscribe.subscriptions.push_back(std::move(subscription));
  }
  // §3.8.3: a SUBSCRIBE with no payload is a protocol violation.
  if (subscribe.subscriptions.empty()) return reader.error("payload", "no topic filter");
  return Packet{std::move(subscribe)};
}

Status encode_subscribe(const Subscribe& packet, Bytes& out) {
  if (packet.subscriptions.empty())
    return make_error(Errc::invalid_argument, "SUBSCRIBE: no topic filter");
  Bytes body;
  ZT_TRY(put_packet_id(body, packet.packet_id, "SUBSCRIBE"));
  for (const auto& subscription : packet.subscriptions) {
    ZT_TRY(wire::check_string_length(as_bytes(subscription.filter), "topic filter"));
    if (subscription.qos > 2) return make_error(Errc::invalid_argument, "SUBSCRIBE: QoS above 2");
    wire::put_string(body, as_bytes(subscription.filter));
    wire::put_u8(body, subscription.qos);
  }
  ZT_TRY(wire::put_fixed_header(out, 0x82, body.size()));
  wire::put_bytes(out, body);
  return ok();
}

Result<Packet> decode_suback(uint8_t /*flags*/, ByteView body) {
  wire::Reader reader(body, "SUBACK");
  Suback suback;
  ZT_TRY_ASSIGN(suback.packet_id, reader.u16("packet identifier"));
  if (suback.packet_id == 0) return reader.error("packet identifier", "must be non-zero (§2.3.1)");
  ByteView codes = reader.rest();
  if (codes.empty()) return reader.error("payload", "no return code");
  for (uint8_t code : codes) {
    if (code > 2 && code != kSubackFailure)
      return reader.error("return code", fmt::format("0x{:02x} is reserved", code));
  }
  suback.return_codes.assign(codes.begin(), codes.end());
  return Packet{std::move(suback)};
}

Status encode_suback(const Suback& packet, Bytes& out) {
  Bytes body;
  ZT_TRY(put_packet_id(body, packet.packet_id, "SUBACK"));
  wire::put_bytes(body, packet.return_codes);
  ZT_TRY(wire::put_fixed_header(out, 0x90, body.size()));
  wire::put_bytes(out, body);
  return ok();
}

Result<Packet> decode_unsubscribe(uint8_t /*flags*/, ByteView body) {
  wire::Reader reader(body, "UNSUBSCRIBE");
  Unsubscribe unsubscribe;
  ZT_TRY_ASSIGN(unsubscribe.packet_id, reader.u16("packet identifier"));
  if (unsubscribe.packet_id == 0)
    return reader.error("packet identifier", "must be non-zero (§2.3.1)");
  while (!reader.empty()) {
    ZT_TRY_ASSIGN(std::string filter, reader.utf8("topic filter"));
    unsubscribe.filters.push_back(std::move(filter));
  }
  // §3.10.3: the payload MUST contain at least one topic filter.
  if (unsubscribe.filters.empty()) return reader.error("payload", "no topic filter");
  return Packet{std::move(unsubscribe)};
}

Status encode_unsubscribe(const Unsubscribe& packet, Bytes& out) {
  if (packet.filters.empty())
    return make_error(Errc::invalid_argument, "UNSUBSCRIBE: no topic filter");
  Bytes body;
  ZT_TRY(put_packet_id(body, packet.packet_id, "UNSUBSCRIBE"));
  for (const auto& filter : packet.filters) {
    ZT_TRY(wire::check_string_length(as_bytes(filter), "topic filter"));
    wire::put_string(body, as_bytes(filter));
  }
  ZT_TRY(wire::put_fixed_header(out, 0xa2, body.size()));
  wire::put_bytes(out, body);
  return ok();
}

}  // namespace zt::mqtt::detail
