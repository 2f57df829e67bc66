// Known byte sequences from the OASIS MQTT 3.1.1 specification (section numbers cited) and
// malformed inputs that must be refused with a clear error.
#include <gtest/gtest.h>

#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"

namespace zt::mqtt {
namespace {

Bytes encoded(const Packet& packet) {
  auto bytes = encode_packet(packet);
  EXPECT_TRUE(bytes) << bytes.error().message;
  return bytes ? *bytes : Bytes{};
}

Result<Packet> decode_all(const Bytes& wire) {
  StreamDecoder decoder;
  decoder.feed(wire);
  auto next = decoder.next();
  if (!next) return next.error();
  if (!*next) return make_error(Errc::parse, "incomplete");
  EXPECT_EQ(decoder.buffered(), 0u);
  return std::move(**next);
}

TEST(RemainingLength, SpecTable2_4) {
  // §2.2.3 Table 2.4: the boundaries of each varint size.
  const std::pair<size_t, Bytes> cases[] = {
      {0, {0x00}},
      {127, {0x7f}},
      {128, {0x80, 0x01}},
      {16383, {0xff, 0x7f}},
      {16384, {0x80, 0x80, 0x01}},
      {2097151, {0xff, 0xff, 0x7f}},
      {2097152, {0x80, 0x80, 0x80, 0x01}},
      {268435455, {0xff, 0xff, 0xff, 0x7f}},
  };
  for (const auto& [length, wire] : cases) {
    Bytes out;
    encode_remaining_length(length, out);
    EXPECT_EQ(out, wire) << length;
    Bytes with_type{0x30};
    with_type.insert(with_type.end(), wire.begin(), wire.end());
    auto header = parse_fixed_header(with_type);
    ASSERT_TRUE(header && *header);
    EXPECT_EQ((*header)->remaining_length, length);
    EXPECT_EQ((*header)->header_size, wire.size() + 1);
  }
  auto five = parse_fixed_header(Bytes{0x30, 0xff, 0xff, 0xff, 0xff, 0x01});
  ASSERT_FALSE(five);
  EXPECT_NE(five.error().message.find("more than four bytes"), std::string::npos);
}

TEST(Connect, SpecFigure3_6VariableHeaderAndPayload) {
  // §3.1.2.10 Figure 3.6: "MQTT", level 4, flags 0xCE (user name, password, will QoS 1, will, clean
  // session), keep alive 10.
  Connect connect{.clean_session = true,
                  .keep_alive = 10,
                  .client_id = "id",
                  .will = Will{.topic = "w", .payload = {'x'}, .qos = 1, .retain = false},
                  .username = "u",
                  .password = Bytes{'p'}};
  Bytes wire = encoded(connect);
  const Bytes expected{0x10, 26,   0x00, 0x04, 'M', 'Q',  'T',  'T',  0x04, 0xce,
                       0x00, 0x0a, 0x00, 0x02, 'i', 'd',  0x00, 0x01, 'w',  0x00,
                       0x01, 'x',  0x00, 0x01, 'u', 0x00, 0x01, 'p'};
  EXPECT_EQ(wire, expected);
  auto decoded = decode_all(wire);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(std::get<Connect>(*decoded), connect);
}

TEST(Connect, MinimalAndProtocolLevel5Decoded) {
  Connect minimal{.clean_session = false, .keep_alive = 60, .client_id = "dev"};
  auto decoded = decode_all(encoded(minimal));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<Connect>(*decoded), minimal);
  // An MQTT 5 CONNECT with an empty property section (the 0x00 after the keep alive).
  const Bytes v5{0x10, 0x10, 0x00, 0x04, 'M',  'Q',  'T', 'T', 0x05,
                 0x02, 0x00, 0x3c, 0x00, 0x00, 0x03, 'a', 'b', 'c'};
  auto v5_decoded = decode_all(v5);
  ASSERT_TRUE(v5_decoded) << v5_decoded.error().message;
  EXPECT_EQ(std::get<Connect>(*v5_decoded).protocol_level, kProtocolLevel5);
  EXPECT_EQ(std::get<Connect>(*v5_decoded).client_id, "abc");
}

TEST(Connect, MalformedFlagsRefused) {
  auto with_flags = [](uint8_t flags) {
    return Bytes{0x10, 12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, flags, 0x00, 0x0a, 0x00, 0x00};
  };
  EXPECT_TRUE(decode_all(with_flags(0x02)));
  const std::pair<uint8_t, const char*> bad[] = {{0x03, "reserved bit 0"},
                                                 {0x1c, "QoS 3"},
                                                 {0x08, "without the will flag"},
                                                 {0x40, "without the user name"}};
  for (const auto& [flags, message] : bad) {
    auto result = decode_all(with_flags(flags));
    ASSERT_FALSE(result) << int(flags);
    EXPECT_NE(result.error().message.find(message), std::string::npos) << result.error().message;
  }
  auto wrong_name = decode_all(
      Bytes{0x10, 12, 0x00, 0x04, 'H', 'T', 'T', 'P', 0x04, 0x02, 0x00, 0x0a, 0x00, 0x00});
  ASSERT_FALSE(wrong_name);
  EXPECT_NE(wrong_name.error().message.find("not MQTT"), std::string::npos);
  // Client identifier length says 5, only 1 byte follows.
  auto short_id = decode_all(
      Bytes{0x10, 13, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x0a, 0x00, 0x05, 'a'});
  ASSERT_FALSE(short_id);
  EXPECT_NE(short_id.error().message.find("client identifier"), std::string::npos);
}

TEST(Connack, EncodeDecode) {
  EXPECT_EQ(encoded(Connack{.session_present = true}), (Bytes{0x20, 0x02, 0x01, 0x00}));
  EXPECT_EQ(encoded(Connack{.return_code = ConnectReturnCode::not_authorized}),
            (Bytes{0x20, 0x02, 0x00, 0x05}));
  EXPECT_FALSE(decode_all(Bytes{0x20, 0x02, 0x00, 0x06}));  // reserved return code
  EXPECT_FALSE(decode_all(Bytes{0x20, 0x02, 0x02, 0x00}));  // reserved flag bit
  EXPECT_FALSE(decode_all(Bytes{0x21, 0x02, 0x00, 0x00}));  // fixed-header flags must be 0
}

TEST(Publish, SpecFigure3_11VariableHeader) {
  // §3.3.2.3 Figure 3.11: topic "a/b", packet identifier 10.
  Publish publish{.topic = "a/b", .payload = {1, 2, 3}, .qos = 1, .retain = true, .packet_id = 10};
  const Bytes expected{0x33, 10, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 1, 2, 3};
  EXPECT_EQ(encoded(publish), expected);
  auto decoded = decode_all(expected);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<Publish>(*decoded), publish);
  Publish qos0{.topic = "t", .payload = {}};
  EXPECT_EQ(encoded(qos0), (Bytes{0x30, 0x03, 0x00, 0x01, 't'}));
}

