// The republish action's MQTT 5 side: RepublishAction.headers (API reference, MqttHeaders) and the
// properties a republished message carries. Every header is a substitution template, expanded per
// message; the republished message keeps the triggering message's user properties (issue 18) and
// gets the headers' userProperties after them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/rules/sql.hpp"

namespace zt::cloud::rules {

// RepublishAction.headers as the rule stores it: templates, not yet expanded.
struct MqttHeaders {
  struct UserProperty {
    std::string key;
    std::string value;
  };
  std::optional<std::string> payload_format_indicator;  // UNSPECIFIED_BYTES | UTF8_DATA
  std::optional<std::string> content_type;
  std::optional<std::string> correlation_data;  // base64 of the binary correlation data
  std::optional<std::string> message_expiry;    // seconds, a whole number
  std::optional<std::string> response_topic;
  std::vector<UserProperty> user_properties;
};

// The MQTT 5 Payload Format Indicator of AWS's enum (MqttHeaders, iot-data Publish): UTF8_DATA →
// true (1), UNSPECIFIED_BYTES → false (0), anything else nullopt.
std::optional<bool> payload_format_indicator(std::string_view text);

// Validates RepublishAction.headers (`where` names it in errors): a JSON object of the MqttHeaders
// members, strings of at most 1024 characters whose ${…} templates parse; literal values (no
// template) are checked now: the payload format indicator's enum, base64 correlation data, a
// whole-number expiry, a response topic without wildcards. userProperties: 1–100 {key, value}.
Result<MqttHeaders> parse_mqtt_headers(const json& headers, const std::string& where);

// What a republished message carries besides topic and payload, templates expanded.
struct PublishProperties {
  std::optional<bool>
      payload_utf8;  // payload format indicator: true = UTF-8 (1), false = bytes (0)
  std::optional<std::string> content_type;
  std::optional<std::string> correlation_data;  // binary, decoded from base64
  std::optional<uint32_t> message_expiry_interval;
  std::optional<std::string> response_topic;
  UserProperties user_properties;  // the triggering message's, then the headers'
};

// The properties of the message a republish action sends for `message`. An error when a template
// expands to a value the header cannot take (the action then fails, as AWS fails it).
Result<PublishProperties> publish_properties(const MqttHeaders& headers,
                                             const MessageContext& message);

}  // namespace zt::cloud::rules
