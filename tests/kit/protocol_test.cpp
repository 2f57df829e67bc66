#include "kit/protocol.hpp"

#include <gtest/gtest.h>

#include "common/hex.hpp"

namespace zt::kit {
namespace {

TEST(KitProtocol, RequestMatchesTheSeedWireFormat) {
  Request request{"init", json{{"version", "2.0.0"}}, 7};
  std::string line = encode_request(request);
  ASSERT_EQ(line.rfind("board:app(", 0), 0u);
  ASSERT_EQ(line.back(), '\n');
  std::string hex = line.substr(10, line.size() - 12);
  auto body = from_hex(hex);
  ASSERT_TRUE(body);
  EXPECT_EQ(json::parse(as_chars(*body)),
            json::parse(R"({"method":"init","params":{"version":"2.0.0"},"id":7})"));

  auto parsed = parse_command(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->target, "board:app");
  ASSERT_TRUE(parsed->request);
  EXPECT_EQ(parsed->request->method, "init");
  EXPECT_EQ(parsed->request->params["version"], "2.0.0");
  EXPECT_EQ(parsed->request->id, 7);
}

TEST(KitProtocol, RepliesCarryStatusResultAndErrors) {
  Reply ok_reply{0x00, 3, json{{"deviceSn", "0123aabbccddeeff01"}}, std::nullopt};
  std::string line = encode_reply(ok_reply);
  EXPECT_EQ(line.substr(0, 3), "00(");
  auto parsed = parse_reply(line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->status, 0);
  EXPECT_EQ(parsed->id, 3);
  EXPECT_EQ(parsed->result["deviceSn"], "0123aabbccddeeff01");
  EXPECT_FALSE(parsed->error);

  Reply failed{0x02, 4, nullptr, KitError{kUnknownCommand, "Unknown command"}};
  parsed = parse_reply(encode_reply(failed));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->status, 2);
  ASSERT_TRUE(parsed->error);
  EXPECT_EQ(parsed->error->code, 2);
  EXPECT_EQ(parsed->error->message, "Unknown command");
  EXPECT_TRUE(parsed->result.is_null());

  auto unknown = parse_reply(unknown_target_reply());
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 0xC0);
  EXPECT_TRUE(unknown->error);
}

TEST(KitProtocol, OtherTargetsAreRecognisedButCarryNoRequest) {
  auto parsed = parse_command("board:version()\n");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->target, "board:version");
  EXPECT_FALSE(parsed->request);
}

TEST(KitProtocol, FramingSplitsAndReassemblesAcrossReports) {
  Request request{"saveCredentials", json{{"deviceCert", std::string(900, 'a')}}, 1};
  std::string line = encode_request(request);
  auto reports = frame_line(line, kHostPadding);
  EXPECT_EQ(reports.size(), (line.size() + 63) / 64);
  EXPECT_EQ(reports.back().back(), kHostPadding);
  LineAssembler assembler(kHostPadding);
  std::vector<std::string> lines;
  for (const auto& report : reports) {
    auto out = assembler.feed(report);
    ASSERT_TRUE(out);
    lines.insert(lines.end(), out->begin(), out->end());
  }
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], line);
}

TEST(KitProtocol, OverlongLinesAreRefused) {
  LineAssembler assembler(kKitPadding);
  Report report;
  report.fill('a');
  Status failed = ok();
  for (size_t i = 0; i < kMaxLineBytes / kReportSize + 2 && failed; ++i) {
    auto out = assembler.feed(report);
    if (!out) failed = out.error();
  }
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("exceeds"), std::string::npos);
}

struct BadLine {
  const char* line;
  const char* message_part;
};
class KitProtocolRejects : public testing::TestWithParam<BadLine> {};
TEST_P(KitProtocolRejects, NamingTheProblem) {
  auto parsed = parse_command(GetParam().line);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find(GetParam().message_part), std::string::npos)
      << parsed.error().message;
}
INSTANTIATE_TEST_SUITE_P(
    Errors, KitProtocolRejects,
    testing::Values(BadLine{"board:app\n", "not of the form"},
                    BadLine{"board:app(zz)\n", "invalid hex"},
                    BadLine{"board:app(7b)\n", "not a JSON object"},  // "{"
                    BadLine{"board:app(7b7d)\n", "no string \"method\""},
                    BadLine{"board:app(7b226d6574686f64223a2278222c22706172616d73223a317d)\n",
                            "params"}));

}  // namespace
}  // namespace zt::kit
