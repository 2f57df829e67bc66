// iot-data Publish's MQTT 5 parameters (API reference, iot-data Publish) as botocore sends them:
// user properties as base64 of the JSON encoding of a JSON string (jsonvalue), and as a plain
// client's base64 JSON array; every malformed one is a 400 naming the parameter.
#include <gtest/gtest.h>

#include "cloud/service/http_publish.hpp"
#include "common/hex.hpp"

namespace zt::cloud::service {
namespace {

std::string b64(std::string_view text) {
  return base64_encode(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

api::ApiResult<rules::PublishProperties> properties(
    std::vector<std::pair<std::string, std::string>> headers,
    std::vector<std::pair<std::string, std::string>> query = {}, std::string body = "{}") {
  static aws::HttpRequest http;  // outlives the ApiRequest that points at it
  http = aws::HttpRequest{"POST", "/topics/t", std::move(headers), std::move(body)};
  api::ApiRequest request;
  request.http = &http;
  request.query = std::move(query);
  return http_publish_properties(request);
}

TEST(HttpPublishProperties, BotocoreAndPlainEncodingsOfUserProperties) {
  // boto3: userProperties='[{"deviceName": "alpha"}, {"deviceCnt": "45"}]' → json.dumps → base64.
  auto boto = properties(
      {{"x-amz-mqtt5-user-properties",
        b64(R"("[{\"deviceName\": \"alpha\"}, {\"deviceCnt\": \"45\"}, {\"deviceName\": \"b\"}]")")}});
  ASSERT_TRUE(boto) << boto.error().message;
  rules::UserProperties expected{{"deviceName", "alpha"}, {"deviceCnt", "45"}, {"deviceName", "b"}};
  EXPECT_EQ(boto->user_properties, expected);
  auto plain =
      properties({{"X-Amz-Mqtt5-User-Properties",
                   b64(R"([{"deviceName":"alpha"},{"deviceCnt":"45"},{"deviceName":"b"}])")}});
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->user_properties, expected);
}

TEST(HttpPublishProperties, TheOtherParameters) {
  auto out = properties({{"x-amz-mqtt5-payload-format-indicator", "UTF8_DATA"},
                         {"x-amz-mqtt5-correlation-data", b64(std::string("\0id", 3))}},
                        {{"contentType", "application/json"},
                         {"responseTopic", "replies/1"},
                         {"messageExpiry", "30"}});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->payload_utf8, true);
  EXPECT_EQ(out->correlation_data, std::string("\0id", 3));
  EXPECT_EQ(out->content_type, "application/json");
  EXPECT_EQ(out->response_topic, "replies/1");
  EXPECT_EQ(out->message_expiry_interval, 30u);
  auto none = properties({});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->user_properties.size() + none->payload_utf8.has_value() +
                none->correlation_data.has_value() + none->content_type.has_value() +
                none->response_topic.has_value() + none->message_expiry_interval.has_value(),
            0u);
}

TEST(HttpPublishProperties, MalformedParametersAre400s) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::pair<std::string, std::string>> query;
    std::string body;
    const char* named;
  };
  const std::string big(9000, 'v');
  const Case cases[] = {
      {{{"x-amz-mqtt5-user-properties", "%%%"}}, {}, "{}", "userProperties"},
      {{{"x-amz-mqtt5-user-properties", b64("{\"a\":\"1\"}")}}, {}, "{}", "userProperties"},
      {{{"x-amz-mqtt5-user-properties", b64("[\"a\"]")}}, {}, "{}", "userProperties"},
      {{{"x-amz-mqtt5-user-properties", b64("[{\"a\":1}]")}}, {}, "{}", "userProperties"},
      {{{"x-amz-mqtt5-user-properties", b64("[{\"a\":\"" + big + "\"}]")}},
       {},
       "{}",
       "userProperties"},
      {{{"x-amz-mqtt5-payload-format-indicator", "UTF-8"}}, {}, "{}", "payloadFormatIndicator"},
      {{{"x-amz-mqtt5-payload-format-indicator", "UTF8_DATA"}}, {}, "\xff\xfe", "UTF-8"},
      {{{"x-amz-mqtt5-correlation-data", "not base64!"}}, {}, "{}", "correlationData"},
      {{}, {{"responseTopic", "a/+"}}, "{}", "responseTopic"},
      {{}, {{"messageExpiry", "-5"}}, "{}", "messageExpiry"},
      {{}, {{"messageExpiry", "5000000000"}}, "{}", "messageExpiry"},
      {{}, {{"contentType", "\xc3"}}, "{}", "contentType"},
  };
  for (const auto& c : cases) {
    auto out = properties(c.headers, c.query, c.body);
    ASSERT_FALSE(out) << c.named;
    EXPECT_EQ(out.error().status, 400) << c.named;
    EXPECT_EQ(out.error().type, "InvalidRequestException");
    EXPECT_NE(out.error().message.find(c.named), std::string::npos) << out.error().message;
  }
}

}  // namespace
}  // namespace zt::cloud::service
