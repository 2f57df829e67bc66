#include "cloud/service/http_publish.hpp"

#include <charconv>

#include "cloud/api/handler_util.hpp"
#include "common/hex.hpp"
#include "common/json.hpp"
#include "mqtt/packet.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::service {
namespace {

using nlohmann::json;

// AWS IoT Core quotas, MQTT 5: user properties of a message at most 8 KB in all.
constexpr size_t kMaxUserPropertiesBytes = 8 * 1024;

api::ApiResult<rules::UserProperties> user_properties(std::string_view header) {
  const char* name = "userProperties (x-amz-mqtt5-user-properties)";
  auto decoded = base64_decode(header);
  if (!decoded) return api::invalid_request(std::string(name) + " must be base64-encoded JSON");
  auto document =
      parse_json(std::string_view(reinterpret_cast<const char*>(decoded->data()), decoded->size()));
  // botocore's jsonvalue header: the JSON encoding of the documented JSON string.
  if (document && document->is_string()) document = parse_json(document->get<std::string>());
  if (!document || !document->is_array()) {
    return api::invalid_request(
        std::string(name) + " must be a JSON array of objects, e.g. [{\"deviceName\": \"alpha\"}]");
  }
  rules::UserProperties out;
  size_t bytes = 0;
  for (const json& entry : *document) {
    if (!entry.is_object())
      return api::invalid_request(std::string(name) + " must be a JSON array of objects");
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_string())
        return api::invalid_request(std::string(name) + ": the value of '" + key.substr(0, 80) +
                                    "' must be a string");
      bytes += key.size() + value.get_ref<const std::string&>().size();
      out.emplace_back(key, value.get<std::string>());
    }
  }
  if (bytes > kMaxUserPropertiesBytes)
    return api::invalid_request(std::string(name) + " exceed 8 KB");
  return out;
}

}  // namespace

api::ApiResult<rules::PublishProperties> http_publish_properties(const api::ApiRequest& request) {
  rules::PublishProperties out;
  if (auto header = request.header("x-amz-mqtt5-user-properties")) {
    ZT_API_TRY_ASSIGN(out.user_properties, user_properties(*header));
  }
  if (auto indicator = request.header("x-amz-mqtt5-payload-format-indicator")) {
    out.payload_utf8 = rules::payload_format_indicator(*indicator);
    if (!out.payload_utf8)
      return api::invalid_request("payloadFormatIndicator must be UNSPECIFIED_BYTES or UTF8_DATA");
    if (*out.payload_utf8 && !mqtt::is_valid_mqtt_utf8(request.body()))
      return api::invalid_request("the payload is not UTF-8 (payloadFormatIndicator UTF8_DATA)");
  }
  if (auto correlation = request.header("x-amz-mqtt5-correlation-data")) {
    auto decoded = base64_decode(*correlation);
    if (!decoded) return api::invalid_request("correlationData must be base64-encoded");
    out.correlation_data = std::string(decoded->begin(), decoded->end());
  }
  out.content_type = request.query_value("contentType");
  if (out.content_type && !mqtt::is_valid_mqtt_utf8(*out.content_type))
    return api::invalid_request("contentType must be UTF-8");
  if (auto topic = request.query_value("responseTopic")) {
    if (auto valid = mqtt::validate_topic_name(*topic); !valid)
      return api::invalid_request("responseTopic: " + valid.error().message);
    out.response_topic = std::move(*topic);
  }
  if (auto expiry = request.query_value("messageExpiry")) {
    uint32_t seconds = 0;
    auto [end, error] = std::from_chars(expiry->data(), expiry->data() + expiry->size(), seconds);
    if (expiry->empty() || error != std::errc() || end != expiry->data() + expiry->size())
      return api::invalid_request("messageExpiry must be a whole number of seconds");
    out.message_expiry_interval = seconds;
  }
  return out;
}

}  // namespace zt::cloud::service
