#include "atcacert/date.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace zt::atcacert {

namespace {

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

Error invalid_date(DateFormat format, const UtcTime& t, std::string_view why) {
  return make_error(Errc::invalid_argument, fmt::format("date {} cannot be written as {}: {}",
                                                        format_time(t), to_string(format), why));
}

void put_digits(std::string& out, int value, int width) {
  out += fmt::format("{:0{}}", value, width);
}

// Reads `width` decimal digits at `pos`; -1 when any is not a digit.
int get_digits(std::string_view text, size_t pos, size_t width) {
  int value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

Error bad_encoding(DateFormat format, ByteView encoded, std::string_view why) {
  std::string shown;
  for (uint8_t c : encoded) shown += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  return make_error(Errc::parse,
                    fmt::format("'{}' is not a {} date: {}", shown, to_string(format), why));
}

}  // namespace

std::string format_time(const UtcTime& t) {
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour,
                     t.minute, t.second);
}

size_t date_size(DateFormat format) {
  switch (format) {
    case DateFormat::iso8601_sep:
      return 20;
    case DateFormat::rfc5280_utc:
      return 13;
    case DateFormat::posix_u32_be:
      return 4;
    case DateFormat::posix_u32_le:
      return 4;
    case DateFormat::rfc5280_gen:
      return 15;
  }
  return 0;
}

std::string_view to_string(DateFormat format) {
  switch (format) {
    case DateFormat::iso8601_sep:
      return "ISO8601_SEP";
    case DateFormat::rfc5280_utc:
      return "RFC5280_UTC";
    case DateFormat::posix_u32_be:
      return "POSIX_UINT32_BE";
    case DateFormat::posix_u32_le:
      return "POSIX_UINT32_LE";
    case DateFormat::rfc5280_gen:
      return "RFC5280_GEN";
  }
  return "?";
}

Result<DateFormat> date_format_from_int(int value) {
  if (value < 0 || value > 4) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("date format {} is not one of 0..4 (atcacert_date_format_t)", value));
  }
  return static_cast<DateFormat>(value);
}

Result<DateFormat> date_format_from_string(std::string_view name) {
  if (name.starts_with("DATEFMT_")) name.remove_prefix(8);
  for (int i = 0; i <= 4; ++i) {
    auto format = static_cast<DateFormat>(i);
    if (name == to_string(format)) return format;
  }
  return make_error(
      Errc::invalid_argument,
      fmt::format("unknown date format '{}' (ISO8601_SEP, RFC5280_UTC, POSIX_UINT32_BE, "
                  "POSIX_UINT32_LE or RFC5280_GEN)",
                  name));
}

Result<Bytes> encode_date(DateFormat format, const UtcTime& t) {
  if (!is_valid(t)) return invalid_date(format, t, "not a calendar date");
  std::string text;
  switch (format) {
    case DateFormat::iso8601_sep:
    case DateFormat::rfc5280_gen:
      if (t.year < 0 || t.year > 9999) return invalid_date(format, t, "year outside 0..9999");
      if (format == DateFormat::iso8601_sep) {
        text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year, t.month, t.day, t.hour,
                           t.minute, t.second);
      } else {
        text = fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}Z", t.year, t.month, t.day, t.hour,
                           t.minute, t.second);
      }
      return to_bytes(text);
    case DateFormat::rfc5280_utc:
      // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, YY < 50 is 20YY.
      if (t.year < 1950 || t.year > 2049) {
        return invalid_date(format, t, "UTCTime holds years 1950..2049 only");
      }
      put_digits(text, t.year % 100, 2);
      put_digits(text, t.month, 2);
      put_digits(text, t.day, 2);
      put_digits(text, t.hour, 2);
      put_digits(text, t.minute, 2);
      put_digits(text, t.second, 2);
      text += 'Z';
      return to_bytes(text);
    case DateFormat::posix_u32_be:
    case DateFormat::posix_u32_le: {
      // cryptoauthlib refuses 2106-02-07 06:28:15 itself (off by one against its own max date);
      // we accept the full uint32 range, 0 .. 2^32-1.
      int64_t seconds = to_unix(t);
      if (seconds < 0 || seconds > 0xFFFFFFFFLL) {
        return invalid_date(format, t, "outside 1970-01-01 .. 2106-02-07 06:28:15");
      }
      auto v = static_cast<uint32_t>(seconds);
      Bytes out{static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
      if (format == DateFormat::posix_u32_le) std::reverse(out.begin(), out.end());
      return out;
    }
  }
  return make_error(Errc::invalid_argument, "unknown date format");
}

