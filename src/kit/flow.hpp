// The provisioning path a kit follows (`ztp kit run --flow …`, docs/kit.md "Provisioning flows"):
//   jitr            the seed's: device certificate from the factory's signer CA, registered just
//                   in time by a Lambda on the first connection (refused), accepted on a retry
//   jitp            the same device; the CA's registration config (a template) provisions it on
//                   the first connection, no Lambda
//   preprovisioned  the same device; its certificate was registered without a CA (multi-account),
//                   the first connection succeeds (SNI required, which the kit always sends)
//   fleet-csr       a claim certificate for slot 0's key; over MQTT the kit generates a new key in
//                   slot 2 (GenKey), has the chip sign a CSR, CreateCertificateFromCsr, then
//                   RegisterThing, then reconnects with the new certificate
//   fleet-claim     the same with CreateKeysAndCertificate: the returned key goes into slot 3 with
//                   an encrypted PrivWrite under the I/O protection key in slot 4
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "secure_element/atecc508a.hpp"

namespace zt::kit {

enum class Flow { jitr, jitp, preprovisioned, fleet_csr, fleet_claim };

Result<Flow> parse_flow(std::string_view name);
std::string_view flow_name(Flow flow);
inline bool uses_fleet_provisioning(Flow flow) {
  return flow == Flow::fleet_csr || flow == Flow::fleet_claim;
}

// Slots of the fleet flows (slot 0 keeps the factory key, which the claim certificate is for).
// Slot 2 (SlotConfig 0x2087: WriteConfig GenKey) takes GenKey as the seed configures it.
inline constexpr unsigned kFleetCsrKeySlot = 2;
// Slot 3 takes PrivWrite only in the fleet-claim configuration (fleet_claim_chip_config).
inline constexpr unsigned kFleetClaimKeySlot = 3;
// Slot 4: the I/O protection key (secret, never readable), the WriteKey of slot 3.
inline constexpr unsigned kIoProtectionKeySlot = 4;

// The chip configuration a blank kit writes for `flow`: the seed's (se::kit_config) for all but
// fleet-claim, whose slot 3 SlotConfig becomes 0x6487 — WriteConfig 6 = GenKey allowed (bit 1) and
// PrivWrite allowed, encrypted (bit 2), WriteKey 4 — because the seed's 0x2087 refuses PrivWrite
// once the data zone is locked (ATECC508A datasheet, PrivWrite: "the slot's WriteConfig must allow
// it, and the input must be encrypted with TempKey from GenDig over the WriteKey").
std::array<uint8_t, se::config_size> chip_config_for(Flow flow);

}  // namespace zt::kit
