#include "cloud/console/events.hpp"

#include <string_view>

#include "common/log.hpp"
#include "common/time.hpp"

namespace zt::cloud::console {
namespace {

using registry::Statement;

// Which stored kinds are the device itself talking to the broker (they move "last seen").
bool is_activity(std::string_view kind) {
  return kind == kConnectRefused || kind == kConnected || kind == kDisconnected ||
         kind == kSubscribed;
}

}  // namespace

int64_t now_us() { return unix_now_us(); }

Status insert_events(registry::Registry& registry, const std::vector<DeviceEvent>& events) {
  if (events.empty()) return ok();
  return registry.transaction([&]() -> Status {
    auto& db = registry.database();
    // Prepared per row: Statement has no reset, and batches are small and off the hot path.
    constexpr const char* kInsert =
        "INSERT INTO device_events(time_us, certificate_id, thing_name, kind, detail) "
        "VALUES(?1, NULLIF(?2, ''), NULLIF(?3, ''), ?4, ?5)";
    // A presence effect: delta = +1 connected, -1 disconnected, 0 other activity.
    constexpr const char* kPresence =
        "INSERT INTO device_presence(certificate_id, client_id, connections, last_seen_us) "
        "VALUES(?1, ?2, max(?3, 0), ?4) ON CONFLICT(certificate_id) DO UPDATE SET "
        "connections = max(connections + ?3, 0), "
        "last_seen_us = max(last_seen_us, excluded.last_seen_us), "
        "client_id = CASE WHEN ?2 = '' THEN client_id ELSE ?2 END";
    for (const auto& event : events) {
      if (!event.kind.empty()) {
        ZT_TRY_ASSIGN(Statement insert, db.prepare(kInsert));
        ZT_TRY(insert.bind(1, event.time_us)
                   .bind(2, event.certificate_id)
                   .bind(3, event.thing_name)
                   .bind(4, event.kind)
                   .bind(5, event.detail)
                   .run());
      }
      if (event.certificate_id.empty() || !(event.kind.empty() || is_activity(event.kind)))
        continue;
      int delta = event.kind == kConnected ? 1 : event.kind == kDisconnected ? -1 : 0;
      ZT_TRY_ASSIGN(Statement presence, db.prepare(kPresence));
      ZT_TRY(presence.bind(1, event.certificate_id)
                 .bind(2, event.client_id)
                 .bind(3, delta)
                 .bind(4, event.time_us)
                 .run());
    }
    return ok();
  });
}

EventRecorder::EventRecorder(registry::Registry& registry, std::chrono::milliseconds interval)
    : registry_(registry), interval_(interval) {}

EventRecorder::~EventRecorder() { stop(); }

Status EventRecorder::start() {
  ZT_TRY(registry_.transaction([&]() -> Status {
    return registry_.database().exec("UPDATE device_presence SET connections = 0");
  }));
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
    spdlog::error("console: writing {} device event(s): {}", events.size(),
                  written.error().message);
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

}  // namespace zt::cloud::console
