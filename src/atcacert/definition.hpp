// Certificate definitions as data: cryptoauthlib's atcacert_def_t (atcacert_def.h), for X.509
// certificates. A definition names a template DER, where its dynamic elements sit, and where on an
// ATECC508A the data to rebuild it is kept.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "atcacert/date.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::atcacert {

// atcacert_cert_sn_src_t, values confirmed in atcacert_def.h. The 4-bit value travels in the
// high nibble of byte 70 of the compressed certificate.
enum class SnSource : uint8_t {
  stored = 0x0,              // serial stored on the device
  stored_dynamic = 0x7,      // stored, first byte = DER length (variable-size serial)
  device_sn = 0x8,           // 0x40 ‖ 9-byte device serial number
  signer_id = 0x9,           // 0x40 ‖ 2-byte signer id
  pub_key_hash = 0xA,        // SHA-256(public key ‖ encoded dates), top bits 01
  device_sn_hash = 0xB,      // SHA-256(device SN ‖ encoded dates), top bits 01
  pub_key_hash_pos = 0xC,    // deprecated: as 0xA with only the top bit cleared
  device_sn_hash_pos = 0xD,  // deprecated: as 0xB with only the top bit cleared
  pub_key_hash_raw = 0xE,    // deprecated: as 0xA, hash bytes unchanged
  device_sn_hash_raw = 0xF,  // deprecated: as 0xB, hash bytes unchanged
};
std::string_view to_string(SnSource source);  // "PUB_KEY_HASH" (cryptoauthlib name minus SNSRC_)
Result<SnSource> sn_source_from_string(std::string_view name);  // name or number (10, 0xA)
Result<SnSource> sn_source_from_int(int value);

// atcacert_device_zone_t: the datasheet's zone encodings, plus 7 for "no location".
enum class DeviceZone : uint8_t { config = 0, otp = 1, data = 2, none = 7 };

struct DeviceLoc {
  DeviceZone zone = DeviceZone::none;
  int slot = 0;            // data zone only
  bool is_genkey = false;  // the public key is recomputed with GenKey instead of read
  uint16_t offset = 0;
  uint16_t count = 0;
  bool present() const { return zone != DeviceZone::none && count > 0; }
  bool operator==(const DeviceLoc&) const = default;
};

struct CertLoc {
  uint16_t offset = 0;
  uint16_t count = 0;  // 0: the element is not in the certificate
  bool present() const { return count > 0; }
  size_t end() const { return size_t{offset} + count; }
  bool operator==(const CertLoc&) const = default;
};

// atcacert_std_cert_element_t order.
enum class StdElement {
  public_key,
  signature,
  issue_date,
  expire_date,
  signer_id,
  cert_sn,
  auth_key_id,
  subj_key_id
};
inline constexpr size_t kStdElementCount = 8;
std::string_view to_string(StdElement element);  // "public_key", ...

// An extra element copied byte for byte between a device location and the certificate
// (atcacert_cert_element_t with no transforms; transforms are not supported here).
struct CertElement {
  std::string id;
  DeviceLoc device_loc;
  CertLoc cert_loc;
  bool operator==(const CertElement&) const = default;
};

struct CertDef {
  std::string name;     // for messages: "device", "signer", or a file name
  int template_id = 0;  // 4 bits
  int chain_id = 0;     // 4 bits
  int private_key_slot = 0;
  SnSource sn_source = SnSource::stored;
  DeviceLoc cert_sn_dev_loc;  // stored / stored dynamic only
  DateFormat issue_date_format = DateFormat::rfc5280_utc;
  DateFormat expire_date_format = DateFormat::rfc5280_utc;
  CertLoc tbs_cert_loc;
  int expire_years = 0;  // 0..127 (past 31: compressed format version 1); 0 = no expiration
  DeviceLoc public_key_dev_loc;
  DeviceLoc comp_cert_dev_loc;
  std::array<CertLoc, kStdElementCount> std_cert_elements{};
  std::vector<CertElement> cert_elements;
  Bytes cert_template;

  const CertLoc& element(StdElement e) const { return std_cert_elements[static_cast<size_t>(e)]; }
  CertLoc& element(StdElement e) { return std_cert_elements[static_cast<size_t>(e)]; }
  bool operator==(const CertDef&) const = default;
};

// Checks everything decompress relies on, so a hostile definition fails here and never reaches
// an out-of-bounds copy: ids in range, every location inside the template and before the
// signature, the signature last, the template one DER SEQUENCE, sizes matching the formats.
Status validate(const CertDef& def);

nlohmann::json to_json(const CertDef& def);
Result<CertDef> definition_from_json(const nlohmann::json& json);
Result<CertDef> definition_from_json_text(std::string_view text);

}  // namespace zt::atcacert
