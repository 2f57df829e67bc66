// The AWS IoT rules SQL subset (reference/aws-iot.md §7, SQL version 2016-03-23):
//   SELECT <* | expr [AS alias], …> FROM '<topic filter>' [WHERE <condition>]
// Expressions: literals, dotted paths (a.b[0].c), = <> != < <= > >=, AND OR NOT, + - * / %,
// parentheses, and the functions topic(), topic(n), clientid(), principal(), timestamp(),
// accountid(), newuuid(), upper, lower, concat, startswith, endswith, isNull, isUndefined,
// get_user_properties(key) and get_mqtt_property(name) (MQTT 5, mqtt_functions.hpp). Missing
// keys are Undefined: a field that evaluates to Undefined is left out, and a WHERE that is
// Undefined does not match.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::rules {

using nlohmann::json;

// MQTT 5 user properties (name, value), in the order the client sent them; a name may repeat.
using UserProperties = std::vector<std::pair<std::string, std::string>>;

// What the engine knows about the message being evaluated.
struct MessageContext {
  std::string topic;
  std::string payload;  // raw bytes; parsed as JSON when possible
  std::string client_id = "n/a";
  std::string principal;  // certificate id of the publisher
  std::string account_id;
  int64_t timestamp_ms = 0;
  // MQTT 5 (an MQTT 5 PUBLISH's properties, an HTTP Publish's MQTT 5 parameters); none for 3.1.1.
  UserProperties user_properties{};
  std::optional<bool> payload_utf8{};  // payload format indicator: UTF8_DATA (true) or bytes
  std::optional<std::string> content_type{};
  std::optional<std::string> response_topic{};
  std::optional<std::string> correlation_data{};  // binary
};

struct Expression;  // opaque syntax tree

class Query {
 public:
  Query(Query&&) noexcept;
  Query& operator=(Query&&) noexcept;
  ~Query();

  const std::string& topic_filter() const { return topic_filter_; }
  // The SELECT output for a message the FROM filter matched, or nullopt when WHERE rejects it.
  std::optional<json> evaluate(const MessageContext& message) const;

 private:
  friend Result<Query> parse_query(std::string_view sql);
  Query();
  struct Item;
  std::string topic_filter_;
  std::vector<Item> items_;
  std::unique_ptr<Expression> where_;
};

// Parses a rule's SQL; errors name the position and what was expected.
Result<Query> parse_query(std::string_view sql);

// Expands ${expr} templates in action parameters (republish topic, lambda ARN): `${topic(2)}`,
// `${clientid()}`.
Result<std::string> expand_template(std::string_view text, const MessageContext& message);

}  // namespace zt::cloud::rules
