// The kit MCU's flash, emulated as files in K/flash/: what the fleet flows keep that does not fit
// the ATECC508A. A certificate issued by the cloud (CreateCertificateFromCsr/KeysAndCertificate,
// signed by the cloud's CA with its own serial and names) cannot be rebuilt from the kit's
// compressed certificate definitions (slots 10/12 hold only what the factory signer's template
// leaves variable), and a whole DER certificate (~500+ bytes) fits no slot (the largest, slot 8,
// has 416 bytes and holds the metadata). A certificate is public, so the MCU's flash is where
// Microchip's own AWS demos keep one; the keys stay in the chip. Files:
//   claim.json     {certificatePem, templateName}: the claim certificate (for slot 0's key) and
//                  the provisioning template the factory chose (written by the USB saveClaim)
//   identity.json  {certificatePem, thingName, keySlot, certificateId, flow}: the identity the
//                  fleet flow obtained (written after RegisterThing is accepted)
//   io-protection.key  the 32-byte I/O protection key the MCU shares with the chip's slot 4
//                  (0600), the WriteKey of the encrypted PrivWrite
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "secure_element/device.hpp"

namespace zt::kit {

struct ClaimRecord {
  std::string certificate_pem;
  std::string template_name;
};

struct IdentityRecord {
  std::string certificate_pem;
  std::string certificate_id;
  std::string thing_name;
  unsigned key_slot = 0;
  std::string flow;
};

class KitFlash {
 public:
  explicit KitFlash(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Result<std::optional<ClaimRecord>> claim() const;
  Status save_claim(const ClaimRecord& claim) const;
  Result<std::optional<IdentityRecord>> identity() const;
  Status save_identity(const IdentityRecord& identity) const;
  Status clear() const;  // resetKit: claim and identity (the I/O protection key stays)
  // The I/O protection key, made on first use: 32 random bytes written to slot 4 (a 32-byte
  // clear Write, which the seed's SlotConfig 0x0F8F "write always" allows) and kept here.
  Result<Bytes> io_protection_key(se::Device& device) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace zt::kit
