#include "cloud/service/inbound_queue.hpp"

#include <algorithm>

namespace zt::cloud::service {

InboundQueue::Offered InboundQueue::offer(InboundMessage message,
                                          const std::optional<shadow::ShadowTopic>& request) {
  Offered offered;
  std::lock_guard lock(mutex_);
  if (messages_.size() >= max_messages_ || bytes_ + message.bytes() > max_bytes_) {
    offered.refused = ++refused_;
    offered.log_refusal = refusal_log_.admit(clock_(), 1);  // a line a second
    return offered;
  }
  // The queue takes it: now, not before, a shadow request counts against its thing's quota (AWS
  // counts what the device sends; the time it waits in the queue is the cloud's).
  if (request) {
    if (quota_.admit_request(request->thing)) {
      message.shadow = request;
    } else {
      offered.over_quota = true;
    }
  }
  bytes_ += message.bytes();
  messages_.push_back(std::move(message));
  offered.queued = true;
  offered.start_drain = !drain_owed_;
  drain_owed_ = true;
  return offered;
}

std::vector<InboundMessage> InboundQueue::take(size_t max, bool& more) {
  std::vector<InboundMessage> batch;
  std::lock_guard lock(mutex_);
  size_t n = std::min(messages_.size(), max);
  batch.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    bytes_ -= messages_.front().bytes();
    batch.push_back(std::move(messages_.front()));
    messages_.pop_front();
  }
  more = !messages_.empty();
  drain_owed_ = more;
  return batch;
}

bool InboundQueue::drain_owed() {
  std::lock_guard lock(mutex_);
  return drain_owed_;
}

}  // namespace zt::cloud::service
