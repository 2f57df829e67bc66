#include "broker/shared_subscriptions.hpp"

#include <algorithm>

#include "broker/session.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::broker {

std::optional<Result<SharedFilter>> parse_shared_filter(std::string_view filter) {
  constexpr std::string_view kPrefix = "$share/";
  if (!filter.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = filter.substr(kPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return Result<SharedFilter>(
        make_error(Errc::invalid_argument, "a shared subscription is $share/<name>/<filter>"));
  }
  SharedFilter shared{rest.substr(0, slash), rest.substr(slash + 1)};
  // §4.8.2: the ShareName MUST NOT contain "/", "+" or "#".
  if (shared.share_name.find_first_of("+#") != std::string_view::npos) {
    return Result<SharedFilter>(
        make_error(Errc::invalid_argument, "a share name cannot contain '+' or '#'"));
  }
  if (auto valid = mqtt::validate_topic_filter(shared.filter); !valid)
    return Result<SharedFilter>(valid.error());
  return Result<SharedFilter>(shared);
}

Status validate_subscription_filter(std::string_view filter) {
  if (auto shared = parse_shared_filter(filter)) {
    if (!*shared) return shared->error();
    return ok();
  }
  return mqtt::validate_topic_filter(filter);
}

void SharedSubscriptions::add(const SharedFilter& shared, const std::shared_ptr<Session>& session,
                              uint8_t qos) {
  std::lock_guard lock(mutex_);
  auto group = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) {
    return g.share_name == shared.share_name && g.filter == shared.filter;
  });
  if (group == groups_.end()) {
    groups_.push_back(Group{std::string(shared.share_name), std::string(shared.filter), {}, 0});
    group = groups_.end() - 1;
  }
  for (auto& member : group->members) {
    if (member.session == session) {
      member.qos = qos;
      return;
    }
  }
  group->members.push_back(Subscriber{session, qos, {}});
}

bool SharedSubscriptions::remove(const SharedFilter& shared, const Session* session) {
  std::lock_guard lock(mutex_);
  for (auto group = groups_.begin(); group != groups_.end(); ++group) {
    if (group->share_name != shared.share_name || group->filter != shared.filter) continue;
    auto& members = group->members;
    auto it = std::find_if(members.begin(), members.end(),
                           [&](const Subscriber& s) { return s.session.get() == session; });
    if (it == members.end()) return false;
    members.erase(it);
    if (members.empty()) groups_.erase(group);
    return true;
  }
  return false;
}

void SharedSubscriptions::match(std::string_view topic, std::vector<Subscriber>& out) {
  std::lock_guard lock(mutex_);
  for (auto& group : groups_) {
    if (!mqtt::topic_matches(group.filter, topic)) continue;
    size_t count = group.members.size();
    // The next connected member in turn; an offline persistent one only when none is connected
    // (its session queues the message).
    size_t chosen = group.next % count;
    for (size_t i = 0; i < count; ++i) {
      size_t candidate = (group.next + i) % count;
      if (group.members[candidate].session->attached()) {
        chosen = candidate;
        break;
      }
    }
    group.next = chosen + 1;
    out.push_back(group.members[chosen]);
  }
}

size_t SharedSubscriptions::group_count() const {
  std::lock_guard lock(mutex_);
  return groups_.size();
}

}  // namespace zt::cloud::broker
