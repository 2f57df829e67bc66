#include "broker/session.hpp"

#include <algorithm>
#include <utility>

#include "broker/mqtt5.hpp"

namespace zt::cloud::broker {

Session::~Session() { clear_queue(); }

void Session::clear_queue() {
  std::lock_guard lock(mutex_);
  if (queued_bytes_total_) *queued_bytes_total_ -= queued_bytes_;
  queued_bytes_ = 0;
  queue_.reset();
}

size_t Session::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return queued_bytes_;
}

Session::Pending Session::pop_queue_locked() {
  Pending pending = std::move(queue_->front());
  queue_->pop_front();
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

void Session::configure(std::chrono::seconds expiry, size_t receive_maximum) {
  std::lock_guard lock(mutex_);
  expiry_ = expiry;
  receive_maximum_ = receive_maximum;
}

void Session::set_expiry(std::chrono::seconds expiry) {
  std::lock_guard lock(mutex_);
  expiry_ = expiry;
  persistent_ = expiry.count() > 0;
}

std::chrono::seconds Session::expiry() const {
  std::lock_guard lock(mutex_);
  return expiry_;
}

size_t Session::window_locked() const {
  return receive_maximum_ == 0 ? limits_.max_inflight
                               : std::min(receive_maximum_, limits_.max_inflight);
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

bool Session::on_connection(std::string_view session_identifier) const {
  std::lock_guard lock(mutex_);
  return outlet_ && context_.session_identifier == session_identifier;
}

bool Session::say_goodbye() {
  std::shared_ptr<Outlet> outlet;
  {
    std::lock_guard lock(mutex_);
    outlet = outlet_;
  }
  return outlet && outlet->say_goodbye();  // never under our lock
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

void Session::deliver_all(const std::vector<Delivery>& deliveries, Authorizer& authorizer) {
  std::lock_guard lock(mutex_);
  for (const auto& delivery : deliveries)
    deliver_locked(delivery.message, delivery.qos, delivery.retain, authorizer);
}

void Session::deliver_locked(const std::shared_ptr<const Message>& message, uint8_t qos,
                             bool retain, Authorizer& authorizer) {
  // §5 iot:Receive is checked for every delivery, against the subscriber's identity.
  if (!authorizer.allow(Action::receive, message->topic, context_)) return;
  if (message->expires_at && v5::expired(*message, std::chrono::steady_clock::now())) return;
  Pending pending{message, retain};
  // MQTT 5 §3.1.2.11.4: too large for the client: discarded as if sent.
  if (outlet_ && !outlet_->fits(*message)) return;
  if (qos == 0) {
    // QoS 0 is never stored for an offline client (AWS persists QoS 1 only).
    if (outlet_) outlet_->send_publish(*message, 0, 0, false, retain);
    return;
  }
  if (!outlet_) {
    if (persistent_) enqueue_locked(std::move(pending));
    return;
  }
  if (inflight_.size() < window_locked() && queue_size_locked() == 0) {
    uint16_t packet_id = allocate_packet_id();
    auto [it, inserted] = inflight_.emplace(packet_id, std::move(pending));
    send_locked(packet_id, it->second, false);
  } else {
    enqueue_locked(std::move(pending));
  }
}

bool Session::add_subscription(const std::string& filter, uint8_t qos, bool* existed) {
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(filter);
  if (existed) *existed = it != subscriptions_.end();
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
  return queue_size_locked();
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

bool Session::pop_live_locked(Pending& out) {
  auto now = std::chrono::steady_clock::now();
  while (queue_size_locked() != 0) {
    Pending pending = pop_queue_locked();
    // MQTT 5 §3.3.2.3.3: a queued message whose expiry interval has passed is not delivered; one
    // the client cannot take (Maximum Packet Size) is discarded as if sent.
    if (v5::expired(*pending.message, now) || !outlet_->fits(*pending.message)) continue;
    out = std::move(pending);
    return true;
  }
  return false;
}

void Session::fill_window_locked() {
  Pending pending;
  while (outlet_ && inflight_.size() < window_locked() && pop_live_locked(pending)) {
    uint16_t packet_id = allocate_packet_id();
    auto [it, inserted] = inflight_.emplace(packet_id, std::move(pending));
    send_locked(packet_id, it->second, false);
  }
}

void Session::enqueue_locked(Pending pending) {
  // A bounded queue: beyond it new messages are dropped (Mosquitto's max_queued_messages
  // behaviour).
  if (queue_size_locked() >= limits_.max_queued) {
    ++dropped_;
    return;
  }
  size_t bytes = size_of(pending);
  queued_bytes_ += bytes;
  if (queued_bytes_total_) *queued_bytes_total_ += bytes;
  if (!queue_) queue_ = std::make_unique<std::deque<Pending>>();
  queue_->push_back(std::move(pending));
}

}  // namespace zt::cloud::broker
