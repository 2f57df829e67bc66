// MQTT 5.0 forms of the packets (OASIS mqtt-v5.0-os; section and figure numbers cited) and
// malformed property sections of each kind, with the reason code each one stands for.
#include <gtest/gtest.h>

#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"

namespace zt::mqtt {
namespace {

constexpr uint8_t k5 = kProtocolLevel5;

Bytes encoded5(const Packet& packet) {
  auto bytes = encode_packet(packet, k5);
  EXPECT_TRUE(bytes) << bytes.error().message;
  return bytes ? *bytes : Bytes{};
}

Result<Packet> decode5(const Bytes& wire) {
  StreamDecoder decoder(kMaxRemainingLength, k5);
  decoder.feed(wire);
  auto next = decoder.next();
  if (!next) return next.error();
  if (!*next) return make_error(Errc::parse, "incomplete");
  EXPECT_EQ(decoder.buffered(), 0u);
  return std::move(**next);
}

// A PUBLISH (QoS 0, topic "t") whose property section is `section` (its length prefix included).
Bytes publish_with(const Bytes& section) {
  Bytes body{0x00, 0x01, 't'};
  body.insert(body.end(), section.begin(), section.end());
  Bytes wire{0x30};
  encode_remaining_length(body.size(), wire);
  wire.insert(wire.end(), body.begin(), body.end());
  return wire;
}

// The error for `wire` and the reason code a server sends for it.
std::pair<std::string, uint8_t> refusal(const Bytes& wire) {
  StreamDecoder decoder(kMaxRemainingLength, k5);
  decoder.feed(wire);
  auto next = decoder.next();
  if (next) return {"decoded", 0};
  return {next.error().message, decoder.failure_reason()};
}

TEST(Connect5, SpecFigure3_7VariableHeader) {
  // §3.1.2.12 Figure 3-7 (variable header example): "MQTT", version 5, flags 0xCE, keep alive 10,
  // properties: length 5, Session Expiry Interval (17) = 10.
  Connect connect{.protocol_level = k5, .clean_session = true, .keep_alive = 10};
  connect.properties.session_expiry_interval = 10;
  connect.client_id = "id";
  connect.will = Will{.topic = "w", .payload = {0x01}, .qos = 1, .retain = false};
  connect.username = "u";
  connect.password = Bytes{'p'};
  Bytes wire = encoded5(connect);
  const Bytes variable_header{0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0xce,
                              0x00, 0x0a, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0a};
  ASSERT_GT(wire.size(), 2 + variable_header.size());
  EXPECT_EQ(Bytes(wire.begin() + 2, wire.begin() + 2 + variable_header.size()), variable_header);
  // Payload (§3.1.3): client id, will properties (empty), will topic, will payload, user, password.
  const Bytes payload{0x00, 0x02, 'i',  'd',  0x00, 0x00, 0x01, 'w', 0x00,
                      0x01, 0x01, 0x00, 0x01, 'u',  0x00, 0x01, 'p'};
  EXPECT_EQ(Bytes(wire.begin() + 2 + variable_header.size(), wire.end()), payload);
  auto decoded = decode5(wire);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Connect>(*decoded), connect);
}

TEST(Connect5, EveryConnectPropertyAndWillPropertiesRoundTrip) {
  Connect connect{.protocol_level = k5, .clean_session = false, .keep_alive = 30};
  connect.client_id = "dev";
  auto& p = connect.properties;
  p.session_expiry_interval = 3600;
  p.receive_maximum = 20;
  p.maximum_packet_size = 65536;
  p.topic_alias_maximum = 4;
  p.request_response_information = 1;
  p.request_problem_information = 0;
  p.user_properties = {{"a", "1"}, {"a", "2"}};  // names may repeat, order kept
  p.authentication_method = "SCRAM";
  p.authentication_data = Bytes{1, 2};
  Will will{.topic = "lwt", .payload = {'x'}, .qos = 0, .retain = false};
  will.properties.will_delay_interval = 5;
  will.properties.payload_format_indicator = 1;
  will.properties.message_expiry_interval = 60;
  will.properties.content_type = "text/plain";
  will.properties.response_topic = "r";
  will.properties.correlation_data = Bytes{9};
  will.properties.user_properties = {{"k", "v"}};
  connect.will = will;
  connect.password = Bytes{'s'};  // MQTT 5 §3.1.2.9: a password without a user name is allowed
  auto decoded = decode5(encoded5(connect));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Connect>(*decoded), connect);
}

