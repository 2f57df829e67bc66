#include <gtest/gtest.h>

#include "common/hex.hpp"
#include "secure_element/crc.hpp"
#include "secure_element/packet.hpp"

namespace zt::se {
namespace {

Bytes hex(std::string_view text) { return from_hex(text).value(); }

// Microchip's published example: Info command 07 30 00 00 00 has CRC 03 5D.
TEST(Crc, InfoCommandKnownAnswer) {
  const auto crc = crc16_le(hex("0730000000"));
  EXPECT_EQ(crc[0], 0x03);
  EXPECT_EQ(crc[1], 0x5D);
  EXPECT_EQ(to_hex(encode_command(Opcode::info, 0x00, 0x0000)),
            "07300000000"
            "35d");
}

// The datasheet's wake answer 04 11 33 43 is a status packet (0x11) whose CRC is 33 43.
TEST(Crc, WakeAnswer) { EXPECT_EQ(to_hex(wake_response()), "04113343"); }

TEST(Crc, EmptyInputIsZero) { EXPECT_EQ(crc16({}), 0); }

TEST(Packet, CommandRoundTrip) {
  const Bytes data = hex("00112233445566778899aabbccddeeff00112233");
  const Bytes packet = encode_command(Opcode::nonce, 0x01, 0x1234, data);
  ASSERT_EQ(packet.size(), 7 + data.size());
  EXPECT_EQ(packet[0], packet.size());
  EXPECT_EQ(packet[3], 0x34);  // param2 little-endian
  EXPECT_EQ(packet[4], 0x12);
  const DecodedCommand decoded = decode_command(packet);
  ASSERT_EQ(decoded.fault, PacketFault::none);
  EXPECT_EQ(decoded.command.opcode, 0x16);
  EXPECT_EQ(decoded.command.param1, 0x01);
  EXPECT_EQ(decoded.command.param2, 0x1234);
  EXPECT_EQ(decoded.command.data, data);
}

TEST(Packet, CorruptedCrcIsDetected) {
  Bytes packet = encode_command(Opcode::info, 0, 0);
  packet.back() ^= 0x01;
  EXPECT_EQ(decode_command(packet).fault, PacketFault::crc);
  packet = encode_command(Opcode::info, 0, 0);
  packet[2] ^= 0x80;  // flip a payload bit: CRC no longer matches
  EXPECT_EQ(decode_command(packet).fault, PacketFault::crc);
}

TEST(Packet, FramingErrors) {
  Bytes packet = encode_command(Opcode::info, 0, 0);
  packet[0] = 8;  // count disagrees with length
  EXPECT_EQ(decode_command(packet).fault, PacketFault::framing);
  EXPECT_EQ(decode_command(hex("053000")).fault, PacketFault::framing);  // shorter than 7
  EXPECT_EQ(decode_command({}).fault, PacketFault::framing);
  Bytes huge(152, 0);
  huge[0] = 152;
  EXPECT_EQ(decode_command(huge).fault, PacketFault::framing);  // longer than 151
}

TEST(Packet, ResponseDecoding) {
  const Bytes response = encode_response(hex("00005000"));
  EXPECT_EQ(response.size(), 7u);
  EXPECT_EQ(decode_response(response).value(), hex("00005000"));
  Bytes bad = response;
  bad[2] ^= 1;
  EXPECT_FALSE(decode_response(bad).has_value());
  EXPECT_FALSE(decode_response(hex("0400")).has_value());
}

TEST(Packet, Addressing) {
  // calib_get_addr: config/OTP block << 3 | offset; data slot << 3 | offset | block << 8.
  EXPECT_EQ(encode_address(Zone::config, 0, 2, 5), 0x15);
  EXPECT_EQ(encode_address(Zone::otp, 0, 1, 0), 0x08);
  EXPECT_EQ(encode_address(Zone::data, 8, 12, 3), (8 << 3) | 3 | (12 << 8));
}

}  // namespace
}  // namespace zt::se
