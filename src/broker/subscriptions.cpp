#include "broker/subscriptions.hpp"

#include <algorithm>
#include <mutex>

#include "mqtt/topic.hpp"

namespace zt::cloud::broker {

struct SubscriptionTrie::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>> children;
  std::unordered_map<const Session*, Subscriber> subscribers;
};

SubscriptionTrie::SubscriptionTrie() : root_(std::make_unique<Node>()) {}
SubscriptionTrie::~SubscriptionTrie() = default;

void SubscriptionTrie::add(std::string_view filter, const std::shared_ptr<Session>& session,
                           uint8_t qos, SubscriptionOptions options) {
  std::unique_lock lock(mutex_);
  Node* node = root_.get();
  for (std::string_view level : mqtt::split_topic_levels(filter)) {
    auto& child = node->children[std::string(level)];
    if (!child) child = std::make_unique<Node>();
    node = child.get();
  }
  auto [it, inserted] =
      node->subscribers.insert_or_assign(session.get(), Subscriber{session, qos, options});
  if (inserted) ++count_;
}

bool SubscriptionTrie::remove(std::string_view filter, const Session* session) {
  std::unique_lock lock(mutex_);
  // Walk down remembering the path, so empty nodes can be pruned on the way back.
  std::vector<std::pair<Node*, std::string>> path;
  Node* node = root_.get();
  for (std::string_view level : mqtt::split_topic_levels(filter)) {
    auto it = node->children.find(std::string(level));
    if (it == node->children.end()) return false;
    path.emplace_back(node, std::string(level));
    node = it->second.get();
  }
  if (node->subscribers.erase(session) == 0) return false;
  --count_;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Node* child = it->first->children[it->second].get();
    if (!child->subscribers.empty() || !child->children.empty()) break;
    it->first->children.erase(it->second);
  }
  return true;
}

void SubscriptionTrie::collect(const Node& node, std::vector<Subscriber>& out) {
  for (const auto& [key, subscriber] : node.subscribers) out.push_back(subscriber);
}

void SubscriptionTrie::match_level(const Node& node, const std::vector<std::string_view>& levels,
                                   size_t index, std::vector<Subscriber>& out) const {
  if (index == levels.size()) {
    // AWS: a `#` child is not consulted here, so `a/#` does not match `a`.
    collect(node, out);
    return;
  }
  // §4.7.2: wildcards in the first level never match topics starting with `$`.
  bool wildcards_allowed = !(index == 0 && !levels[0].empty() && levels[0][0] == '$');
  if (auto it = node.children.find(std::string(levels[index])); it != node.children.end()) {
    match_level(*it->second, levels, index + 1, out);
  }
  if (!wildcards_allowed) return;
  if (auto it = node.children.find("+"); it != node.children.end()) {
    match_level(*it->second, levels, index + 1, out);
  }
  if (auto it = node.children.find("#"); it != node.children.end()) collect(*it->second, out);
}

void SubscriptionTrie::match(std::string_view topic, std::vector<Subscriber>& out) const {
  auto levels = mqtt::split_topic_levels(topic);
  size_t first = out.size();
  {
    std::shared_lock lock(mutex_);
    match_level(*root_, levels, 0, out);
  }
  // One delivery per session, at the highest granted QoS (MQTT 3.1.1 §3.3.5 allows either).
  auto begin = out.begin() + static_cast<std::ptrdiff_t>(first);
  if (out.end() - begin < 2) return;
  std::sort(begin, out.end(), [](const Subscriber& a, const Subscriber& b) {
    return a.session != b.session ? a.session < b.session : a.qos > b.qos;
  });
  out.erase(
      std::unique(begin, out.end(),
                  [](const Subscriber& a, const Subscriber& b) { return a.session == b.session; }),
      out.end());
}

size_t SubscriptionTrie::size() const {
  std::shared_lock lock(mutex_);
  return count_;
}

void RetainedStore::store(const std::shared_ptr<const Message>& message) {
  std::unique_lock lock(mutex_);
  if (message->payload.empty()) {
    messages_.erase(message->topic);
  } else {
    messages_[message->topic] = message;
  }
}

std::shared_ptr<const Message> RetainedStore::find(std::string_view topic) const {
  std::shared_lock lock(mutex_);
  auto it = messages_.find(std::string(topic));
  return it == messages_.end() ? nullptr : it->second;
}

size_t RetainedStore::size() const {
  std::shared_lock lock(mutex_);
  return messages_.size();
}

}  // namespace zt::cloud::broker
