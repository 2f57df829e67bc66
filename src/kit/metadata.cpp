#include "kit/metadata.hpp"

#include <algorithm>

namespace zt::kit {
namespace {

void put_u32(Bytes& out, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

uint32_t get_u32(ByteView in, size_t offset) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<uint32_t>(in[offset + i]) << (8 * i);
  return value;
}

// One `size` + `array[capacity]` field pair at `offset`; returns the offset after it.
size_t put_field(Bytes& out, size_t offset, const std::string& value, size_t capacity) {
  put_u32(out, offset, static_cast<uint32_t>(value.size()));
  std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(offset + 4));
  return offset + 4 + capacity;
}

Result<std::string> get_field(ByteView in, size_t& offset, size_t capacity, const char* name) {
  uint32_t size = get_u32(in, offset);
  if (size == 0xFFFFFFFF) size = 0;  // erased EEPROM
  if (size > capacity) {
    return make_error(Errc::parse, std::string("slot 8: ") + name + "_size " +
                                       std::to_string(size) + " exceeds " +
                                       std::to_string(capacity) + " bytes (corrupted metadata)");
  }
  std::string value(reinterpret_cast<const char*>(in.data() + offset + 4), size);
  offset += 4 + capacity;
  return value;
}

}  // namespace

uint32_t KitMetadata::expected_flag() const {
  if (has_wifi() && has_hostname()) return kAwsProvisioned;
  if (has_wifi()) return kWifiProvisioned;
  return 0;
}

Result<Bytes> encode_metadata(const KitMetadata& metadata) {
  if (metadata.ssid.size() > kMaxSsidSize)
    return make_error(Errc::invalid_argument, "SSID longer than 32 bytes");
  if (metadata.wifi_password.size() > kMaxWifiPasswordSize)
    return make_error(Errc::invalid_argument, "Wi-Fi password longer than 64 bytes");
  if (metadata.hostname.size() > kMaxHostnameSize)
    return make_error(Errc::invalid_argument, "host name longer than 128 bytes");
  Bytes out(kMetadataSize, 0);
  put_u32(out, 0, metadata.provision_flag);
  size_t offset = put_field(out, 4, metadata.ssid, kMaxSsidSize);
  offset = put_field(out, offset, metadata.wifi_password, kMaxWifiPasswordSize);
  put_field(out, offset, metadata.hostname, kMaxHostnameSize);
  return out;
}

Result<KitMetadata> decode_metadata(ByteView slot) {
  if (slot.size() < kMetadataSize) {
    return make_error(Errc::parse, "slot 8: " + std::to_string(slot.size()) +
                                       " bytes, the metadata needs " +
                                       std::to_string(kMetadataSize));
  }
  KitMetadata metadata;
  metadata.provision_flag = get_u32(slot, 0);
  if (metadata.provision_flag == 0xFFFFFFFF) metadata.provision_flag = 0;
  size_t offset = 4;
  ZT_TRY_ASSIGN(metadata.ssid, get_field(slot, offset, kMaxSsidSize, "ssid"));
  ZT_TRY_ASSIGN(metadata.wifi_password,
                get_field(slot, offset, kMaxWifiPasswordSize, "wifi_password"));
  ZT_TRY_ASSIGN(metadata.hostname, get_field(slot, offset, kMaxHostnameSize, "hostname"));
  return metadata;
}

}  // namespace zt::kit