TEST(Connack5, ReasonCodeAndServerProperties) {
  Connack connack{.session_present = false, .reason_code = reason::success};
  connack.properties.topic_alias_maximum = 8;
  Bytes wire = encoded5(connack);
  // §3.2: flags, reason code, property length 3, Topic Alias Maximum (0x22) = 8.
  EXPECT_EQ(wire, (Bytes{0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x08}));
  // Refused: "Unsupported Protocol Version" with no properties (§3.2.2.2).
  EXPECT_EQ(encoded5(Connack{.reason_code = reason::unsupported_protocol_version}),
            (Bytes{0x20, 0x03, 0x00, 0x84, 0x00}));
  auto decoded = decode5(wire);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Connack>(*decoded), connack);
  // 0x01 is a 3.1.1 return code, not an MQTT 5 CONNACK reason.
  EXPECT_FALSE(decode5(Bytes{0x20, 0x03, 0x00, 0x01, 0x00}));
}

TEST(Publish5, PropertiesBetweenPacketIdAndPayload) {
  Publish publish{.topic = "a/b", .payload = {'h', 'i'}, .qos = 1, .packet_id = 7};
  publish.properties.topic_alias = 3;
  publish.properties.message_expiry_interval = 120;
  Bytes wire = encoded5(publish);
  // §3.3.2: topic, packet id, properties (Message Expiry 0x02 before Topic Alias 0x23), payload.
  EXPECT_EQ(wire, (Bytes{0x32, 0x12, 0x00, 0x03, 'a',  '/',  'b',  0x00, 0x07, 0x08,
                         0x02, 0x00, 0x00, 0x00, 0x78, 0x23, 0x00, 0x03, 'h',  'i'}));
  auto decoded = decode5(wire);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Publish>(*decoded), publish);
  // The same PUBLISH for a 3.1.1 subscriber has no property section at all.
  auto wire311 = encode_packet(publish, kProtocolLevel311);
  ASSERT_TRUE(wire311);
  EXPECT_EQ(*wire311, (Bytes{0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 'h', 'i'}));
  // MQTT 5 allows an empty topic when a Topic Alias stands for it (§3.3.2.1); the broker checks.
  Publish by_alias{.topic = "", .payload = {}, .qos = 0};
  by_alias.properties.topic_alias = 1;
  auto alias_decoded = decode5(encoded5(by_alias));
  ASSERT_TRUE(alias_decoded) << alias_decoded.error().message;
  EXPECT_EQ(std::get<Publish>(*alias_decoded), by_alias);
}

TEST(Acks5, ReasonCodeAndPropertiesOmittedWhenSuccess) {
  // §3.4.2.1: Success with no properties may be sent as a bare packet id (remaining length 2).
  EXPECT_EQ(encoded5(Puback{.packet_id = 0x1234}), (Bytes{0x40, 0x02, 0x12, 0x34}));
  EXPECT_EQ(encoded5(Puback{.packet_id = 1, .reason_code = reason::not_authorized}),
            (Bytes{0x40, 0x03, 0x00, 0x01, 0x87}));
  Puback with_reason{.packet_id = 1, .reason_code = reason::payload_format_invalid};
  with_reason.properties.reason_string = "x";
  EXPECT_EQ(encoded5(with_reason),
            (Bytes{0x40, 0x08, 0x00, 0x01, 0x99, 0x04, 0x1f, 0x00, 0x01, 'x'}));
  // Decoding accepts all three lengths (2, 3, and with properties).
  for (const Bytes& wire : {Bytes{0x40, 0x02, 0x00, 0x05}, Bytes{0x40, 0x03, 0x00, 0x05, 0x00},
                            Bytes{0x40, 0x04, 0x00, 0x05, 0x00, 0x00}}) {
    auto decoded = decode5(wire);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(std::get<Puback>(*decoded), (Puback{.packet_id = 5}));
  }
  auto decoded = decode5(encoded5(with_reason));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Puback>(*decoded), with_reason);
  // 0x92 belongs to PUBREL/PUBCOMP, not PUBACK (§3.4.2.1).
  EXPECT_FALSE(decode5(Bytes{0x40, 0x03, 0x00, 0x05, 0x92}));
  EXPECT_TRUE(decode5(Bytes{0x62, 0x03, 0x00, 0x05, 0x92}));  // PUBREL
}