TEST(Publish, MalformedRefused) {
  EXPECT_FALSE(decode_all(Bytes{0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01}));  // QoS 3
  EXPECT_FALSE(decode_all(Bytes{0x38, 0x03, 0x00, 0x01, 't'}));              // DUP on QoS 0
  EXPECT_FALSE(decode_all(Bytes{0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}));  // packet id 0
  EXPECT_FALSE(decode_all(Bytes{0x32, 0x04, 0x00, 0x01, 't', 0x00}));        // packet id cut short
  auto bad_utf8 = decode_all(Bytes{0x30, 0x04, 0x00, 0x02, 0xc0, 0x80});     // overlong NUL
  ASSERT_FALSE(bad_utf8);
  EXPECT_NE(bad_utf8.error().message.find("UTF-8"), std::string::npos);
  EXPECT_FALSE(encode_packet(Publish{.topic = "t", .qos = 1}));  // no packet id
}

TEST(Acks, PacketIdOnly) {
  EXPECT_EQ(encoded(Puback{7}), (Bytes{0x40, 0x02, 0x00, 0x07}));
  EXPECT_EQ(encoded(Pubrel{7}), (Bytes{0x62, 0x02, 0x00, 0x07}));  // §3.6.1: flags 0010
  EXPECT_EQ(encoded(Unsuback{0x1234}), (Bytes{0xb0, 0x02, 0x12, 0x34}));
  auto puback = decode_all(Bytes{0x40, 0x02, 0x00, 0x07});
  ASSERT_TRUE(puback);
  EXPECT_EQ(std::get<Puback>(*puback).packet_id, 7);
  EXPECT_FALSE(decode_all(Bytes{0x40, 0x03, 0x00, 0x07, 0x00}));  // trailing byte
  EXPECT_FALSE(decode_all(Bytes{0x60, 0x02, 0x00, 0x07}));        // PUBREL without flags 0010
}

TEST(Subscribe, SpecFigure3_22Payload) {
  // §3.8.3 Figure 3.22: "a/b" QoS 1, "c/d" QoS 2; packet identifier 10 (Figure 3.21).
  Subscribe subscribe{.packet_id = 10, .subscriptions = {{"a/b", 1}, {"c/d", 2}}};
  const Bytes expected{0x82, 14,   0x00, 0x0a, 0x00, 0x03, 'a', '/',
                       'b',  0x01, 0x00, 0x03, 'c',  '/',  'd', 0x02};
  EXPECT_EQ(encoded(subscribe), expected);
  auto decoded = decode_all(expected);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<Subscribe>(*decoded), subscribe);
  EXPECT_FALSE(decode_all(Bytes{0x80, 0x02, 0x00, 0x0a}));                         // flags 0000
  EXPECT_FALSE(decode_all(Bytes{0x82, 0x02, 0x00, 0x0a}));                         // no filter
  EXPECT_FALSE(decode_all(Bytes{0x82, 0x06, 0x00, 0x0a, 0x00, 0x01, 'a', 0x04}));  // reserved bits
}

