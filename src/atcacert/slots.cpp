#include "atcacert/slots.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"

namespace zt::atcacert {

namespace {

Error slot_error(int slot, size_t offset, size_t length) {
  return make_error(Errc::invalid_argument,
                    fmt::format("slot {} has no bytes {}..{} (it holds {})", slot, offset,
                                offset + length, slot_size(slot)));
}

Status require_data_zone(const DeviceLoc& loc, std::string_view what) {
  if (loc.zone != DeviceZone::data) {
    return make_error(Errc::unsupported,
                      fmt::format("{} is not in the data zone; only slots are written here", what));
  }
  return ok();
}

Result<Bytes> read_loc(SlotStore& store, const DeviceLoc& loc) {
  switch (loc.zone) {
    case DeviceZone::data:
      return store.read_slot(loc.slot, loc.offset, loc.count);
    case DeviceZone::config:
      return store.read_config(loc.offset, loc.count);
    default:
      return make_error(Errc::unsupported, "only data-zone and config-zone locations are read");
  }
}

Result<crypto::PublicKeyRaw> public_key_of(const CertDef& def, ByteView cert) {
  const CertLoc& loc = def.element(StdElement::public_key);
  if (!loc.present() || loc.end() > cert.size()) {
    return make_error(Errc::parse, fmt::format("no public key in the {} certificate", def.name));
  }
  crypto::PublicKeyRaw key{};
  std::copy_n(cert.begin() + loc.offset, 64, key.begin());
  return key;
}

}  // namespace

size_t slot_size(int slot) {
  if (slot >= 0 && slot <= 7) return 36;
  if (slot == 8) return 416;
  if (slot >= 9 && slot <= 15) return 72;
  return 0;
}

MemorySlotStore::MemorySlotStore(const DeviceSerial& serial) : config_(128, 0) {
  for (int slot = 0; slot < 16; ++slot)
    slots_[static_cast<size_t>(slot)].assign(slot_size(slot), 0);
  std::copy_n(serial.begin(), 4, config_.begin());
  std::copy_n(serial.begin() + 4, 5, config_.begin() + 8);
}

Result<Bytes> MemorySlotStore::read_slot(int slot, size_t offset, size_t length) {
  if (slot < 0 || slot > 15 || offset + length > slot_size(slot))
    return slot_error(slot, offset, length);
  const Bytes& data = slots_[static_cast<size_t>(slot)];
  return Bytes(data.begin() + static_cast<ptrdiff_t>(offset),
               data.begin() + static_cast<ptrdiff_t>(offset + length));
}

Status MemorySlotStore::write_slot(int slot, size_t offset, ByteView data) {
  if (slot < 0 || slot > 15 || offset + data.size() > slot_size(slot)) {
    return slot_error(slot, offset, data.size());
  }
  std::copy(data.begin(), data.end(),
            slots_[static_cast<size_t>(slot)].begin() + static_cast<ptrdiff_t>(offset));
  return ok();
}

Result<Bytes> MemorySlotStore::read_config(size_t offset, size_t length) {
  if (offset + length > config_.size()) {
    return make_error(Errc::invalid_argument, "the config zone is 128 bytes");
  }
  return Bytes(config_.begin() + static_cast<ptrdiff_t>(offset),
               config_.begin() + static_cast<ptrdiff_t>(offset + length));
}

Result<crypto::PublicKeyRaw> MemorySlotStore::generate_public_key(int slot) {
  auto it = key_slots_.find(slot);
  if (it == key_slots_.end()) {
    return make_error(Errc::not_found, fmt::format("slot {} holds no private key", slot));
  }
  return it->second;
}

void MemorySlotStore::set_private_key_public_part(int slot,
                                                  const crypto::PublicKeyRaw& public_key) {
  key_slots_[slot] = public_key;
}

std::array<uint8_t, 72> pad_public_key(const crypto::PublicKeyRaw& key) {
  std::array<uint8_t, 72> padded{};
  std::copy_n(key.begin(), 32, padded.begin() + 4);
  std::copy_n(key.begin() + 32, 32, padded.begin() + 40);
  return padded;
}

crypto::PublicKeyRaw unpad_public_key(ByteView padded) {
  crypto::PublicKeyRaw key{};
  std::copy_n(padded.begin() + 4, 32, key.begin());
  std::copy_n(padded.begin() + 40, 32, key.begin() + 32);
  return key;
}

Result<DeviceSerial> read_device_serial(SlotStore& store) {
  ZT_TRY_ASSIGN(Bytes config, store.read_config(0, 13));
  if (config.size() != 13) return make_error(Errc::io, "short config-zone read");
  DeviceSerial serial{};
  std::copy_n(config.begin(), 4, serial.begin());
  std::copy_n(config.begin() + 8, 5, serial.begin() + 4);
  return serial;
}

Status write_cert(const CertDef& def, SlotStore& store, ByteView cert_der,
                  const CompressOptions& options) {
  ZT_TRY_ASSIGN(DeviceData data, compress(def, cert_der, options));
  // Check every location before the first write, so a refusal leaves the slots untouched.
  if (!def.comp_cert_dev_loc.present()) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("the {} definition has no compressed-certificate location", def.name));
  }
  ZT_TRY(require_data_zone(def.comp_cert_dev_loc, "the compressed certificate location"));
  const DeviceLoc& key_loc = def.public_key_dev_loc;
  if (key_loc.present() && key_loc.is_genkey) {
    ZT_TRY_ASSIGN(crypto::PublicKeyRaw in_slot, store.generate_public_key(key_loc.slot));
    if (in_slot != data.subject_public_key) {
      return make_error(Errc::conflict,
                        fmt::format("the {} certificate's public key is not the key of slot {}",
                                    def.name, key_loc.slot));
    }
  } else if (key_loc.present()) {
    ZT_TRY(require_data_zone(key_loc, "the public key location"));
  }
  if (def.sn_source == SnSource::stored && def.cert_sn_dev_loc.present()) {
    ZT_TRY(require_data_zone(def.cert_sn_dev_loc, "the serial number location"));
  }
  for (const CertElement& e : def.cert_elements) ZT_TRY(require_data_zone(e.device_loc, e.id));

  ZT_TRY(
      store.write_slot(def.comp_cert_dev_loc.slot, def.comp_cert_dev_loc.offset, data.compressed));
  if (key_loc.present() && !key_loc.is_genkey) {
    if (key_loc.count == 72) {
      ZT_TRY(
          store.write_slot(key_loc.slot, key_loc.offset, pad_public_key(data.subject_public_key)));
    } else {
      ZT_TRY(store.write_slot(key_loc.slot, key_loc.offset, data.subject_public_key));
    }
  }
  if (def.sn_source == SnSource::stored && def.cert_sn_dev_loc.present()) {
    ZT_TRY(
        store.write_slot(def.cert_sn_dev_loc.slot, def.cert_sn_dev_loc.offset, data.stored_serial));
  }
  for (const CertElement& e : def.cert_elements) {
    ZT_TRY(store.write_slot(e.device_loc.slot, e.device_loc.offset, data.elements.at(e.id)));
  }
  return ok();
}