TEST(Subscribe5, SubscriptionOptionsAndIdentifier) {
  Subscribe subscribe{.packet_id = 10};
  subscribe.subscriptions.push_back(Subscription{.filter = "a/+",
                                                 .qos = 1,
                                                 .no_local = true,
                                                 .retain_as_published = true,
                                                 .retain_handling = 2});
  subscribe.properties.subscription_identifiers = {200};
  Bytes wire = encoded5(subscribe);
  // §3.8.2: packet id, properties (Subscription Identifier 0x0b = VBI 200 = c8 01), then the filter
  // and its options byte: retain handling 2 (bits 5-4), RAP (bit 3), NL (bit 2), QoS 1.
  EXPECT_EQ(wire, (Bytes{0x82, 0x0c, 0x00, 0x0a, 0x03, 0x0b, 0xc8, 0x01, 0x00, 0x03, 'a', '/', '+',
                         0x2d}));
  auto decoded = decode5(wire);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Subscribe>(*decoded), subscribe);
  // Reserved bits 7-6 → malformed; retain handling 3 → protocol error.
  EXPECT_EQ(refusal(Bytes{0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40}).second,
            reason::malformed_packet);
  EXPECT_EQ(refusal(Bytes{0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30}).second,
            reason::protocol_error);
  // Two Subscription Identifiers in a SUBSCRIBE → protocol error (§3.8.2.1.2).
  EXPECT_EQ(
      refusal(Bytes{0x82, 0x0b, 0x00, 0x01, 0x04, 0x0b, 0x01, 0x0b, 0x02, 0x00, 0x01, 'a', 0x00})
          .second,
      reason::protocol_error);
}

TEST(Subscribe5, SubackAndUnsubackReasonCodes) {
  Suback suback{.packet_id = 3, .return_codes = {0x01, 0x00, 0x87, 0x97}};
  EXPECT_EQ(encoded5(suback), (Bytes{0x90, 0x07, 0x00, 0x03, 0x00, 0x01, 0x00, 0x87, 0x97}));
  auto decoded = decode5(encoded5(suback));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Suback>(*decoded), suback);
  Unsuback unsuback{.packet_id = 4, .reason_codes = {0x00, 0x11}};
  EXPECT_EQ(encoded5(unsuback), (Bytes{0xb0, 0x05, 0x00, 0x04, 0x00, 0x00, 0x11}));
  auto unsub_decoded = decode5(encoded5(unsuback));
  ASSERT_TRUE(unsub_decoded) << unsub_decoded.error().message;
  EXPECT_EQ(std::get<Unsuback>(*unsub_decoded), unsuback);
  // The 3.1.1 UNSUBACK drops the codes: a bare packet id.
  auto wire311 = encode_packet(unsuback);
  ASSERT_TRUE(wire311);
  EXPECT_EQ(*wire311, (Bytes{0xb0, 0x02, 0x00, 0x04}));
  Unsubscribe unsubscribe{.packet_id = 5, .filters = {"a"}};
  unsubscribe.properties.user_properties = {{"n", "v"}};
  auto u = decode5(encoded5(unsubscribe));
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(std::get<Unsubscribe>(*u), unsubscribe);
}

TEST(Disconnect5, ReasonCodesBothWays) {
  EXPECT_EQ(encoded5(Disconnect{}), (Bytes{0xe0, 0x00}));  // §3.14.2.1: Normal disconnection
  EXPECT_EQ(encoded5(Disconnect{.reason_code = reason::topic_alias_invalid}),
            (Bytes{0xe0, 0x01, 0x94}));
  Disconnect with_expiry{.reason_code = reason::disconnect_with_will};
  with_expiry.properties.session_expiry_interval = 0;
  EXPECT_EQ(encoded5(with_expiry), (Bytes{0xe0, 0x07, 0x04, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00}));
  auto decoded = decode5(encoded5(with_expiry));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Disconnect>(*decoded), with_expiry);
  EXPECT_FALSE(decode5(Bytes{0xe0, 0x01, 0x05}));  // 0x05 is not a DISCONNECT reason
  // In 3.1.1 a DISCONNECT has no body.
  EXPECT_FALSE(decode_packet(0xe0, Bytes{0x00}, kProtocolLevel311));
}

TEST(Auth5, ExistsOnlyInMqtt5) {
  Auth auth{.reason_code = reason::continue_authentication};
  auth.properties.authentication_method = "m";
  Bytes wire = encoded5(auth);
  EXPECT_EQ(wire, (Bytes{0xf0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 'm'}));
  auto decoded = decode5(wire);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Auth>(*decoded), auth);
  EXPECT_FALSE(decode_packet(0xf0, Bytes{}, kProtocolLevel311));  // type 15 is reserved in 3.1.1
  EXPECT_FALSE(encode_packet(auth, kProtocolLevel311));
}

