// Manifests of pre-provisioned secure elements, as Microchip delivers them for Trust&GO parts
// (ATECC608-TNGTLS): a JSON array of "signed secure elements", each a JWS in flattened JSON form —
// {"payload", "protected", "header": {"uniqueId"}, "signature"} — whose payload (base64url JSON)
// names the part (uniqueId = its serial number) and carries a publicKeySet whose keys hold the
// slot public keys (x, y) and, for the device key, x5c: the device certificate and the signer
// certificate that issued it (base64 DER, device first). The protected header is
// {"typ":"JWT","alg":"ES256","kid":…, "x5t#S256": base64url SHA-256 of the manifest signer's
// certificate}. (Format: Microchip's manifest generation and verification scripts, e.g. the
// TrustFLEX/Trust&GO "manifest" helpers of the Trust Platform Design Suite.)
//
// parse_manifest reads one without trusting it: every size is bounded, a broken entry is kept
// with its reason (so the import reports it by name) instead of failing the file.
// verify_manifest_entry checks what the cloud must not take on faith before registering a
// certificate without a CA: the chain from the device certificate to a root the caller trusts,
// the device key against the manifest's, and the manifest's own signature when its signer's
// certificate is given.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::pki {

inline constexpr size_t kMaxManifestBytes = 16u << 20;  // ~20,000 parts with their chains
inline constexpr size_t kMaxManifestEntries = 20000;
inline constexpr size_t kMaxManifestChain = 4;  // device, signer, and up to two more issuers

struct ManifestEntry {
  size_t index = 0;          // position in the file, from 0
  std::string unique_id;     // the part's serial number (hex), from the payload
  std::vector<Bytes> chain;  // x5c of the device key, DER: the device certificate first
  Bytes device_public_key;   // x ‖ y of the same key (64 bytes), empty when absent
  std::string error;         // why this entry cannot be used ("" when it parsed)
  // The JWS: what was signed ("<protected>.<payload>" as sent), the raw r ‖ s signature, and the
  // protected header's alg and x5t#S256.
  std::string signing_input;
  Bytes signature;
  std::string algorithm;
  std::string signer_thumbprint;
};

// Errors: the text as a whole is not a manifest (not JSON, not an array, too large, too many
// entries). Each entry's own problems go to ManifestEntry::error.
Result<std::vector<ManifestEntry>> parse_manifest(std::string_view text);

struct ManifestTrust {
  std::vector<crypto::X509Ptr> roots;     // anchors for the device chains (the signers' root CA)
  const X509* manifest_signer = nullptr;  // when set, each entry's JWS must verify with it
};

// Checks one parsed entry: its JWS (when trust.manifest_signer is set: ES256, x5t#S256 naming
// that certificate, signature over the signing input), the device certificate's chain through the
// manifest's signer certificates to one of trust.roots (OpenSSL's verification: signatures,
// validity, CA constraints), and the manifest's device key being the certificate's. Errors name
// what failed.
Status verify_manifest_entry(const ManifestEntry& entry, const ManifestTrust& trust);

}  // namespace zt::pki
