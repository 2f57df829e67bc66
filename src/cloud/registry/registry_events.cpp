// Device events and presence: the data plane's rows of device_events (the registry's triggers add
// the rest), device_presence, and a device's timeline for the console.
#include <algorithm>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {

Status Registry::append_device_events(const std::vector<DeviceEventRecord>& events) {
  if (events.empty()) return ok();
  return transaction([&]() -> Status {
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
        ZT_TRY_ASSIGN(Statement insert, db_.prepare(kInsert));
        ZT_TRY(insert.bind(1, event.time_us)
                   .bind(2, event.certificate_id)
                   .bind(3, event.thing_name)
                   .bind(4, event.kind)
                   .bind(5, event.detail)
                   .run());
      }
      if (event.certificate_id.empty() || event.presence == PresenceEffect::none) continue;
      int delta = event.presence == PresenceEffect::connected      ? 1
                  : event.presence == PresenceEffect::disconnected ? -1
                                                                   : 0;
      ZT_TRY_ASSIGN(Statement presence, db_.prepare(kPresence));
      ZT_TRY(presence.bind(1, event.certificate_id)
                 .bind(2, event.client_id)
                 .bind(3, delta)
                 .bind(4, event.time_us)
                 .run());
      // connectivity.connected changed: dynamic groups querying it (the thing is the client id).
      if (delta != 0 && !event.client_id.empty())
        ZT_TRY(refresh_dynamic_thing_groups_for_thing(event.client_id));
    }
    return ok();
  });
}

Status Registry::reset_device_presence() {
  return transaction(
      [&]() -> Status { return db_.exec("UPDATE device_presence SET connections = 0"); });
}

Result<Timeline> Registry::device_timeline(const std::string& principal_prefix,
                                           const std::string& key, int limit) {
  if (key.empty()) return make_error(Errc::invalid_argument, "empty device name");
  return transaction([&]() -> Result<Timeline> {
    Timeline timeline;
    // key as a certificate id: its things; key as a thing name: its certificates.
    ZT_TRY_ASSIGN(Statement things, db_.prepare("SELECT thing_name FROM thing_principals WHERE "
                                                "principal = ?1 ORDER BY thing_name"));
    things.bind(1, principal_prefix + key);
    while (true) {
      ZT_TRY_ASSIGN(bool row, things.step());
      if (!row) break;
      timeline.thing_names.push_back(things.text(0));
    }
    ZT_TRY_ASSIGN(Statement certificates,
                  db_.prepare("SELECT substr(principal, length(?2) + 1) FROM thing_principals "
                              "WHERE thing_name = ?1 AND substr(principal, 1, length(?2)) = ?2 "
                              "ORDER BY principal"));
    certificates.bind(1, key).bind(2, principal_prefix);
    while (true) {
      ZT_TRY_ASSIGN(bool row, certificates.step());
      if (!row) break;
      timeline.certificate_ids.push_back(certificates.text(0));
    }
    bool is_thing = !timeline.certificate_ids.empty();
    if (!is_thing) {
      ZT_TRY_ASSIGN(Statement thing, db_.prepare("SELECT 1 FROM things WHERE name = ?1"));
      ZT_TRY_ASSIGN(is_thing, thing.bind(1, key).step());
    }
    if (is_thing) {
      timeline.thing_names = {key};
    } else {
      timeline.certificate_ids = {key};
    }
    // Events of any of the device's certificates or things (an IN list each: both indexes).
    auto placeholders = [](size_t first, size_t count) {
      std::string text;
      for (size_t i = 0; i < count; ++i) text += (i ? ", ?" : "?") + std::to_string(first + i);
      return text;
    };
    size_t certificate_count = timeline.certificate_ids.size();
    std::string sql =
        "SELECT time_us, kind, detail, certificate_id, thing_name FROM device_events WHERE "
        "certificate_id IN (" +
        placeholders(2, certificate_count) + ")";
    if (!timeline.thing_names.empty())
      sql += " OR thing_name IN (" +
             placeholders(2 + certificate_count, timeline.thing_names.size()) + ")";
    sql += " ORDER BY time_us DESC, seq DESC LIMIT ?1";
    ZT_TRY_ASSIGN(Statement events, db_.prepare(sql));
    events.bind(1, limit + 1);
    int index = 2;
    for (const auto& id : timeline.certificate_ids) events.bind(index++, id);
    for (const auto& name : timeline.thing_names) events.bind(index++, name);
    while (true) {
      ZT_TRY_ASSIGN(bool row, events.step());
      if (!row) break;
      timeline.items.push_back({.time_us = events.integer(0),
                                .kind = events.text(1),
                                .detail = events.text(2),
                                .certificate_id = events.optional_text(3),
                                .thing_name = events.optional_text(4)});
    }
    if (timeline.items.empty() && !is_thing) {
      ZT_TRY_ASSIGN(Statement known, db_.prepare("SELECT 1 FROM certificates WHERE id = ?1"));
      ZT_TRY_ASSIGN(bool exists, known.bind(1, key).step());
      if (!exists)
        return make_error(Errc::not_found, "no device, thing or certificate '" + key + "'");
    }
    if (timeline.items.size() > static_cast<size_t>(limit)) {
      timeline.items.pop_back();
      timeline.truncated = true;
    }
    std::reverse(timeline.items.begin(), timeline.items.end());
    return timeline;
  });
}

}  // namespace zt::cloud::registry