TEST(Properties5, MalformedSectionsAndTheirReasonCodes) {
  struct Case {
    const char* what;
    Bytes section;
    uint8_t reason;
    const char* message;
  };
  const Case cases[] = {
      {"unknown identifier", {0x02, 0x7f, 0x00}, reason::malformed_packet, "unknown"},
      {"identifier not allowed in PUBLISH (Session Expiry)",
       {0x05, 0x11, 0x00, 0x00, 0x00, 0x01},
       reason::malformed_packet,
       "not allowed"},
      {"duplicate single-use property (Message Expiry twice)",
       {0x0a, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2},
       reason::protocol_error,
       "more than once"},
      {"four-byte value cut short by the section length",
       {0x03, 0x02, 0x00, 0x00},
       reason::malformed_packet,
       "packet ends"},
      {"section length past the packet", {0x09, 0x01, 0x00}, reason::malformed_packet, "needs 9"},
      {"string length past the section",
       {0x04, 0x03, 0x00, 0x09, 'a'},
       reason::malformed_packet,
       "needs 9"},
      {"ill-formed UTF-8 in Content Type",
       {0x04, 0x03, 0x00, 0x01, 0xff},
       reason::malformed_packet,
       "UTF-8"},
      {"user property without its value",
       {0x04, 0x26, 0x00, 0x01, 'k'},
       reason::malformed_packet,
       "User Property value"},
      {"Payload Format Indicator 2", {0x02, 0x01, 0x02}, reason::protocol_error, "not 0 or 1"},
      {"Topic Alias 0", {0x03, 0x23, 0x00, 0x00}, reason::protocol_error, "not a topic alias"},
      {"Subscription Identifier 0", {0x02, 0x0b, 0x00}, reason::protocol_error, "0 is not"},
      {"non-minimal variable byte integer length",
       {0x80, 0x00},
       reason::malformed_packet,
       "not minimal"},
      {"five-byte property length",
       {0xff, 0xff, 0xff, 0xff, 0x7f},
       reason::malformed_packet,
       "longer than four"},
  };
  for (const auto& c : cases) {
    auto [message, code] = refusal(publish_with(c.section));
    EXPECT_EQ(code, c.reason) << c.what << ": " << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << c.what << ": " << message;
  }
  // Will properties have their own column of Table 2-4: Topic Alias is not one of them.
  const Bytes connect{0x10, 0x14, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x04, 0x00, 0x0a, 0x00,
                      0x00, 0x01, 'c',  0x03, 0x23, 0x00, 0x01, 0x00, 0x01, 'w',  0x00, 0x00};
  ASSERT_EQ(connect.size(), 2u + 0x14 + 3);
  Bytes fixed = connect;
  fixed[1] = static_cast<uint8_t>(connect.size() - 2);
  auto [message, code] = refusal(fixed);
  EXPECT_EQ(code, reason::malformed_packet) << message;
  EXPECT_NE(message.find("will properties"), std::string::npos) << message;
}

TEST(Properties5, EncoderRefusesWhatThePacketMayNotCarry) {
  Publish publish{.topic = "t"};
  publish.properties.session_expiry_interval = 1;
  EXPECT_FALSE(encode_packet(publish, k5));
  Disconnect disconnect;
  disconnect.properties.topic_alias = 1;
  EXPECT_FALSE(encode_packet(disconnect, k5));
}

TEST(StreamDecoder5, SwitchesToMqtt5AfterAVersion5Connect) {
  Bytes stream;
  Connect connect{.protocol_level = k5, .clean_session = true, .keep_alive = 5};
  connect.client_id = "c";
  ASSERT_TRUE(encode_packet(connect, stream));
  ASSERT_TRUE(encode_packet(Disconnect{.reason_code = reason::disconnect_with_will}, stream, k5));
  StreamDecoder decoder;
  EXPECT_EQ(decoder.protocol_level(), kProtocolLevel311);
  decoder.feed(stream);
  auto first = decoder.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(decoder.protocol_level(), k5);
  auto second = decoder.next();
  ASSERT_TRUE(second && *second) << (second ? "" : second.error().message);
  EXPECT_EQ(std::get<Disconnect>(**second).reason_code, reason::disconnect_with_will);
  // Oversized packets are reported as Packet Too Large (0x95).
  StreamDecoder small(16, k5);
  small.feed(Bytes{0x30, 0x80, 0x01});
  EXPECT_FALSE(small.next());
  EXPECT_EQ(small.failure_reason(), reason::packet_too_large);
}

}  // namespace
}  // namespace zt::mqtt
