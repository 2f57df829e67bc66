// Devices' messages on their way from the broker's network threads to the service worker (the
// network threads offer, the worker takes them in batches): bounded in messages and bytes
// (CloudServiceOptions::max_queued_messages/bytes), and where a shadow request is counted against
// its thing's quota (ShadowStore::admit_request, 20/s: reference/aws-iot.md §4.5) — only once the
// queue has taken it, so a request refused for a full queue does not spend its thing's quota too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/rate_limit.hpp"
#include "cloud/rules/sql.hpp"
#include "cloud/service/shadows.hpp"
#include "cloud/shadow/shadow.hpp"
#include "common/time.hpp"

namespace zt::cloud::service {

struct InboundMessage {
  std::string session;  // the connection's session identifier
  rules::MessageContext context;
  // Set by the queue: a shadow request within its thing's quota, for the worker's shadow batch.
  std::optional<shadow::ShadowTopic> shadow;
  size_t bytes() const { return context.topic.size() + context.payload.size(); }
};

class InboundQueue {
 public:
  // `quota`: the store whose per-thing quota a queued shadow request counts against. `clock`
  // times the refusal log (tests pass a fake one).
  InboundQueue(size_t max_messages, size_t max_bytes, ShadowStore& quota,
               SteadyClock clock = steady_now)
      : max_messages_(max_messages),
        max_bytes_(max_bytes),
        quota_(quota),
        clock_(std::move(clock)) {}

  struct Offered {
    bool queued = false;       // false: no room (the queue's bounds); the message is not handled
    bool start_drain = false;  // queued while no drain was owed: the caller posts one
    // A shadow request queued beyond its thing's quota: the caller answers 429; the message still
    // goes to the taps and rules as any message does, but not to the shadow store.
    bool over_quota = false;
    uint64_t refused = 0;      // messages refused for want of room so far (when !queued)
    bool log_refusal = false;  // the first refusal for want of room in a second
  };
  // `request`: the message's shadow request, if its topic is one. Room is looked at first: a
  // request refused for a full queue is answered 429 by the caller and spends no quota (it was
  // never handled); only a request the queue takes is counted against its thing's quota, under
  // the queue's lock (lock order: the queue's, then the quota's; nothing takes them the other way).
  Offered offer(InboundMessage message, const std::optional<shadow::ShadowTopic>& request);

  // Up to `max` messages, oldest first. `more`: messages remain, and the caller owes a drain
  // (none is owed once this returns false: the next offer says start_drain).
  std::vector<InboundMessage> take(size_t max, bool& more);
  // A drain is owed (messages queued, or a batch taken with more behind it).
  bool drain_owed();

 private:
  const size_t max_messages_;
  const size_t max_bytes_;
  ShadowStore& quota_;
  SteadyClock clock_;
  std::mutex mutex_;
  std::deque<InboundMessage> messages_;
  size_t bytes_ = 0;
  bool drain_owed_ = false;
  broker::RateWindow refusal_log_;
  uint64_t refused_ = 0;
};

}  // namespace zt::cloud::service
