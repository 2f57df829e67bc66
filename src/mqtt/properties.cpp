// The MQTT 5.0 property section (§2.2.2): Table 2-4 as data, one reader and one writer over it.
#include "mqtt/properties.hpp"

#include <fmt/format.h>

#include "mqtt/packet.hpp"
#include "mqtt/wire.hpp"

namespace zt::mqtt {
namespace {

enum class Type { byte, two_byte, four_byte, vbi, utf8, binary, string_pair };

constexpr uint32_t bit(PacketType type) { return 1u << static_cast<uint8_t>(type); }
constexpr uint32_t kWill = 1u << kWillProperties;
constexpr uint32_t kAcks = bit(PacketType::puback) | bit(PacketType::pubrec) |
                           bit(PacketType::pubrel) | bit(PacketType::pubcomp);
constexpr uint32_t kEveryPacket =
    bit(PacketType::connect) | bit(PacketType::connack) | bit(PacketType::publish) | kWill | kAcks |
    bit(PacketType::subscribe) | bit(PacketType::suback) | bit(PacketType::unsubscribe) |
    bit(PacketType::unsuback) | bit(PacketType::disconnect) | bit(PacketType::auth);

struct Spec {
  PropertyId id;
  Type type;
  uint32_t allowed;  // bit(PacketType) | kWill
  const char* name;
};

// §2.2.2.2 Table 2-4.
constexpr Spec kSpecs[] = {
    {PropertyId::payload_format_indicator, Type::byte, bit(PacketType::publish) | kWill,
     "Payload Format Indicator"},
    {PropertyId::message_expiry_interval, Type::four_byte, bit(PacketType::publish) | kWill,
     "Message Expiry Interval"},
    {PropertyId::content_type, Type::utf8, bit(PacketType::publish) | kWill, "Content Type"},
    {PropertyId::response_topic, Type::utf8, bit(PacketType::publish) | kWill, "Response Topic"},
    {PropertyId::correlation_data, Type::binary, bit(PacketType::publish) | kWill,
     "Correlation Data"},
    {PropertyId::subscription_identifier, Type::vbi,
     bit(PacketType::publish) | bit(PacketType::subscribe), "Subscription Identifier"},
    {PropertyId::session_expiry_interval, Type::four_byte,
     bit(PacketType::connect) | bit(PacketType::connack) | bit(PacketType::disconnect),
     "Session Expiry Interval"},
    {PropertyId::assigned_client_identifier, Type::utf8, bit(PacketType::connack),
     "Assigned Client Identifier"},
    {PropertyId::server_keep_alive, Type::two_byte, bit(PacketType::connack), "Server Keep Alive"},
    {PropertyId::authentication_method, Type::utf8,
     bit(PacketType::connect) | bit(PacketType::connack) | bit(PacketType::auth),
     "Authentication Method"},
    {PropertyId::authentication_data, Type::binary,
     bit(PacketType::connect) | bit(PacketType::connack) | bit(PacketType::auth),
     "Authentication Data"},
    {PropertyId::request_problem_information, Type::byte, bit(PacketType::connect),
     "Request Problem Information"},
    {PropertyId::will_delay_interval, Type::four_byte, kWill, "Will Delay Interval"},
    {PropertyId::request_response_information, Type::byte, bit(PacketType::connect),
     "Request Response Information"},
    {PropertyId::response_information, Type::utf8, bit(PacketType::connack),
     "Response Information"},
    {PropertyId::server_reference, Type::utf8,
     bit(PacketType::connack) | bit(PacketType::disconnect), "Server Reference"},
    {PropertyId::reason_string, Type::utf8,
     bit(PacketType::connack) | kAcks | bit(PacketType::suback) | bit(PacketType::unsuback) |
         bit(PacketType::disconnect) | bit(PacketType::auth),
     "Reason String"},
    {PropertyId::receive_maximum, Type::two_byte,
     bit(PacketType::connect) | bit(PacketType::connack), "Receive Maximum"},
    {PropertyId::topic_alias_maximum, Type::two_byte,
     bit(PacketType::connect) | bit(PacketType::connack), "Topic Alias Maximum"},
    {PropertyId::topic_alias, Type::two_byte, bit(PacketType::publish), "Topic Alias"},
    {PropertyId::maximum_qos, Type::byte, bit(PacketType::connack), "Maximum QoS"},
    {PropertyId::retain_available, Type::byte, bit(PacketType::connack), "Retain Available"},
    {PropertyId::user_property, Type::string_pair, kEveryPacket, "User Property"},
    {PropertyId::maximum_packet_size, Type::four_byte,
     bit(PacketType::connect) | bit(PacketType::connack), "Maximum Packet Size"},
    {PropertyId::wildcard_subscription_available, Type::byte, bit(PacketType::connack),
     "Wildcard Subscription Available"},
    {PropertyId::subscription_identifier_available, Type::byte, bit(PacketType::connack),
     "Subscription Identifier Available"},
    {PropertyId::shared_subscription_available, Type::byte, bit(PacketType::connack),
     "Shared Subscription Available"},
};

const Spec* find_spec(uint32_t id) {
  for (const auto& spec : kSpecs) {
    if (static_cast<uint32_t>(spec.id) == id) return &spec;
  }
  return nullptr;
}

// One decoded value, before it is stored in its field.
struct Value {
  uint32_t number = 0;
  std::string text{};
  std::string second{};
  Bytes binary{};
};

Result<Value> read_value(wire::Reader& reader, const Spec& spec) {
  Value value;
  switch (spec.type) {
    case Type::byte: {
      ZT_TRY_ASSIGN(uint8_t v, reader.u8(spec.name));
      value.number = v;
      break;
    }
    case Type::two_byte: {
      ZT_TRY_ASSIGN(uint16_t v, reader.u16(spec.name));
      value.number = v;
      break;
    }
    case Type::four_byte: {
      ZT_TRY_ASSIGN(value.number, reader.u32(spec.name));
      break;
    }
    case Type::vbi: {
      ZT_TRY_ASSIGN(value.number, reader.vbi(spec.name));
      break;
    }
    case Type::utf8: {
      ZT_TRY_ASSIGN(value.text, reader.utf8(spec.name));
      break;
    }
    case Type::binary: {
      ZT_TRY_ASSIGN(value.binary, reader.binary(spec.name));
      break;
    }
    case Type::string_pair: {
      ZT_TRY_ASSIGN(value.text, reader.utf8("User Property name"));
      ZT_TRY_ASSIGN(value.second, reader.utf8("User Property value"));
      break;
    }
  }
  return value;
}

template <class T, class V>
Status set_once(std::optional<T>& slot, V value, const wire::Reader& reader, const Spec& spec) {
  // §2.2.2.2: "It is a Protocol Error to include the <property> more than once".
  if (slot) return reader.protocol_error(spec.name, "included more than once");
  slot = static_cast<T>(std::move(value));
  return ok();
}

// A byte property whose only values are 0 and 1 (§3.1.2.11.6/7, §3.2.2.3.4/5/11/12/13, §3.3.2.3.2).
Status set_flag(std::optional<uint8_t>& slot, uint32_t value, const wire::Reader& reader,
                const Spec& spec) {
  if (value > 1) return reader.protocol_error(spec.name, fmt::format("{} is not 0 or 1", value));
  return set_once(slot, value, reader, spec);
}

Status store(Properties& p, const Spec& spec, Value v, const wire::Reader& r, uint8_t where) {
  auto nonzero = [&](std::string_view why) -> Status {
    if (v.number == 0) return r.protocol_error(spec.name, why);
    return ok();
  };
  switch (spec.id) {
    case PropertyId::payload_format_indicator:
      return set_flag(p.payload_format_indicator, v.number, r, spec);
    case PropertyId::message_expiry_interval:
      return set_once(p.message_expiry_interval, v.number, r, spec);
    case PropertyId::content_type:
      return set_once(p.content_type, std::move(v.text), r, spec);
    case PropertyId::response_topic:
      return set_once(p.response_topic, std::move(v.text), r, spec);
    case PropertyId::correlation_data:
      return set_once(p.correlation_data, std::move(v.binary), r, spec);
    case PropertyId::subscription_identifier:
      // §3.8.2.1.2 / §3.3.2.3.8: 1..268435455; once in SUBSCRIBE, repeatable in PUBLISH.
      ZT_TRY(nonzero("0 is not a subscription identifier"));
      if (where == static_cast<uint8_t>(PacketType::subscribe) &&
          !p.subscription_identifiers.empty())
        return r.protocol_error(spec.name, "included more than once");
      p.subscription_identifiers.push_back(v.number);
      return ok();
    case PropertyId::session_expiry_interval:
      return set_once(p.session_expiry_interval, v.number, r, spec);
    case PropertyId::assigned_client_identifier:
      return set_once(p.assigned_client_identifier, std::move(v.text), r, spec);
    case PropertyId::server_keep_alive:
      return set_once(p.server_keep_alive, v.number, r, spec);
    case PropertyId::authentication_method:
      return set_once(p.authentication_method, std::move(v.text), r, spec);
    case PropertyId::authentication_data:
      return set_once(p.authentication_data, std::move(v.binary), r, spec);
    case PropertyId::request_problem_information:
      return set_flag(p.request_problem_information, v.number, r, spec);
    case PropertyId::will_delay_interval:
      return set_once(p.will_delay_interval, v.number, r, spec);
    case PropertyId::request_response_information:
      return set_flag(p.request_response_information, v.number, r, spec);
    case PropertyId::response_information:
      return set_once(p.response_information, std::move(v.text), r, spec);
    case PropertyId::server_reference:
      return set_once(p.server_reference, std::move(v.text), r, spec);
    case PropertyId::reason_string:
      return set_once(p.reason_string, std::move(v.text), r, spec);
    case PropertyId::receive_maximum:
      ZT_TRY(nonzero("0 is not allowed (§3.1.2.11.3)"));
      return set_once(p.receive_maximum, v.number, r, spec);
    case PropertyId::topic_alias_maximum:
      return set_once(p.topic_alias_maximum, v.number, r, spec);
    case PropertyId::topic_alias:
      ZT_TRY(nonzero("0 is not a topic alias (§3.3.2.3.4)"));
      return set_once(p.topic_alias, v.number, r, spec);
    case PropertyId::maximum_qos:
      return set_flag(p.maximum_qos, v.number, r, spec);
    case PropertyId::retain_available:
      return set_flag(p.retain_available, v.number, r, spec);
    case PropertyId::user_property:
      p.user_properties.emplace_back(std::move(v.text), std::move(v.second));
      return ok();
    case PropertyId::maximum_packet_size:
      ZT_TRY(nonzero("0 is not allowed (§3.1.2.11.4)"));
      return set_once(p.maximum_packet_size, v.number, r, spec);
    case PropertyId::wildcard_subscription_available:
      return set_flag(p.wildcard_subscription_available, v.number, r, spec);
    case PropertyId::subscription_identifier_available:
      return set_flag(p.subscription_identifier_available, v.number, r, spec);
    case PropertyId::shared_subscription_available:
      return set_flag(p.shared_subscription_available, v.number, r, spec);
  }
  return r.error(spec.name, "unknown property");
}

// Writing: calls `emit(id, type, value…)` for every present property, in identifier order.
struct Writer {
  Bytes& out;
  uint32_t allowed_for;  // bit(where)
  Status status = ok();

