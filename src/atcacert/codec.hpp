// Compress a certificate against its definition, and rebuild (decompress) it bit for bit.
// Behaviour follows cryptoauthlib's atcacert_def.c (atcacert_get_comp_cert, atcacert_cert_build_*,
// atcacert_set_signature, atcacert_gen_cert_sn); the code is our own.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>

#include "atcacert/compressed.hpp"
#include "atcacert/definition.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"

namespace zt::atcacert {

// The ATECC508A serial number: config bytes 0..3 and 8..12 (atcacert_cert_build_process).
using DeviceSerial = std::array<uint8_t, 9>;

// Everything besides the definition that rebuilding a certificate takes: what the secure element
// stores (compressed certificate, stored serial, extra elements), the subject public key, and what
// the caller knows (issuer key for the authority key id, the chip's serial number).
struct DeviceData {
  CompressedBytes compressed{};
  crypto::PublicKeyRaw subject_public_key{};
  // Sets the authority key id (SHA-1 of 04‖X‖Y). Without it the template's value stays, as
  // cryptoauthlib does when atcacert_cert_build_start gets no CA key.
  std::optional<crypto::PublicKeyRaw> issuer_public_key;
  std::optional<DeviceSerial> device_sn;  // needed by DEVICE_SN and DEVICE_SN_HASH sources
  Bytes stored_serial;                    // STORED source: the cert_sn_dev_loc bytes
  std::map<std::string, Bytes> elements;  // extra elements (cert_elements) by id
};

struct CompressOptions {
  std::optional<crypto::PublicKeyRaw> issuer_public_key;  // checked against the AKI, and kept
  std::optional<DeviceSerial> device_sn;
};

// Refuses, naming the reason, any certificate the definition cannot rebuild bit-exactly
// (structure, dates with minutes, leap days, serial not following the source, non-minimal DER...).
Result<DeviceData> compress(const CertDef& def, ByteView cert_der,
                            const CompressOptions& options = {});

// Template + device data → DER. Fixes the signature's DER and the enclosing lengths.
Result<Bytes> decompress(const CertDef& def, const DeviceData& data);

// Key identifier as atcacert_get_key_id computes it: SHA-1(0x04 ‖ X ‖ Y), the same value as
// RFC 5280 §4.2.1.2 method (1) for an uncompressed P-256 key.
crypto::Sha1Digest key_id(const crypto::PublicKeyRaw& public_key);

// The serial a generated source yields (atcacert_gen_cert_sn). `length` is the serial element size.
struct SerialInputs {
  crypto::PublicKeyRaw public_key{};
  EncodedDates encoded_dates{};  // issue date with the definition's expire years
  std::array<uint8_t, 2> signer_id{};
  std::optional<DeviceSerial> device_sn;
  // Format versions 1 and 2 hash one more byte: byte 71's extended date bits
  // (atcacert_generate_sn).
  uint8_t format_version = 0;
  uint8_t extended_dates = 0;
};
// The serial inputs' date part for an issue date and expire years, in the format version they need.
struct SerialDates {
  EncodedDates encoded_dates{};
  uint8_t format_version = 0;
  uint8_t extended_dates = 0;
};
Result<SerialDates> serial_dates(const UtcTime& issue, int expire_years);
Result<Bytes> generate_serial(SnSource source, size_t length, const SerialInputs& inputs);

// The TBS bytes and the raw signature of a certificate that follows `def`.
Result<ByteView> tbs_of(const CertDef& def, ByteView cert_der);
Result<crypto::RawSignature> signature_of(const CertDef& def, ByteView cert_der);

}  // namespace zt::atcacert
