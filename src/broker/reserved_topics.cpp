#include "broker/reserved_topics.hpp"

#include <vector>

#include "mqtt/topic.hpp"

namespace zt::cloud::broker {
namespace {

bool is_shadow_request(std::string_view operation) {
  return operation == "get" || operation == "update" || operation == "delete";
}

// Fleet provisioning's request topics (AWS IoT developer guide, "Device provisioning MQTT API"):
// $aws/certificates/create/<fmt>, $aws/certificates/create-from-csr/<fmt> and
// $aws/provisioning-templates/<templateName>/provision/<fmt>, <fmt> = json | cbor. Their
// …/accepted and …/rejected answers are Subscribe only.
bool is_fleet_provisioning_request(const std::vector<std::string_view>& levels) {
  auto format = [](std::string_view level) { return level == "json" || level == "cbor"; };
  if (levels[1] == "certificates")
    return levels.size() == 4 && (levels[2] == "create" || levels[2] == "create-from-csr") &&
           format(levels[3]);
  return levels[1] == "provisioning-templates" && levels.size() == 5 && !levels[2].empty() &&
         levels[3] == "provision" && format(levels[4]);
}

}  // namespace

bool client_may_publish(std::string_view topic, ReservedTopics rules) {
  if (!topic.starts_with('$')) return true;
  if (rules == ReservedTopics::no_services)
    return topic.starts_with("$aws/things/") || topic.starts_with("$aws/rules/");
  auto levels = mqtt::split_topic_levels(topic);
  if (levels[0] != "$aws" || levels.size() < 3) return false;
  // Basic Ingest: $aws/rules/<rule>/<topic…> goes to that rule only.
  if (levels[1] == "rules") return levels.size() >= 4 && !levels[2].empty();
  if (is_fleet_provisioning_request(levels)) return true;
  if (levels[1] != "things" || levels[2].empty() || levels.size() < 5 || levels[3] != "shadow")
    return false;
  // $aws/things/<thing>/shadow/<op> and $aws/things/<thing>/shadow/name/<shadow>/<op>.
  if (levels.size() == 5) return is_shadow_request(levels[4]);
  return levels.size() == 7 && levels[4] == "name" && !levels[5].empty() &&
         is_shadow_request(levels[6]);
}

std::string_view reserved_topic_refusal(std::string_view topic, bool retain, ReservedTopics rules) {
  if (!topic.starts_with('$')) return {};
  if (!client_may_publish(topic, rules))
    return "clients may not publish to this reserved topic (AWS IoT: Subscribe only, or no such "
           "topic)";
  if (retain) return "RETAIN is not allowed on reserved topics";
  return {};
}

}  // namespace zt::cloud::broker