  bool admit(PropertyId id) {
    const Spec* spec = find_spec(static_cast<uint32_t>(id));
    if (!status) return false;
    if ((spec->allowed & allowed_for) == 0) {
      status = make_error(Errc::invalid_argument,
                          fmt::format("property {} is not allowed in this packet", spec->name));
      return false;
    }
    out.push_back(static_cast<uint8_t>(id));
    return true;
  }
  void number(PropertyId id, const std::optional<uint32_t>& v, Type type) {
    if (!v || !admit(id)) return;
    if (type == Type::byte) wire::put_u8(out, static_cast<uint8_t>(*v));
    if (type == Type::two_byte) wire::put_u16(out, static_cast<uint16_t>(*v));
    if (type == Type::four_byte) wire::put_u32(out, *v);
  }
  template <class T>
  void integer(PropertyId id, const std::optional<T>& v) {
    constexpr Type type =
        sizeof(T) == 1 ? Type::byte : (sizeof(T) == 2 ? Type::two_byte : Type::four_byte);
    number(id, v ? std::optional<uint32_t>(*v) : std::nullopt, type);
  }
  void text(PropertyId id, const std::optional<std::string>& v) {
    if (!v) return;
    put_string(id, as_bytes(*v));
  }
  void binary(PropertyId id, const std::optional<Bytes>& v) {
    if (!v) return;
    put_string(id, *v);
  }
  void put_string(PropertyId id, ByteView bytes) {
    if (status) status = wire::check_string_length(bytes, "property");
    if (!admit(id)) return;
    wire::put_string(out, bytes);
  }
};

}  // namespace

uint8_t reason_code_of(const Error& error) {
  return error.code == Errc::invalid_argument ? reason::protocol_error : reason::malformed_packet;
}

Result<Properties> read_properties(wire::Reader& reader, uint8_t where) {
  ZT_TRY_ASSIGN(uint32_t length, reader.vbi("property length"));
  ZT_TRY_ASSIGN(ByteView section, reader.take(length, "properties"));
  wire::Reader in(section, reader.packet());
  Properties properties;
  const uint32_t where_bit = 1u << where;
  while (!in.empty()) {
    ZT_TRY_ASSIGN(uint32_t id, in.vbi("property identifier"));
    const Spec* spec = find_spec(id);
    // §2.2.2.2: an identifier not valid for the packet type is a Malformed Packet.
    if (!spec) return in.error("property identifier", fmt::format("0x{:02x} is unknown", id));
    if ((spec->allowed & where_bit) == 0) {
      return in.error(spec->name, where == kWillProperties
                                      ? "not allowed in will properties"
                                      : "not allowed in this packet (Table 2-4)");
    }
    ZT_TRY_ASSIGN(Value value, read_value(in, *spec));
    ZT_TRY(store(properties, *spec, std::move(value), in, where));
  }
  return properties;
}

namespace {

Status put_properties_for(Bytes& out, const Properties& p, uint32_t allowed_for) {
  Bytes body;
  Writer w{body, allowed_for};
  w.integer(PropertyId::payload_format_indicator, p.payload_format_indicator);
  w.integer(PropertyId::message_expiry_interval, p.message_expiry_interval);
  w.text(PropertyId::content_type, p.content_type);
  w.text(PropertyId::response_topic, p.response_topic);
  w.binary(PropertyId::correlation_data, p.correlation_data);
  for (uint32_t id : p.subscription_identifiers) {
    if (id == 0 || id > kMaxVariableByteInteger) {
      return make_error(Errc::invalid_argument, "subscription identifier out of range");
    }
    if (w.admit(PropertyId::subscription_identifier)) wire::put_vbi(body, id);
  }
  w.integer(PropertyId::session_expiry_interval, p.session_expiry_interval);
  w.text(PropertyId::assigned_client_identifier, p.assigned_client_identifier);
  w.integer(PropertyId::server_keep_alive, p.server_keep_alive);
  w.text(PropertyId::authentication_method, p.authentication_method);
  w.binary(PropertyId::authentication_data, p.authentication_data);
  w.integer(PropertyId::request_problem_information, p.request_problem_information);
  w.integer(PropertyId::will_delay_interval, p.will_delay_interval);
  w.integer(PropertyId::request_response_information, p.request_response_information);
  w.text(PropertyId::response_information, p.response_information);
  w.text(PropertyId::server_reference, p.server_reference);
  w.text(PropertyId::reason_string, p.reason_string);
  w.integer(PropertyId::receive_maximum, p.receive_maximum);
  w.integer(PropertyId::topic_alias_maximum, p.topic_alias_maximum);
  w.integer(PropertyId::topic_alias, p.topic_alias);
  w.integer(PropertyId::maximum_qos, p.maximum_qos);
  w.integer(PropertyId::retain_available, p.retain_available);
  for (const auto& [name, value] : p.user_properties) {
    w.put_string(PropertyId::user_property, as_bytes(name));
    if (w.status) w.status = wire::check_string_length(as_bytes(value), "user property value");
    if (w.status) wire::put_string(body, as_bytes(value));
  }
  w.integer(PropertyId::maximum_packet_size, p.maximum_packet_size);
  w.integer(PropertyId::wildcard_subscription_available, p.wildcard_subscription_available);
  w.integer(PropertyId::subscription_identifier_available, p.subscription_identifier_available);
  w.integer(PropertyId::shared_subscription_available, p.shared_subscription_available);
  if (!w.status) return w.status;
  if (body.size() > kMaxVariableByteInteger)
    return make_error(Errc::invalid_argument, "property section too large");
  wire::put_vbi(out, static_cast<uint32_t>(body.size()));
  wire::put_bytes(out, body);
  return ok();
}

}  // namespace

Status put_properties(Bytes& out, const Properties& properties, uint8_t where) {
  return put_properties_for(out, properties, 1u << where);
}

size_t properties_size(const Properties& properties) {
  // Encoding is the simplest exact answer; property sections are small (limits keep them so).
  Bytes out;
  (void)put_properties_for(out, properties, ~0u);
  return out.size();
}

}  // namespace zt::mqtt
