// What the data plane and the console store and read in the registry besides the control plane's
// resources: device events and presence (the fleet view's timeline, issue 8), the function
// invocation log, and the console's fleet queries. The SQL behind them is in registry_events.cpp,
// registry_rules.cpp and registry_fleet.cpp; shadows are plain documents (registry_shadows.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zt::cloud::registry {

// How a recorded event moves its certificate's row in device_presence.
enum class PresenceEffect {
  none,          // not the device talking to the broker: presence untouched
  seen,          // device activity: last seen moves forward
  connected,     // one more live connection (and last seen)
  disconnected,  // one fewer live connection (never below 0; and last seen)
};

struct DeviceEventRecord {
  int64_t time_us = 0;           // wall clock, microseconds since the epoch
  std::string certificate_id{};  // "" when not known (stored as NULL)
  std::string thing_name{};      // "" when not known (stored as NULL)
  std::string kind{};            // "" = no event row, only the presence effect
  std::string detail{};
  std::string client_id{};  // the MQTT client id for presence ("" keeps the stored one)
  PresenceEffect presence = PresenceEffect::none;  // applied only with a certificate id
};

// The console's lists page by offset/limit (the list shows "rows 1,201–1,250 of 10,000" and jumps
// anywhere); limit is 1..kMaxPageSize.
inline constexpr int kMaxPageSize = 500;

template <class T>
struct OffsetPage {
  int64_t total = 0;  // rows matching the query, on all pages
  int64_t offset = 0;
  int limit = 0;
  std::vector<T> items{};
};

struct CaSummary {
  std::string certificate_id{};
  std::string status{};
  std::string auto_registration{};
  double creation_date = 0;
  int64_t devices = 0;
};

struct DeviceQuery {
  int64_t offset = 0;
  int limit = 50;
  std::string q{};       // case-insensitive substring of the thing name or certificate id
  std::string status{};  // certificate status, "" = any
};

struct DeviceRow {
  std::optional<std::string> thing_name{};
  std::string certificate_id{};
  std::optional<std::string> ca_certificate_id{};
  std::string status{};
  bool connected = false;
  std::optional<int64_t> last_seen_us{};
};

using DevicePage = OffsetPage<DeviceRow>;

struct TimelineEvent {
  int64_t time_us = 0;
  std::string kind{};
  std::string detail{};
  std::optional<std::string> certificate_id{};
  std::optional<std::string> thing_name{};
};

struct Timeline {
  std::vector<std::string> certificate_ids{};  // the device's certificates
  std::vector<std::string> thing_names{};      // and things
  std::vector<TimelineEvent> items{};          // oldest first
  bool truncated = false;                      // older events than `limit` exist
};

// One attempt of a function invocation (table function_invocations).
struct InvocationRow {
  std::string invocation_id{};
  std::string function_name{};
  std::string rule_name{};
  std::optional<std::string> certificate_id{};  // the device it was for
  std::optional<std::string> thing_name{};      // read only: the device's thing, when listed
  int64_t attempt = 1;
  bool succeeded = false;
  bool final = false;
  std::string detail{};
  int64_t started_ms = 0;
  int64_t duration_ms = 0;
};

struct InvocationQuery {
  int64_t offset = 0;
  int limit = 50;
  bool failed_only = false;
};

using InvocationPage = OffsetPage<InvocationRow>;

}  // namespace zt::cloud::registry
