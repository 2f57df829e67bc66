// Date formats of Microchip's compressed certificates (cryptoauthlib atcacert_date.h) and the
// 3-byte compressed issue date + expire years.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace zt::atcacert {

// Values are cryptoauthlib's atcacert_date_format_t (confirmed in atcacert_date.h): the order of
// the enum is what firmware definitions store.
enum class DateFormat : uint8_t {
  iso8601_sep = 0,   // "YYYY-MM-DDThh:mm:ssZ", 20 bytes
  rfc5280_utc = 1,   // UTCTime "YYMMDDhhmmssZ", 13 bytes, years 1950..2049 (RFC 5280 §4.1.2.5.1)
  posix_u32_be = 2,  // seconds since 1970, uint32 big-endian, 4 bytes
  posix_u32_le = 3,  // same, little-endian
  rfc5280_gen = 4,   // GeneralizedTime "YYYYMMDDhhmmssZ", 15 bytes (RFC 5280 §4.1.2.5.2)
};

// DATEFMT_*_SIZE in atcacert_date.h: 20, 13, 4, 4, 15.
size_t date_size(DateFormat format);
std::string_view to_string(
    DateFormat format);  // "RFC5280_UTC", ... (cryptoauthlib names minus DATEFMT_)
Result<DateFormat> date_format_from_string(std::string_view name);
Result<DateFormat> date_format_from_int(int value);

Result<Bytes> encode_date(DateFormat format, const UtcTime& time);
// Strict: exact size, digits only, the right separators, a real calendar date.
Result<UtcTime> decode_date(DateFormat format, ByteView encoded);

// atcacert_date_get_max_date: the "no expiration" date a format can hold. 9999-12-31 23:59:59 for
// ISO 8601 and GeneralizedTime, 2049-12-31 23:59:59 for UTCTime, 2106-02-07 06:28:15 for POSIX.
UtcTime max_date(DateFormat format);

// Compressed dates (atcacert_date_enc_compcert), 3 bytes, MSB first:
//   year-2000 (5 bits) | month (4) | day (5) | hour (5) | expire years (5)
// Minutes and seconds are not stored (always zero); expire years 0 means "no expiration" (the
// expire date becomes max_date of the expire format).
//
// Format version 0 holds years 2000..2031 and expire years 0..31. Format version 1 (cryptoauthlib
// v3.7, atcacert_date_enc_compcert_ext / atcacert_date_dec_compcert_ext) adds two high bits to
// each in byte 71 of the compressed certificate — bits 7-6: issue year (minus 2000) bits 6-5,
// bits 5-4: expire years bits 6-5, bits 3-0 reserved — for years 2000..2127 and expire years
// 0..127. atcacert_get_comp_cert writes version 1 exactly when the issue year is past 2031 or
// the expire years past 31. (Version 2, for curves larger than P-256, reads its dates the same
// way; a 72-byte P-256 certificate never needs it.)
using EncodedDates = std::array<uint8_t, 3>;
inline constexpr uint8_t kExtendedDatesMask = 0xF0;  // byte 71 bits used by format versions 1, 2
Result<EncodedDates> encode_compressed_dates(const UtcTime& issue, int expire_years,
                                             uint8_t format_version = 0);
// Byte 71's extended date bits (already in place, bits 7-4) for format versions 1 and 2.
uint8_t extended_date_bits(const UtcTime& issue, int expire_years);
// 0 when the dates fit version 0, else 1 (atcacert_get_comp_cert's rule).
uint8_t dates_format_version(const UtcTime& issue, int expire_years);

struct CompressedDates {
  UtcTime issue;  // minutes and seconds zero; may be an impossible date if the bytes are hostile
  int expire_years = 0;
};
// `byte71` is read only for format versions 1 and 2.
CompressedDates decode_compressed_dates(const EncodedDates& encoded, uint8_t byte71 = 0,
                                        uint8_t format_version = 0);

// The expire date the rebuild writes: issue + expire_years (same month, day and hour), or
// max_date(format) when expire_years is 0. Fails when that date does not exist (Feb 29 + N years).
Result<UtcTime> compressed_expire_date(const UtcTime& issue, int expire_years, DateFormat format);

std::string format_time(const UtcTime& time);  // "2026-11-25 20:00:00"

}  // namespace zt::atcacert
