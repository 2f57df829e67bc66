#include "cloud/events/recorder.hpp"

#include <string_view>

#include "common/log.hpp"
#include "common/time.hpp"

namespace zt::cloud::events {
namespace {

// Which stored kinds are the device itself talking to the broker (they move "last seen").
bool is_activity(std::string_view kind) {
  return kind == kConnectRefused || kind == kConnected || kind == kDisconnected ||
         kind == kSubscribed;
}

}  // namespace

int64_t now_us() { return unix_now_us(); }

Status insert_events(registry::Registry& registry, const std::vector<DeviceEvent>& events) {
  std::vector<registry::DeviceEventRecord> records;
  records.reserve(events.size());
  for (const auto& event : events) {
    using registry::PresenceEffect;
    PresenceEffect presence = PresenceEffect::none;
    if (event.kind == kConnected) {
      presence = PresenceEffect::connected;
    } else if (event.kind == kDisconnected) {
      presence = PresenceEffect::disconnected;
    } else if (event.kind.empty() || is_activity(event.kind)) {
      presence = PresenceEffect::seen;
    }
    records.push_back({.time_us = event.time_us,
                       .certificate_id = event.certificate_id,
                       .thing_name = event.thing_name,
                       .kind = event.kind,
                       .detail = event.detail,
                       .client_id = event.client_id,
                       .presence = presence});
  }
  return registry.append_device_events(records);
}

EventRecorder::EventRecorder(registry::Registry& registry, std::chrono::milliseconds interval)
    : registry_(registry), interval_(interval) {}

EventRecorder::~EventRecorder() { stop(); }

Status EventRecorder::start() {
  ZT_TRY(registry_.reset_device_presence());
  std::lock_guard lock(mutex_);
  if (running_) return ok();
  running_ = true;
  stopping_ = false;
  writer_ = std::thread([this] { run(); });
  return ok();
}

void EventRecorder::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
}

void EventRecorder::record(DeviceEvent event) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(event));
}

void EventRecorder::record(std::string certificate_id, std::string kind, std::string detail,
                           std::string client_id) {
  record(DeviceEvent{.time_us = now_us(),
                     .certificate_id = std::move(certificate_id),
                     .thing_name = {},
                     .kind = std::move(kind),
                     .detail = std::move(detail),
                     .client_id = std::move(client_id)});
}

void EventRecorder::seen(const std::string& certificate_id, int64_t time_us) {
  if (certificate_id.empty()) return;
  std::lock_guard lock(mutex_);
  auto& latest = seen_[certificate_id];
  latest = std::max(latest, time_us);
}

void EventRecorder::set_listener(Listener listener) {
  std::lock_guard lock(listener_mutex_);
  listener_ = std::move(listener);
}

Status EventRecorder::flush() {
  std::lock_guard batch(flush_mutex_);
  std::vector<DeviceEvent> events;
  std::map<std::string, int64_t> seen;
  {
    std::lock_guard lock(mutex_);
    events.swap(queue_);
    seen.swap(seen_);
  }
  if (events.empty() && seen.empty()) return ok();
  std::vector<DeviceEvent> rows = events;
  for (const auto& [certificate_id, time_us] : seen)
    rows.push_back(DeviceEvent{.time_us = time_us,
                               .certificate_id = certificate_id,
                               .thing_name = {},
                               .kind = {},
                               .detail = {},
                               .client_id = {}});
  if (auto written = insert_events(registry_, rows); !written) {
    // Dropped, not retried: a registry that cannot commit has bigger problems, and an ever-growing
    // queue would turn them into memory exhaustion.
    spdlog::error("events: writing {} device event(s): {}", events.size(), written.error().message);
    return written;
  }
  Listener listener;
  {
    std::lock_guard lock(listener_mutex_);
    listener = listener_;
  }
  if (listener && !events.empty()) listener(events);
  return ok();
}

void EventRecorder::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [&] { return stopping_; });
    lock.unlock();
    (void)flush();
    lock.lock();
  }
  lock.unlock();
  (void)flush();
}

}  // namespace zt::cloud::events
