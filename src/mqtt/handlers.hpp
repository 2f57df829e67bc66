// Per-family decode/encode functions behind decode_packet/encode_packet (one file per packet
// family, as Mosquitto's handle_*.c). Internal to zt_mqtt.
#pragma once

#include "mqtt/packet.hpp"
#include "mqtt/wire.hpp"

namespace zt::mqtt::detail {

Result<Packet> decode_connect(uint8_t flags, ByteView body);
Result<Packet> decode_connack(uint8_t flags, ByteView body);
Status encode_connect(const Connect& packet, Bytes& out);
Status encode_connack(const Connack& packet, Bytes& out);

Result<Packet> decode_publish(uint8_t flags, ByteView body);
Status encode_publish(const Publish& packet, Bytes& out);

Result<Packet> decode_subscribe(uint8_t flags, ByteView body);
Result<Packet> decode_suback(uint8_t flags, ByteView body);
Result<Packet> decode_unsubscribe(uint8_t flags, ByteView body);
Status encode_subscribe(const Subscribe& packet, Bytes& out);
Status encode_suback(const Suback& packet, Bytes& out);
Status encode_unsubscribe(const Unsubscribe& packet, Bytes& out);

}  // namespace zt::mqtt::detail
