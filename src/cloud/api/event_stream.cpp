// EventStream::next (a coroutine) lives in server_network.cpp with the other coroutines: clang 14
// cannot emit them in the fuzz build.
#include "cloud/api/event_stream.hpp"

#include <boost/asio/post.hpp>

namespace zt::cloud::api {
namespace asio = boost::asio;

bool EventStream::push(std::string event_text) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (queue_.size() >= capacity_) {
      // Drop everything queued: the consumer resynchronises from the current state instead,
      // then gets what happened after (this event on).
      queue_.clear();
      overflowed_ = true;
    }
    queue_.push_back(std::move(event_text));
  }
  wake();
  return true;
}

void EventStream::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  wake();
}

bool EventStream::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

// The timer is only touched on the consumer's executor: a wake-up posted there either runs
// before the consumer checks the queue (and it finds the event) or cancels the wait it started
// in the same handler that checked the queue, so no push is ever missed.
void EventStream::wake() {
  std::optional<asio::any_io_executor> executor;
  {
    std::lock_guard lock(mutex_);
    executor = executor_;
  }
  if (!executor) return;
  asio::post(*executor, [self = shared_from_this()] {
    if (self->timer_) self->timer_->cancel();
  });
}

void EventStream::attach(asio::any_io_executor executor) {
  std::lock_guard lock(mutex_);
  executor_ = executor;
  timer_ = std::make_shared<asio::steady_timer>(executor);
}

EventStream::Batch EventStream::take() {
  std::lock_guard lock(mutex_);
  Batch batch;
  batch.events.assign(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.end()));
  queue_.clear();
  batch.overflowed = std::exchange(overflowed_, false);
  batch.ended = closed_;
  return batch;
}

std::string EventStream::format(std::string_view name, std::string_view data) {
  std::string out;
  out.reserve(name.size() + data.size() + 16);
  out.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
  return out;
}

}  // namespace zt::cloud::api
