#include "common/json.hpp"

#include <gtest/gtest.h>

namespace zt {
namespace {

using nlohmann::json;

std::string nested(int levels, char open = '[', char close = ']') {
  return std::string(levels, open) + std::string(levels, close);
}

TEST(ClientJson, ParsesUpToTheDepthLimitAndStopsBeyondIt) {
  ASSERT_TRUE(parse_json(nested(kMaxJsonDepth)));
  auto too_deep = parse_json(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(too_deep);
  EXPECT_EQ(too_deep.error().code, Errc::invalid_argument);
  EXPECT_NE(too_deep.error().message.find(std::to_string(kMaxJsonDepth)), std::string::npos);
  // The attack of issue 12: 65,000 levels in 128 KB; refused, nothing deep is built.
  EXPECT_FALSE(parse_json(nested(65000)));
  std::string objects;
  for (int i = 0; i < 65000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65000, '}');
  EXPECT_EQ(parse_json(objects).error().code, Errc::invalid_argument);
  EXPECT_EQ(parse_json("{\"a\":").error().code, Errc::parse);
  EXPECT_EQ(parse_json("").error().code, Errc::parse);
  EXPECT_EQ(*parse_json(R"({"a":[1,{"b":null}]})"), json::parse(R"({"a":[1,{"b":null}]})"));
  EXPECT_TRUE(parse_json(nested(3), 3));
  EXPECT_FALSE(parse_json(nested(4), 3));
}

TEST(ClientJson, MembersOfTheWrongTypeAreErrorsNamingThem) {
  json body = json::parse(
      R"({"s":"x","b":true,"i":7,"u":18446744073709551615,"f":1.5,"o":{},"a":[],"n":null})");
  EXPECT_EQ(*string_member(body, "s").value(), "x");
  EXPECT_FALSE(string_member(body, "missing").value());
  EXPECT_FALSE(string_member(body, "n").value());  // null is absent
  auto wrong = string_member(body, "b", "attributePayload.b");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::invalid_argument);
  EXPECT_EQ(wrong.error().message, "attributePayload.b must be a string");
  EXPECT_EQ(bool_member(body, "s").error().message, "s must be a boolean");
  EXPECT_TRUE(*bool_member(body, "b").value());
  EXPECT_EQ(*integer_member(body, "i").value(), 7);
  EXPECT_FALSE(integer_member(body, "u"));  // beyond int64_t
  EXPECT_FALSE(integer_member(body, "f"));
  EXPECT_FALSE(integer_member(body, "s"));
  EXPECT_EQ(integer_member(body, "i", "qos", 0, 1).error().message,
            "qos must be an integer from 0 to 1");
  EXPECT_NE(object_member(body, "o").value(), nullptr);
  EXPECT_EQ(object_member(body, "n").value(), nullptr);
  EXPECT_FALSE(object_member(body, "a"));
  EXPECT_NE(array_member(body, "a").value(), nullptr);
  EXPECT_FALSE(array_member(body, "o"));
  // A document that is not an object has no members.
  EXPECT_FALSE(string_member(json(1), "s").value());
  EXPECT_FALSE(object_member(json::array(), "o").value());
}

}  // namespace
}  // namespace zt
