#include "cloud/rules/republish.hpp"

#include <charconv>

#include "cloud/rules/rule.hpp"
#include "common/hex.hpp"
#include "common/json.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::rules {
namespace {

// API reference, MqttHeaders and UserProperty: every string 0–1024 characters; userProperties 1–100
// entries.
constexpr size_t kMaxHeaderLength = 1024;
constexpr size_t kMaxUserProperties = 100;

bool has_template(std::string_view text) { return text.find("${") != std::string_view::npos; }

std::optional<uint32_t> expiry_seconds(std::string_view text) {
  uint32_t seconds = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return seconds;
}

// MQTT 5.0 §3.3.2.3.5: the Response Topic is a topic name (no wildcards; AWS's topic limits).
bool valid_response_topic(std::string_view topic) {
  return static_cast<bool>(mqtt::validate_topic_name(topic));
}

// A string header: absent, or at most 1024 characters with templates that parse.
Result<std::optional<std::string>> header(const json& headers, const char* key,
                                          const std::string& where) {
  std::string name = where + "." + key;
  ZT_TRY_ASSIGN(auto value, string_member(headers, key, name));
  if (!value) return value;
  if (value->size() > kMaxHeaderLength) {
    return make_error(Errc::invalid_argument, name + " must be at most " +
                                                  std::to_string(kMaxHeaderLength) + " characters");
  }
  ZT_TRY(check_templates(*value, name));
  return value;
}

// Literal (template-free) values are checked once, here; templated ones on each message.
Status check_literal(const MqttHeaders& out, const std::string& where) {
  auto literal = [](const std::optional<std::string>& value) {
    return value && !has_template(*value);
  };
  if (literal(out.payload_format_indicator) &&
      !payload_format_indicator(*out.payload_format_indicator)) {
    return make_error(Errc::invalid_argument, where +
                                                  ".payloadFormatIndicator must be "
                                                  "UNSPECIFIED_BYTES or UTF8_DATA");
  }
  if (literal(out.correlation_data) && !base64_decode(*out.correlation_data)) {
    return make_error(Errc::invalid_argument, where + ".correlationData must be base64-encoded");
  }
  if (literal(out.message_expiry) && !expiry_seconds(*out.message_expiry)) {
    return make_error(Errc::invalid_argument,
                      where + ".messageExpiry must be a whole number of seconds");
  }
  if (literal(out.response_topic) && !valid_response_topic(*out.response_topic)) {
    return make_error(Errc::invalid_argument,
                      where + ".responseTopic must be a topic name without wildcards");
  }
  return ok();
}

Result<std::optional<std::string>> expand(const std::optional<std::string>& text,
                                          const MessageContext& message) {
  if (!text) return std::optional<std::string>();
  ZT_TRY_ASSIGN(auto value, expand_template(*text, message));
  return std::optional<std::string>(std::move(value));
}

}  // namespace

std::optional<bool> payload_format_indicator(std::string_view text) {
  if (text == "UTF8_DATA") return true;
  if (text == "UNSPECIFIED_BYTES") return false;
  return std::nullopt;
}

Result<MqttHeaders> parse_mqtt_headers(const json& headers, const std::string& where) {
  if (!headers.is_object()) return make_error(Errc::invalid_argument, where + " must be an object");
  MqttHeaders out;
  ZT_TRY_ASSIGN(out.payload_format_indicator, header(headers, "payloadFormatIndicator", where));
  ZT_TRY_ASSIGN(out.content_type, header(headers, "contentType", where));
  ZT_TRY_ASSIGN(out.correlation_data, header(headers, "correlationData", where));
  ZT_TRY_ASSIGN(out.message_expiry, header(headers, "messageExpiry", where));
  ZT_TRY_ASSIGN(out.response_topic, header(headers, "responseTopic", where));
  ZT_TRY_ASSIGN(const json* properties,
                array_member(headers, "userProperties", where + ".userProperties"));
  if (properties) {
    if (properties->empty() || properties->size() > kMaxUserProperties) {
      return make_error(Errc::invalid_argument, where + ".userProperties must have 1 to " +
                                                    std::to_string(kMaxUserProperties) +
                                                    " entries");
    }
    for (size_t i = 0; i < properties->size(); ++i) {
      const json& entry = (*properties)[i];
      std::string name = where + ".userProperties[" + std::to_string(i) + "]";
      if (!entry.is_object())
        return make_error(Errc::invalid_argument, name + " must be an object");
      ZT_TRY_ASSIGN(auto key, header(entry, "key", name));
      ZT_TRY_ASSIGN(auto value, header(entry, "value", name));
      if (!key || !value)
        return make_error(Errc::invalid_argument, name + " needs a key and a value");
      out.user_properties.push_back({std::move(*key), std::move(*value)});
    }
  }
  ZT_TRY(check_literal(out, where));
  return out;
}

Result<PublishProperties> publish_properties(const MqttHeaders& headers,
                                             const MessageContext& message) {
  PublishProperties out;
  out.user_properties = message.user_properties;
  ZT_TRY_ASSIGN(auto indicator, expand(headers.payload_format_indicator, message));
  if (indicator) {
    out.payload_utf8 = payload_format_indicator(*indicator);
    if (!out.payload_utf8) {
      return make_error(Errc::invalid_argument, "payloadFormatIndicator '" +
                                                    indicator->substr(0, 80) +
                                                    "' is not UNSPECIFIED_BYTES or UTF8_DATA");
    }
  }
  ZT_TRY_ASSIGN(out.content_type, expand(headers.content_type, message));
  ZT_TRY_ASSIGN(auto correlation, expand(headers.correlation_data, message));
  if (correlation) {
    auto decoded = base64_decode(*correlation);
    if (!decoded)
      return make_error(Errc::invalid_argument, "correlationData is not base64-encoded");
    out.correlation_data = std::string(decoded->begin(), decoded->end());
  }
  ZT_TRY_ASSIGN(auto expiry, expand(headers.message_expiry, message));
  if (expiry) {
    out.message_expiry_interval = expiry_seconds(*expiry);
    if (!out.message_expiry_interval) {
      return make_error(Errc::invalid_argument,
                        "messageExpiry '" + expiry->substr(0, 80) + "' is not a whole number");
    }
  }
  ZT_TRY_ASSIGN(out.response_topic, expand(headers.response_topic, message));
  if (out.response_topic && !valid_response_topic(*out.response_topic)) {
    return make_error(
        Errc::invalid_argument,
        "responseTopic '" + out.response_topic->substr(0, 80) + "' is not a topic name");
  }
  for (const auto& [key, value] : headers.user_properties) {
    ZT_TRY_ASSIGN(auto expanded_key, expand_template(key, message));
    ZT_TRY_ASSIGN(auto expanded_value, expand_template(value, message));
    out.user_properties.emplace_back(std::move(expanded_key), std::move(expanded_value));
  }
  return out;
}

}  // namespace zt::cloud::rules
