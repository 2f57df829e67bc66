// The rules SQL functions over a message's MQTT 5 properties (AWS IoT SQL functions):
//   get_user_properties(userPropertyKey): every value the message's user properties give that key,
//     in the order sent, as an array (a key may repeat; one value is an array of one).
//   get_mqtt_property(name): the PUBLISH property `name` — content_type, format_indicator
//     ("UNSPECIFIED_BYTES" | "UTF8_DATA"), response_topic, or correlation_data (base64).
// Undefined when the message has no such property (an MQTT 3.1.1 message has none), for an unknown
// name, or for an argument that is not one string.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "cloud/rules/sql.hpp"

namespace zt::cloud::rules {

bool is_mqtt_function(std::string_view name);
// `args`: the evaluated arguments (nullopt = Undefined). nullopt = Undefined.
std::optional<json> mqtt_function(std::string_view name,
                                  const std::vector<std::optional<json>>& args,
                                  const MessageContext& message);

}  // namespace zt::cloud::rules
