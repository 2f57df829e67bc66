#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace zt {

using SystemTime = std::chrono::system_clock::time_point;

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
int64_t unix_now();
int64_t unix_now_ms();

}  // namespace zt
