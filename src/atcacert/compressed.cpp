#include "atcacert/compressed.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/hex.hpp"

namespace zt::atcacert {

CompressedBytes serialize(const CompressedCert& cert) {
  CompressedBytes out{};
  std::copy(cert.signature.begin(), cert.signature.end(), out.begin());
  std::copy(cert.encoded_dates.begin(), cert.encoded_dates.end(), out.begin() + 64);
  out[67] = cert.signer_id[0];
  out[68] = cert.signer_id[1];
  out[69] = static_cast<uint8_t>((cert.template_id & 0x0F) << 4 | (cert.chain_id & 0x0F));
  out[70] = static_cast<uint8_t>((cert.sn_source & 0x0F) << 4 | (cert.format_version & 0x0F));
  out[71] = cert.reserved;
  return out;
}

Result<CompressedCert> parse_compressed(ByteView bytes) {
  if (bytes.size() != kCompressedCertSize) {
    return make_error(Errc::parse,
                      fmt::format("a compressed certificate is 72 bytes, got {}", bytes.size()));
  }
  CompressedCert cert;
  std::copy_n(bytes.begin(), 64, cert.signature.begin());
  std::copy_n(bytes.begin() + 64, 3, cert.encoded_dates.begin());
  cert.signer_id = {bytes[67], bytes[68]};
  cert.template_id = bytes[69] >> 4;
  cert.chain_id = bytes[69] & 0x0F;
  cert.sn_source = bytes[70] >> 4;
  cert.format_version = bytes[70] & 0x0F;
  cert.reserved = bytes[71];
  return cert;
}

Status check_format(const CompressedCert& cert) {
  // atcacert_set_comp_cert (cryptoauthlib v3.7): a format version above 2 is a decoding error.
  // Version 1 carries extended dates; version 2 (larger curves) reads its dates the same way.
  if (cert.format_version > 2) {
    return make_error(Errc::parse,
                      fmt::format("compressed certificate format version {} is unknown "
                                  "(cryptoauthlib defines 0, 1 and 2)",
                                  cert.format_version));
  }
  return ok();
}

std::string describe(const CompressedCert& cert) {
  const CompressedDates dates = cert.dates();
  auto source = sn_source_from_int(cert.sn_source);
  std::string out;
  out += fmt::format("signature r:      {}\n", to_hex(ByteView(cert.signature).first(32)));
  out += fmt::format("signature s:      {}\n", to_hex(ByteView(cert.signature).last(32)));
  out += fmt::format("encoded dates:    {}\n", to_hex(cert.encoded_dates));
  out += fmt::format("issue date:       {:04}-{:02}-{:02} {:02}:00:00 UTC{}\n", dates.issue.year,
                     dates.issue.month, dates.issue.day, dates.issue.hour,
                     is_valid(dates.issue) ? "" : " (not a calendar date)");
  if (dates.expire_years == 0) {
    out += "expire years:     0 (no expiration: the definition's maximum or template date)\n";
  } else {
    out += fmt::format("expire years:     {} (expires {:04}-{:02}-{:02} {:02}:00:00 UTC)\n",
                       dates.expire_years, dates.issue.year + dates.expire_years, dates.issue.month,
                       dates.issue.day, dates.issue.hour);
  }
  out += fmt::format("signer id:        {}\n", to_hex_upper(cert.signer_id));
  out += fmt::format("template id:      {}\n", cert.template_id);
  out += fmt::format("chain id:         {}\n", cert.chain_id);
  out += fmt::format("serial source:    0x{:X} ({})\n", cert.sn_source,
                     source ? to_string(*source) : "undefined");
  out += fmt::format("format version:   {}{}\n", cert.format_version,
                     cert.format_version == 0   ? ""
                     : cert.format_version <= 2 ? " (extended dates in byte 71)"
                                                : " (unknown)");
  out += fmt::format("reserved:         0x{:02X}\n", cert.reserved);
  return out;
}

}  // namespace zt::atcacert
