#include "broker/session.hpp"

#include <utility>

namespace zt::cloud::broker {

Session::~Session() { clear_queue(); }

void Session::clear_queue() {
  std::lock_guard lock(mutex_);
  if (queued_bytes_total_) *queued_bytes_total_ -= queued_bytes_;
  queued_bytes_ = 0;
  queue_.clear();
}

size_t Session::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return queued_bytes_;
}

Session::Pending Session::pop_queue_locked() {
  Pending pending = std::move(queue_.front());
  queue_.pop_front();
  size_t bytes = size_of(pending);
  queued_bytes_ -= bytes;
  if (queued_bytes_total_) *queued_bytes_total_ -= bytes;
  return pending;
}

std::shared_ptr<Outlet> Session::attach(std::shared_ptr<Outlet> outlet, ClientContext context,
                                        bool persistent) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<Outlet> previous = std::exchange(outlet_, std::move(outlet));
  context_ = std::move(context);
  persistent_ = persistent;
  if (!outlet_) offline_since_ = std::chrono::steady_clock::now();
  return previous;
}

void Session::resume() {
  std::lock_guard lock(mutex_);
  if (!outlet_) return;
  // §4.4: on reconnect with a kept session, unacknowledged PUBLISH packets are re-sent with DUP
  // = 1.
  for (const auto& [packet_id, pending] : inflight_) send_locked(packet_id, pending, true);
  fill_window_locked();
}

bool Session::detach(const Outlet* outlet) {
  std::lock_guard lock(mutex_);
  if (outlet_.get() != outlet) return false;
  outlet_.reset();
  offline_since_ = std::chrono::steady_clock::now();
  return true;
}

bool Session::persistent() const {
  std::lock_guard lock(mutex_);
  return persistent_;
}

bool Session::close_if_principal(std::string_view principal, DisconnectReason reason) {
  std::shared_ptr<Outlet> outlet;
  {
    std::lock_guard lock(mutex_);
    if (!outlet_ || context_.principal != principal) return false;
    outlet = outlet_;
  }
  outlet->close(reason);  // posts to the connection's thread; never under our lock
  return true;
}

bool Session::attached() const {
  std::lock_guard lock(mutex_);
  return outlet_ != nullptr;
}

std::chrono::steady_clock::time_point Session::offline_since() const {
  std::lock_guard lock(mutex_);
  return offline_since_;
}

void Session::acknowledge(uint16_t packet_id) {
  std::lock_guard lock(mutex_);
  // An unknown id (a duplicate PUBACK) is ignored, as §4.3.2 allows.
  if (inflight_.erase(packet_id) == 0) return;
  fill_window_locked();
}

void Session::deliver(const std::shared_ptr<const Message>& message, uint8_t qos, bool retain,
                      Authorizer& authorizer) {
  std::lock_guard lock(mutex_);
  deliver_locked(message, qos, retain, authorizer);
}

void Session::deliver_all(
    const std::vector<std::pair<std::shared_ptr<const Message>, uint8_t>>& messages,
    Authorizer& authorizer) {
  std::lock_guard lock(mutex_);
  for (const auto& [message, qos] : messages) deliver_locked(message, qos, false, authorizer);
}

void Session::deliver_locked(const std::shared_ptr<const Message>& message, uint8_t qos,
                             bool retain, Authorizer& authorizer) {
  // §5 iot:Receive is checked for every delivery, against the subscriber's identity.
  if (!authorizer.allow(Action::receive, message->topic, context_)) return;
  Pending pending{message, retain};
  if (qos == 0) {
    // QoS 0 is never stored for an offline client (AWS persists QoS 1 only).
    if (outlet_) outlet_->send_publish(*message, 0, 0, false, retain);
    return;
  }
  if (!outlet_) {
    if (persistent_) enqueue_locked(std::move(pending));
    return;
  }
  if (inflight_.size() < limits_.max_inflight && queue_.empty()) {
    uint16_t packet_id = allocate_packet_id();
    auto [it, inserted] = inflight_.emplace(packet_id, std::move(pending));
    send_locked(packet_id, it->second, false);
  } else {
    enqueue_locked(std::move(pending));
  }
}

bool Session::add_subscription(const std::string& filter, uint8_t qos) {
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(filter);
  if (it == subscriptions_.end() && subscriptions_.size() >= limits_.max_subscriptions)
    return false;
  subscriptions_[filter] = qos;
  return true;
}

bool Session::remove_subscription(const std::string& filter) {
  std::lock_guard lock(mutex_);
  return subscriptions_.erase(filter) > 0;
}

std::vector<std::string> Session::subscription_filters() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> filters;
  filters.reserve(subscriptions_.size());
  for (const auto& [filter, qos] : subscriptions_) filters.push_back(filter);
  return filters;
}

size_t Session::inflight_count() const {
  std::lock_guard lock(mutex_);
  return inflight_.size();
}

size_t Session::queued_count() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t Session::dropped_count() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

uint16_t Session::allocate_packet_id() {
  // The window (≤ max_inflight ids) is far smaller than 65535, so a free id is always found.
  while (true) {
    uint16_t id = next_packet_id_;
    next_packet_id_ = next_packet_id_ == 0xffff ? 1 : static_cast<uint16_t>(next_packet_id_ + 1);
    if (!inflight_.contains(id)) return id;
  }
}

void Session::send_locked(uint16_t packet_id, const Pending& pending, bool dup) {
  outlet_->send_publish(*pending.message, 1, packet_id, dup, pending.retain);
}

void Session::fill_window_locked() {
  while (outlet_ && !queue_.empty() && inflight_.size() < limits_.max_inflight) {
    uint16_t packet_id = allocate_packet_id();
    auto [it, inserted] = inflight_.emplace(packet_id, pop_queue_locked());
    send_locked(packet_id, it->second, false);
  }
}

void Session::enqueue_locked(Pending pending) {
  // A bounded queue: beyond it new messages are dropped (Mosquitto's max_queued_messages
  // behaviour).
  if (queue_.size() >= limits_.max_queued) {
    ++dropped_;
    return;
  }
  size_t bytes = size_of(pending);
  queued_bytes_ += bytes;
  if (queued_bytes_total_) *queued_bytes_total_ += bytes;
  queue_.push_back(std::move(pending));
}

}  // namespace zt::cloud::broker
