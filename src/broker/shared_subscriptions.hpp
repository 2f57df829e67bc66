// Shared subscriptions, `$share/<ShareName>/<TopicFilter>` (MQTT 5 §4.8.2; AWS IoT Core supports
// them for MQTT 3.1.1 and 5 clients alike): the sessions subscribed with the same share name and
// filter form a group, and each matching message goes to one member of the group, in turn.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/subscriptions.hpp"
#include "common/result.hpp"

namespace zt::cloud::broker {

struct SharedFilter {
  std::string_view share_name;
  std::string_view filter;
};

// The parts of a `$share/` filter, nullopt for any other filter. An invalid one (empty share name,
// one with `+`, `#`, or no filter after it: §4.8.2) is an error.
std::optional<Result<SharedFilter>> parse_shared_filter(std::string_view filter);

// A SUBSCRIBE filter as AWS accepts it: a topic filter (mqtt/topic.hpp) or a valid `$share/` one.
Status validate_subscription_filter(std::string_view filter);

class SharedSubscriptions {
 public:
  // Adds or replaces (new QoS) the membership of `session` in the group `shared` names.
  void add(const SharedFilter& shared, const std::shared_ptr<Session>& session, uint8_t qos);
  bool remove(const SharedFilter& shared, const Session* session);
  // Appends one member of every group whose filter matches `topic`: the next in turn among the
  // members that are connected, or the next of all when none is.
  void match(std::string_view topic, std::vector<Subscriber>& out);
  size_t group_count() const;

 private:
  struct Group {
    std::string share_name;
    std::string filter;
    std::vector<Subscriber> members;
    size_t next = 0;
  };
  mutable std::mutex mutex_;
  std::vector<Group> groups_;  // few: a linear scan per message
};

}  // namespace zt::cloud::broker
