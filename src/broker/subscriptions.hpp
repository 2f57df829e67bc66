// Who receives a topic: a trie over topic levels (one node per level, `+` and `#` as children), and
// the retained-message store. Both are shared by every network thread behind a shared_mutex:
// matching (every PUBLISH) takes it shared, SUBSCRIBE/UNSUBSCRIBE exclusive.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/interfaces.hpp"

namespace zt::cloud::broker {

class Session;

// MQTT 5 subscription options that act on delivery (§3.8.3.1).
struct SubscriptionOptions {
  bool no_local = false;             // not to the connection of the publisher's client id
  bool retain_as_published = false;  // live deliveries keep the publisher's RETAIN flag
};

struct Subscriber {
  std::shared_ptr<Session> session;
  uint8_t qos = 0;
  SubscriptionOptions options{};
};

class SubscriptionTrie {
 public:
  SubscriptionTrie();
  ~SubscriptionTrie();

  // Adds or replaces (new QoS) the subscription of `session` to `filter` (a valid filter).
  void add(std::string_view filter, const std::shared_ptr<Session>& session, uint8_t qos,
           SubscriptionOptions options = {});
  // Returns whether the subscription existed.
  bool remove(std::string_view filter, const Session* session);

  // Subscribers whose filters match `topic` with AWS semantics (mqtt/topic.hpp): `a/#` does not
  // match `a`, first-level wildcards do not match `$` topics. A session with several matching
  // filters appears once, with its highest QoS (and that subscription's options).
  void match(std::string_view topic, std::vector<Subscriber>& out) const;

  size_t size() const;

 private:
  struct Node;
  static void collect(const Node& node, std::vector<Subscriber>& out);
  void match_level(const Node& node, const std::vector<std::string_view>& levels, size_t index,
                   std::vector<Subscriber>& out) const;

  mutable std::shared_mutex mutex_;
  std::unique_ptr<Node> root_;
  size_t count_ = 0;
};

// One retained message per topic; an empty payload deletes it (MQTT 3.1.1 §3.3.1.3, AWS §6.2).
class RetainedStore {
 public:
  void store(const std::shared_ptr<const Message>& message);
  std::shared_ptr<const Message> find(std::string_view topic) const;
  size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Message>> messages_;
};

}  // namespace zt::cloud::broker
