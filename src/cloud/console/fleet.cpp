#include "cloud/console/fleet.hpp"

#include "common/time.hpp"

namespace zt::cloud::console {
namespace {

using nlohmann::json;

// 2026-11-25T22:47:04.123456Z
std::string iso_us(int64_t time_us) {
  std::string text = format_iso8601(time_us / 1000000);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(time_us % 1000000));
  text.insert(text.size() - 1, fraction);
  return text;
}

// 2026-11-25T22:47:04.123Z
std::string iso_ms(int64_t time_ms) {
  std::string text = format_iso8601(time_ms / 1000);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03lld", static_cast<long long>(time_ms % 1000));
  text.insert(text.size() - 1, fraction);
  return text;
}

json optional_json(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

json to_json(const std::vector<CaSummary>& cas) {
  json items = json::array();
  for (const auto& ca : cas) {
    items.push_back({{"certificateId", ca.certificate_id},
                     {"status", ca.status},
                     {"autoRegistration", ca.auto_registration},
                     {"creationDate", ca.creation_date},
                     {"devices", ca.devices}});
  }
  return {{"items", std::move(items)}};
}

json to_json(const DevicePage& page) {
  json items = json::array();
  for (const auto& device : page.items) {
    items.push_back(
        {{"thingName", optional_json(device.thing_name)},
         {"certificateId", device.certificate_id},
         {"caCertificateId", optional_json(device.ca_certificate_id)},
         {"status", device.status},
         {"connected", device.connected},
         {"lastSeen", device.last_seen_us ? json(iso_us(*device.last_seen_us)) : json()}});
  }
  return {{"total", page.total},
          {"offset", page.offset},
          {"limit", page.limit},
          {"items", std::move(items)}};
}

json to_json(const Timeline& timeline) {
  json items = json::array();
  for (const auto& event : timeline.items) {
    items.push_back({{"time", iso_us(event.time_us)},
                     {"timeUs", event.time_us},
                     {"kind", event.kind},
                     {"detail", event.detail},
                     {"certificateId", optional_json(event.certificate_id)},
                     {"thingName", optional_json(event.thing_name)}});
  }
  return {{"certificateIds", timeline.certificate_ids},
          {"thingNames", timeline.thing_names},
          {"truncated", timeline.truncated},
          {"items", std::move(items)}};
}

json to_json(const InvocationPage& page) {
  json items = json::array();
  for (const auto& invocation : page.items) {
    items.push_back({{"invocationId", invocation.invocation_id},
                     {"functionName", invocation.function_name},
                     {"ruleName", invocation.rule_name},
                     {"certificateId", optional_json(invocation.certificate_id)},
                     {"thingName", optional_json(invocation.thing_name)},
                     {"attempt", invocation.attempt},
                     {"status", invocation.succeeded ? "succeeded" : "failed"},
                     {"final", invocation.final},
                     {"error", invocation.succeeded ? json() : json(invocation.detail)},
                     {"detail", invocation.detail},
                     {"started", iso_ms(invocation.started_ms)},
                     {"durationMs", invocation.duration_ms}});
  }
  return {{"total", page.total},
          {"offset", page.offset},
          {"limit", page.limit},
          {"items", std::move(items)}};
}

}  // namespace zt::cloud::console
