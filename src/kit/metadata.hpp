// Slot 8 of the kit's ATECC508A: the firmware's connection metadata (reference/kit.md). Layout,
// little-endian u32 fields: provision_flag, ssid_size, ssid[32], wifi_password_size,
// wifi_password[64], hostname_size, hostname[128] — 240 of the slot's 416 bytes.
//
// The seed names two flag values: 0x72B0 (Wi-Fi provisioned) and 0xF309 (AWS provisioned). It
// writes the host name (saveCredentials) and the Wi-Fi credentials (setWifi) separately, so our
// reading is: the flag is recomputed on every write — 0xF309 once both parts are present, 0x72B0
// with Wi-Fi only, 0 otherwise. The firmware still checks the sizes, not only the flag.
#pragma once

#include <cstdint>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::kit {

inline constexpr unsigned kMetadataSlot = 8;
inline constexpr uint32_t kWifiProvisioned = 0x72B0;
inline constexpr uint32_t kAwsProvisioned = 0xF309;
inline constexpr size_t kMaxSsidSize = 32;
inline constexpr size_t kMaxWifiPasswordSize = 64;
inline constexpr size_t kMaxHostnameSize = 128;
inline constexpr size_t kMetadataSize = 4 + 4 + 32 + 4 + 64 + 4 + 128;  // 240

struct KitMetadata {
  uint32_t provision_flag = 0;
  std::string ssid;
  std::string wifi_password;
  std::string hostname;

  bool has_wifi() const { return !ssid.empty(); }
  bool has_hostname() const { return !hostname.empty(); }
  // The flag the current contents call for (see the header comment).
  uint32_t expected_flag() const;
};

// Fails when a field is longer than its array.
Result<Bytes> encode_metadata(const KitMetadata& metadata);
// Reads the first kMetadataSize bytes; a size field larger than its array is an error (a corrupted
// slot), erased memory (all 0xFF) and all zeros read as "nothing stored".
Result<KitMetadata> decode_metadata(ByteView slot);

}  // namespace zt::kit