Result<UtcTime> decode_date(DateFormat format, ByteView encoded) {
  if (encoded.size() != date_size(format)) {
    return bad_encoding(format, encoded,
                        fmt::format("{} bytes, expected {}", encoded.size(), date_size(format)));
  }
  UtcTime t;
  std::string_view text = as_chars(encoded);
  switch (format) {
    case DateFormat::iso8601_sep:
      if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
          text[16] != ':' || text[19] != 'Z') {
        return bad_encoding(format, encoded, "separators must be - - T : : Z");
      }
      t = {get_digits(text, 0, 4),  get_digits(text, 5, 2),  get_digits(text, 8, 2),
           get_digits(text, 11, 2), get_digits(text, 14, 2), get_digits(text, 17, 2)};
      break;
    case DateFormat::rfc5280_gen:
      if (text[14] != 'Z') return bad_encoding(format, encoded, "must end in Z");
      t = {get_digits(text, 0, 4), get_digits(text, 4, 2),  get_digits(text, 6, 2),
           get_digits(text, 8, 2), get_digits(text, 10, 2), get_digits(text, 12, 2)};
      break;
    case DateFormat::rfc5280_utc: {
      if (text[12] != 'Z') return bad_encoding(format, encoded, "must end in Z");
      int yy = get_digits(text, 0, 2);
      t = {yy < 0 ? -1 : (yy < 50 ? 2000 + yy : 1900 + yy),
           get_digits(text, 2, 2),
           get_digits(text, 4, 2),
           get_digits(text, 6, 2),
           get_digits(text, 8, 2),
           get_digits(text, 10, 2)};
      break;
    }
    case DateFormat::posix_u32_be:
    case DateFormat::posix_u32_le: {
      uint32_t v = 0;
      for (size_t i = 0; i < 4; ++i) {
        size_t index = format == DateFormat::posix_u32_be ? i : 3 - i;
        v = (v << 8) | encoded[index];
      }
      return to_utc(v);
    }
  }
  if (t.year < 0 || t.month < 0 || t.day < 0 || t.hour < 0 || t.minute < 0 || t.second < 0) {
    return bad_encoding(format, encoded, "non-digit where a digit belongs");
  }
  if (!is_valid(t)) return bad_encoding(format, encoded, "not a calendar date and time");
  return t;
}

UtcTime max_date(DateFormat format) {
  switch (format) {
    case DateFormat::rfc5280_utc:
      return {2049, 12, 31, 23, 59, 59};
    case DateFormat::posix_u32_be:
    case DateFormat::posix_u32_le:
      return {2106, 2, 7, 6, 28, 15};
    case DateFormat::iso8601_sep:
    case DateFormat::rfc5280_gen:
      break;
  }
  return {9999, 12, 31, 23, 59, 59};
}

uint8_t dates_format_version(const UtcTime& issue, int expire_years) {
  return issue.year > 2031 || expire_years > 31 ? 1 : 0;
}

uint8_t extended_date_bits(const UtcTime& issue, int expire_years) {
  const auto year = static_cast<uint32_t>(issue.year - 2000);
  const auto years = static_cast<uint32_t>(expire_years);
  return static_cast<uint8_t>((year & 0x60) << 1 | (years & 0x60) >> 1);
}

