#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/result.hpp"

namespace zt {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

// Where behaviour depends on elapsed time (quotas, caches, expiry) it takes a clock rather than
// calling steady_clock::now() itself, so tests drive it with a fake one (STYLE.md "Time").
using SteadyClock = std::function<SteadyTime()>;
inline SteadyTime steady_now() { return std::chrono::steady_clock::now(); }

// Broken-down UTC time (proleptic Gregorian), as certificates and compressed dates need it.
struct UtcTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  auto operator<=>(const UtcTime&) const = default;
};

UtcTime to_utc(int64_t unix_seconds);
int64_t to_unix(const UtcTime& t);
bool is_valid(const UtcTime& t);
int days_in_month(int year, int month);

std::string format_iso8601(int64_t unix_seconds);   // 2015-08-30T12:36:00Z
std::string format_amz_date(int64_t unix_seconds);  // 20150830T123600Z
Result<int64_t> parse_amz_date(std::string_view text);
// The wall clock since the Unix epoch, in the units the wire formats use.
int64_t unix_now();     // seconds (shadow metadata, SigV4)
int64_t unix_now_ms();  // milliseconds (MQTT lifecycle and rules timestamps)
int64_t unix_now_us();  // microseconds (device-event ordering)
// Seconds with millisecond precision, as AWS's JSON dates (creationDate: 1480636521.475).
double unix_now_seconds();

}  // namespace zt
