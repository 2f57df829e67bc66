// Writing and reading a compressed certificate chain to and from secure-element slots.
// The secure element is reached through SlotStore, a narrow interface: the emulator
// (zt::se::Device) or a real ATECC508A client implements it; MemorySlotStore serves tests.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <vector>

#include "atcacert/codec.hpp"
#include "atcacert/definition.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/key.hpp"

namespace zt::atcacert {

class SlotStore {
 public:
  virtual ~SlotStore() = default;
  virtual Result<Bytes> read_slot(int slot, size_t offset, size_t length) = 0;
  virtual Status write_slot(int slot, size_t offset, ByteView data) = 0;
  // Config zone bytes; the device serial number is bytes 0..3 and 8..12.
  virtual Result<Bytes> read_config(size_t offset, size_t length) = 0;
  // GenKey (public-key mode): the public key of the private key held in `slot`.
  virtual Result<crypto::PublicKeyRaw> generate_public_key(int slot) = 0;
};

// ATECC508A-shaped memory: slots 0..7 36 bytes, slot 8 416, slots 9..15 72; 128-byte config zone.
class MemorySlotStore final : public SlotStore {
 public:
  explicit MemorySlotStore(const DeviceSerial& serial = {0x01, 0x23, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                         0x00, 0xEE});
  Result<Bytes> read_slot(int slot, size_t offset, size_t length) override;
  Status write_slot(int slot, size_t offset, ByteView data) override;
  Result<Bytes> read_config(size_t offset, size_t length) override;
  Result<crypto::PublicKeyRaw> generate_public_key(int slot) override;
  // Stands in for GenKey having created a key in `slot`.
  void set_private_key_public_part(int slot, const crypto::PublicKeyRaw& public_key);

 private:
  std::array<Bytes, 16> slots_;
  Bytes config_;
  std::map<int, crypto::PublicKeyRaw> key_slots_;
};

size_t slot_size(int slot);  // ATECC508A data-zone sizes; 0 for a slot that does not exist

// The 72-byte public-key slot format: 4 zero bytes, X, 4 zero bytes, Y
// (atcacert_public_key_add_padding / _remove_padding).
std::array<uint8_t, 72> pad_public_key(const crypto::PublicKeyRaw& public_key);
crypto::PublicKeyRaw unpad_public_key(ByteView padded);

Result<DeviceSerial> read_device_serial(SlotStore& store);

// Compresses `cert_der` and writes every device location the definition names (compressed
// certificate, public key unless it comes from GenKey, stored serial, extra elements). Fails when
// a GenKey public key differs from the certificate's. Nothing is written if compression fails.
Status write_cert(const CertDef& def, SlotStore& store, ByteView cert_der,
                  const CompressOptions& options = {});
// Reads the device locations and rebuilds the certificate.
Result<Bytes> read_cert(const CertDef& def, SlotStore& store,
                        const std::optional<crypto::PublicKeyRaw>& issuer_public_key);

inline constexpr int kRootPublicKeySlot = 15;  // the kit's "signer CA public key" slot (kit.md)

struct CertChain {
  Bytes signer;  // DER
  Bytes device;  // DER
};

// Writes the signer and device certificates and the root public key (slot 15, padded).
Status write_chain(const CertDef& signer_def, const CertDef& device_def, SlotStore& store,
                   ByteView signer_der, ByteView device_der,
                   const crypto::PublicKeyRaw& root_public_key);
// Rebuilds both certificates; the root public key is read from slot 15.
Result<CertChain> read_chain(const CertDef& signer_def, const CertDef& device_def,
                             SlotStore& store);
// Checks that `issuer_key` signed the certificate (ECDSA P-256 over SHA-256 of its TBS part).
Status verify_signature(const CertDef& def, ByteView cert_der, EVP_PKEY* issuer_key);
Status verify_signature(const CertDef& def, ByteView cert_der,
                        const crypto::PublicKeyRaw& issuer_key);
// Checks the signer's signature with the root key and the device's with the signer's key.
Status verify_chain(const CertDef& signer_def, const CertDef& device_def, const CertChain& chain,
                    const crypto::PublicKeyRaw& root_public_key);

}  // namespace zt::atcacert