Result<EncodedDates> encode_compressed_dates(const UtcTime& issue, int expire_years,
                                             uint8_t format_version) {
  // Ranges as atcacert_date_enc_compcert_ext checks them; we also refuse impossible calendar days.
  if (format_version > 2) {
    return make_error(Errc::invalid_argument,
                      fmt::format("compressed certificate format version {} is unknown "
                                  "(cryptoauthlib defines 0, 1 and 2)",
                                  format_version));
  }
  const bool extended = format_version != 0;
  const int last_year = extended ? 2127 : 2031;
  const int most_years = extended ? 127 : 31;
  if (issue.year < 2000 || issue.year > last_year) {
    return make_error(Errc::invalid_argument,
                      fmt::format("issue year {} is outside 2000..{}, the range of a compressed "
                                  "certificate of format version {}",
                                  issue.year, last_year, format_version));
  }
  if (issue.month < 1 || issue.month > 12 || issue.day < 1 ||
      issue.day > days_in_month(issue.year, issue.month) || issue.hour < 0 || issue.hour > 23) {
    return make_error(Errc::invalid_argument,
                      fmt::format("issue date {} is not a calendar date", format_time(issue)));
  }
  if (expire_years < 0 || expire_years > most_years) {
    return make_error(Errc::invalid_argument,
                      fmt::format("expire years {} is outside 0..{} (format version {})",
                                  expire_years, most_years, format_version));
  }
  // Only the low five bits of the year and the expire years go here; version 1 keeps the two
  // high bits in byte 71 (extended_date_bits).
  const uint32_t packed =
      static_cast<uint32_t>((issue.year - 2000) & 0x1F) << 19 |
      static_cast<uint32_t>(issue.month) << 15 | static_cast<uint32_t>(issue.day) << 10 |
      static_cast<uint32_t>(issue.hour) << 5 | static_cast<uint32_t>(expire_years & 0x1F);
  return EncodedDates{static_cast<uint8_t>(packed >> 16), static_cast<uint8_t>(packed >> 8),
                      static_cast<uint8_t>(packed)};
}

CompressedDates decode_compressed_dates(const EncodedDates& e, uint8_t byte71,
                                        uint8_t format_version) {
  const uint32_t packed = uint32_t{e[0]} << 16 | uint32_t{e[1]} << 8 | e[2];
  const bool extended = format_version == 1 || format_version == 2;
  const uint32_t year_high = extended ? (byte71 & 0xC0u) >> 1 : 0;
  const uint32_t years_high = extended ? (byte71 & 0x30u) << 1 : 0;
  CompressedDates out;
  out.issue.year = 2000 + static_cast<int>(year_high | (packed >> 19 & 0x1F));
  out.issue.month = static_cast<int>(packed >> 15 & 0x0F);
  out.issue.day = static_cast<int>(packed >> 10 & 0x1F);
  out.issue.hour = static_cast<int>(packed >> 5 & 0x1F);
  out.expire_years = static_cast<int>(years_high | (packed & 0x1F));
  return out;
}

Result<UtcTime> compressed_expire_date(const UtcTime& issue, int expire_years, DateFormat format) {
  if (expire_years == 0) return max_date(format);
  UtcTime expire{issue.year + expire_years, issue.month, issue.day, issue.hour, 0, 0};
  if (issue.month == 2 && issue.day == 29 && !is_leap(expire.year)) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("issue date {} is a leap day and {} + {} years = {} is not a leap "
                    "year: the expire date Feb 29 {} does not exist",
                    format_time(issue), issue.year, expire_years, expire.year, expire.year));
  }
  if (!is_valid(expire)) {
    return make_error(Errc::invalid_argument,
                      fmt::format("expire date {} is not a calendar date", format_time(expire)));
  }
  return expire;
}

}  // namespace zt::atcacert
