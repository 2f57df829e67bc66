// The console's fleet view queries (issue 8), read-only over the registry: CAs with their device
// counts, the device list (server-side paging and filtering: a device is a certificate, joined to
// its thing through thing_principals and to its presence), a device's zero-touch timeline from
// device_events, and the rule/function invocation log.
//
// Paging is offset/limit (the list shows "rows 1,201–1,250 of 10,000" and jumps anywhere); each
// page first selects the page's certificate ids through an index (certificates' primary key, or
// certificates_by_status), then joins only those rows, so a page costs the same at any offset up
// to the index walk.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::console {

inline constexpr int kMaxPageSize = 500;

struct CaSummary {
  std::string certificate_id;
  std::string status;
  std::string auto_registration;
  double creation_date = 0;
  int64_t devices = 0;
};

Result<std::vector<CaSummary>> list_cas_with_devices(registry::Registry& registry);

struct DeviceQuery {
  int64_t offset = 0;
  int limit = 50;
  std::string q;       // case-insensitive substring of the thing name or certificate id
  std::string status;  // certificate status, "" = any
};

struct DeviceRow {
  std::optional<std::string> thing_name;
  std::string certificate_id;
  std::optional<std::string> ca_certificate_id;
  std::string status;
  bool connected = false;
  std::optional<int64_t> last_seen_us;
};

struct DevicePage {
  int64_t total = 0;
  int64_t offset = 0;
  int limit = 0;
  std::vector<DeviceRow> items;
};

// `principal_prefix` = "arn:aws:iot:<region>:<account>:cert/" (how thing_principals names a
// certificate). Bad paging values are an invalid_argument error naming the value.
Result<DevicePage> list_devices(registry::Registry& registry, const std::string& principal_prefix,
                                const DeviceQuery& query);

struct TimelineEvent {
  int64_t time_us = 0;
  std::string kind;
  std::string detail;
  std::optional<std::string> certificate_id;
  std::optional<std::string> thing_name;
};

struct Timeline {
  std::vector<std::string> certificate_ids;  // the device's certificates
  std::vector<std::string> thing_names;      // and things
  std::vector<TimelineEvent> items;          // oldest first
  bool truncated = false;                    // older events than `limit` exist
};

// `key` is a thing name or a certificate id; not_found when neither has any record.
Result<Timeline> device_timeline(registry::Registry& registry, const std::string& principal_prefix,
                                 const std::string& key, int limit = 500);

struct InvocationQuery {
  int64_t offset = 0;
  int limit = 50;
  bool failed_only = false;
};

struct InvocationRow {
  std::string invocation_id;
  std::string function_name;
  std::string rule_name;
  std::optional<std::string> certificate_id;
  std::optional<std::string> thing_name;
  int64_t attempt = 1;
  bool succeeded = false;
  bool final = false;
  std::string detail;
  int64_t started_ms = 0;
  int64_t duration_ms = 0;
};

struct InvocationPage {
  int64_t total = 0;
  int64_t offset = 0;
  int limit = 0;
  std::vector<InvocationRow> items;
};

// Newest first.
Result<InvocationPage> list_invocations(registry::Registry& registry,
                                        const std::string& principal_prefix,
                                        const InvocationQuery& query);

// The contract's JSON shapes (brief-console-contract.md, "Fleet API"); times as ISO-8601 UTC.
nlohmann::json to_json(const std::vector<CaSummary>& cas);
nlohmann::json to_json(const DevicePage& page);
nlohmann::json to_json(const Timeline& timeline);
nlohmann::json to_json(const InvocationPage& page);

}  // namespace zt::cloud::console
