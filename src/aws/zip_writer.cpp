#include "aws/zip_writer.hpp"

#include <array>
#include <cstdint>

namespace zt::aws {
namespace {

// CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), as zip requires (APPNOTE.TXT §4.4.7).
uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

void put16(Bytes& out, uint32_t value) {
  out.push_back(static_cast<uint8_t>(value));
  out.push_back(static_cast<uint8_t>(value >> 8));
}
void put32(Bytes& out, uint32_t value) {
  put16(out, value & 0xFFFF);
  put16(out, value >> 16);
}

constexpr uint32_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
constexpr uint32_t kDosTime = 0;                        // 00:00:00

bool safe_name(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string_view segment(name.data() + start, end - start);
    if (segment == ".." || segment.empty()) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<Bytes> make_zip(const std::vector<ZipEntry>& entries) {
  if (entries.size() > 0xFFFF) return make_error(Errc::invalid_argument, "too many zip entries");
  Bytes out, central;
  for (const auto& entry : entries) {
    if (!safe_name(entry.name) || entry.name.size() > 0xFFFF) {
      return make_error(Errc::invalid_argument, "zip entry name '" + entry.name +
                                                    "' is not a "
                                                    "relative path");
    }
    if (entry.content.size() >= 0xFFFFFFFFu || out.size() >= 0xFFFFFFFFu - entry.content.size()) {
      return make_error(Errc::invalid_argument, "zip archive larger than 4 GiB");
    }
    uint32_t offset = static_cast<uint32_t>(out.size());
    uint32_t crc = crc32(entry.content);
    uint32_t size = static_cast<uint32_t>(entry.content.size());
    // Local file header (§4.3.7): version 2.0, no flags, stored.
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, 0);
    put16(out, kDosTime);
    put16(out, kDosDate);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, static_cast<uint32_t>(entry.name.size()));
    put16(out, 0);
    out.insert(out.end(), entry.name.begin(), entry.name.end());
    out.insert(out.end(), entry.content.begin(), entry.content.end());
    // Central directory header (§4.3.12): made by Unix (3) so the mode in the external attributes
    // is read (regular file 0644: unzip and Lambda give the file these permissions).
    put32(central, 0x02014b50);
    put16(central, (3 << 8) | 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosTime);
    put16(central, kDosDate);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<uint32_t>(entry.name.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, (0100644u) << 16);
    put32(central, offset);
    central.insert(central.end(), entry.name.begin(), entry.name.end());
  }
  if (out.size() + central.size() >= 0xFFFFFFFFu) {
    return make_error(Errc::invalid_argument, "zip archive larger than 4 GiB");
  }
  uint32_t central_offset = static_cast<uint32_t>(out.size());
  uint32_t central_size = static_cast<uint32_t>(central.size());
  out.insert(out.end(), central.begin(), central.end());
  // End of central directory record (§4.3.16).
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint32_t>(entries.size()));
  put16(out, static_cast<uint32_t>(entries.size()));
  put32(out, central_size);
  put32(out, central_offset);
  put16(out, 0);
  return out;
}

}  // namespace zt::aws