Result<Bytes> read_cert(const CertDef& def, SlotStore& store,
                        const std::optional<crypto::PublicKeyRaw>& issuer_public_key) {
  ZT_TRY(validate(def));
  DeviceData data;
  data.issuer_public_key = issuer_public_key;
  ZT_TRY_ASSIGN(Bytes compressed, read_loc(store, def.comp_cert_dev_loc));
  if (compressed.size() != kCompressedCertSize)
    return make_error(Errc::io, "short compressed read");
  std::copy(compressed.begin(), compressed.end(), data.compressed.begin());

  const DeviceLoc& key_loc = def.public_key_dev_loc;
  if (key_loc.is_genkey) {
    ZT_TRY_ASSIGN(data.subject_public_key, store.generate_public_key(key_loc.slot));
  } else {
    ZT_TRY_ASSIGN(Bytes key, read_loc(store, key_loc));
    if (key.size() == 72) {
      data.subject_public_key = unpad_public_key(key);
    } else if (key.size() == 64) {
      std::copy(key.begin(), key.end(), data.subject_public_key.begin());
    } else {
      return make_error(Errc::io, "a public key location holds 64 or 72 bytes");
    }
  }
  if (def.sn_source == SnSource::stored && def.cert_sn_dev_loc.present()) {
    ZT_TRY_ASSIGN(data.stored_serial, read_loc(store, def.cert_sn_dev_loc));
  }
  const SnSource s = def.sn_source;
  if (s == SnSource::device_sn || s == SnSource::device_sn_hash ||
      s == SnSource::device_sn_hash_pos || s == SnSource::device_sn_hash_raw) {
    ZT_TRY_ASSIGN(data.device_sn, read_device_serial(store));
  }
  for (const CertElement& e : def.cert_elements) {
    ZT_TRY_ASSIGN(data.elements[e.id], read_loc(store, e.device_loc));
  }
  return with_context(decompress(def, data),
                      fmt::format("rebuilding the {} certificate", def.name));
}

