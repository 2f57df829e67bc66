#include "cloud/rules/mqtt_functions.hpp"

#include "common/hex.hpp"

namespace zt::cloud::rules {
namespace {

std::optional<json> text(const std::optional<std::string>& value) {
  return value ? std::optional<json>(json(*value)) : std::nullopt;
}

std::optional<json> mqtt_property(std::string_view name, const MessageContext& message) {
  if (name == "content_type") return text(message.content_type);
  if (name == "response_topic") return text(message.response_topic);
  if (name == "format_indicator" && message.payload_utf8)
    return json(*message.payload_utf8 ? "UTF8_DATA" : "UNSPECIFIED_BYTES");
  if (name == "correlation_data" && message.correlation_data) {
    const std::string& data = *message.correlation_data;
    return json(
        base64_encode(ByteView(reinterpret_cast<const uint8_t*>(data.data()), data.size())));
  }
  return std::nullopt;
}

}  // namespace

bool is_mqtt_function(std::string_view name) {
  return name == "get_user_properties" || name == "get_mqtt_property";
}

std::optional<json> mqtt_function(std::string_view name,
                                  const std::vector<std::optional<json>>& args,
                                  const MessageContext& message) {
  if (args.size() != 1 || !args[0] || !args[0]->is_string()) return std::nullopt;
  const std::string& key = args[0]->get_ref<const std::string&>();
  if (name == "get_mqtt_property") return mqtt_property(key, message);
  json values = json::array();
  for (const auto& [property, value] : message.user_properties)
    if (property == key) values.push_back(value);
  return values.empty() ? std::nullopt : std::optional<json>(std::move(values));
}

}  // namespace zt::cloud::rules