TEST(Suback, SpecFigure3_26Payload) {
  // §3.9.3 Figure 3.26: success QoS 0, success QoS 2, failure.
  Suback suback{.packet_id = 10, .return_codes = {0x00, 0x02, 0x80}};
  const Bytes expected{0x90, 0x05, 0x00, 0x0a, 0x00, 0x02, 0x80};
  EXPECT_EQ(encoded(suback), expected);
  auto decoded = decode_all(expected);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<Suback>(*decoded), suback);
  EXPECT_FALSE(decode_all(Bytes{0x90, 0x03, 0x00, 0x0a, 0x03}));
}

TEST(Unsubscribe, SpecFigure3_30Payload) {
  // §3.10.3 Figure 3.30: "a/b", "c/d".
  Unsubscribe unsubscribe{.packet_id = 10, .filters = {"a/b", "c/d"}};
  const Bytes expected{0xa2, 12, 0x00, 0x0a, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x03, 'c', '/', 'd'};
  EXPECT_EQ(encoded(unsubscribe), expected);
  auto decoded = decode_all(expected);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<Unsubscribe>(*decoded), unsubscribe);
}

TEST(Empty, PingAndDisconnect) {
  EXPECT_EQ(encoded(Pingreq{}), (Bytes{0xc0, 0x00}));
  EXPECT_EQ(encoded(Pingresp{}), (Bytes{0xd0, 0x00}));
  EXPECT_EQ(encoded(Disconnect{}), (Bytes{0xe0, 0x00}));
  auto ping = decode_all(Bytes{0xc0, 0x00});
  ASSERT_TRUE(ping);
  EXPECT_EQ(packet_type(*ping), PacketType::pingreq);
  EXPECT_FALSE(decode_all(Bytes{0xc0, 0x01, 0x00}));
  EXPECT_FALSE(decode_all(Bytes{0xe1, 0x00}));
  EXPECT_FALSE(decode_all(Bytes{0x00, 0x00}));  // reserved type 0
  EXPECT_FALSE(decode_all(Bytes{0xf0, 0x00}));  // reserved type 15
}

TEST(StreamDecoder, ByteByByteAndMaximumSize) {
  Bytes stream;
  for (const Packet& packet :
       {Packet{Pingreq{}}, Packet{Publish{.topic = "a/b", .payload = {9, 9}}},
        Packet{Subscribe{.packet_id = 1, .subscriptions = {{"x/#", 1}}}}}) {
    ASSERT_TRUE(encode_packet(packet, stream));
  }
  StreamDecoder decoder;
  std::vector<PacketType> seen;
  for (uint8_t byte : stream) {
    decoder.feed(ByteView(&byte, 1));
    while (true) {
      auto next = decoder.next();
      ASSERT_TRUE(next);
      if (!*next) break;
      seen.push_back(packet_type(**next));
    }
  }
  EXPECT_EQ(seen, (std::vector<PacketType>{PacketType::pingreq, PacketType::publish,
                                           PacketType::subscribe}));

  // The size check fires on the fixed header alone, before the body is buffered.
  StreamDecoder small(16);
  small.feed(Bytes{0x30, 0x80, 0x01});
  auto refused = small.next();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("exceeds the maximum"), std::string::npos);
  EXPECT_FALSE(small.next());  // sticky
}

TEST(StreamDecoder, ReleaseBufferKeepsPendingBytes) {
  Bytes big;
  ASSERT_TRUE(encode_packet(Publish{.topic = "big", .payload = Bytes(100000, 7)}, big));
  Bytes ping;
  ASSERT_TRUE(encode_packet(Pingreq{}, ping));
  StreamDecoder decoder;
  decoder.feed(big);
  decoder.feed(ByteView(ping).first(1));  // half a PINGREQ stays pending
  auto first = decoder.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(std::get<Publish>(**first).payload.size(), 100000u);
  decoder.release_buffer(1024);  // a partial packet is pending: nothing is dropped
  EXPECT_EQ(decoder.buffered(), 1u);
  decoder.feed(ByteView(ping).subspan(1));
  auto second = decoder.next();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(packet_type(**second), PacketType::pingreq);
  decoder.release_buffer(1024);  // drained: the 100 KB buffer goes, decoding goes on
  EXPECT_EQ(decoder.buffered(), 0u);
  decoder.feed(ping);
  auto third = decoder.next();
  ASSERT_TRUE(third && *third);
  EXPECT_EQ(packet_type(**third), PacketType::pingreq);
}

TEST(Utf8, MqttRules) {
  EXPECT_TRUE(is_valid_mqtt_utf8("a/b"));
  EXPECT_TRUE(is_valid_mqtt_utf8("\xc3\xa9t\xc3\xa9"));  // été
  EXPECT_TRUE(is_valid_mqtt_utf8("\xf0\x9f\x98\x80"));   // U+1F600
  EXPECT_FALSE(is_valid_mqtt_utf8(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_valid_mqtt_utf8("\xed\xa0\x80"));  // surrogate U+D800
  EXPECT_FALSE(is_valid_mqtt_utf8("\xe0\x80\xaf"));  // overlong
  EXPECT_FALSE(is_valid_mqtt_utf8("\xc3"));          // truncated
  EXPECT_FALSE(is_valid_mqtt_utf8("\xff"));
}

}  // namespace
}  // namespace zt::mqtt