Status write_chain(const CertDef& signer_def, const CertDef& device_def, SlotStore& store,
                   ByteView signer_der, ByteView device_der,
                   const crypto::PublicKeyRaw& root_public_key) {
  ZT_TRY_ASSIGN(crypto::PublicKeyRaw signer_key, public_key_of(signer_def, signer_der));
  // Compress both before writing either: a refused device certificate leaves the slots as they
  // were.
  ZT_TRY(with_context(compress(signer_def, signer_der, {root_public_key, std::nullopt}),
                      "signer certificate"));
  ZT_TRY(with_context(compress(device_def, device_der, {signer_key, std::nullopt}),
                      "device certificate"));
  ZT_TRY(write_cert(signer_def, store, signer_der, {root_public_key, std::nullopt}));
  ZT_TRY(write_cert(device_def, store, device_der, {signer_key, std::nullopt}));
  return store.write_slot(kRootPublicKeySlot, 0, pad_public_key(root_public_key));
}

Result<CertChain> read_chain(const CertDef& signer_def, const CertDef& device_def,
                             SlotStore& store) {
  ZT_TRY_ASSIGN(Bytes root_slot, store.read_slot(kRootPublicKeySlot, 0, 72));
  const crypto::PublicKeyRaw root_key = unpad_public_key(root_slot);
  CertChain chain;
  ZT_TRY_ASSIGN(chain.signer, read_cert(signer_def, store, root_key));
  ZT_TRY_ASSIGN(crypto::PublicKeyRaw signer_key, public_key_of(signer_def, chain.signer));
  ZT_TRY_ASSIGN(chain.device, read_cert(device_def, store, signer_key));
  return chain;
}

Status verify_signature(const CertDef& def, ByteView cert, EVP_PKEY* issuer_key) {
  ZT_TRY_ASSIGN(ByteView tbs, tbs_of(def, cert));
  ZT_TRY_ASSIGN(crypto::RawSignature signature, signature_of(def, cert));
  crypto::Sha256Digest digest = crypto::sha256(tbs);
  if (!crypto::ecdsa_verify_digest_raw(issuer_key, digest, signature)) {
    return make_error(
        Errc::crypto,
        fmt::format("the {} certificate's signature does not verify with the issuer's "
                    "public key",
                    def.name));
  }
  return ok();
}

Status verify_signature(const CertDef& def, ByteView cert, const crypto::PublicKeyRaw& issuer_key) {
  ZT_TRY_ASSIGN(crypto::PkeyPtr key, crypto::public_key_from_raw(issuer_key));
  return verify_signature(def, cert, key.get());
}

Status verify_chain(const CertDef& signer_def, const CertDef& device_def, const CertChain& chain,
                    const crypto::PublicKeyRaw& root_public_key) {
  ZT_TRY(
      with_context(verify_signature(signer_def, chain.signer, root_public_key), "root → signer"));
  ZT_TRY_ASSIGN(crypto::PublicKeyRaw signer_key, public_key_of(signer_def, chain.signer));
  return with_context(verify_signature(device_def, chain.device, signer_key), "signer → device");
}

}  // namespace zt::atcacert
