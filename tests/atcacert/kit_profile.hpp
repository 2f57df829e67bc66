// Test helper: certificates of exactly the kit profiles (kit.md "Certificate profiles"), made with
// OpenSSL's X509 API directly so these tests do not depend on zt::pki. The device serial uses
// atcacert::generate_serial (PUB_KEY_HASH), which the KATs check independently.
#pragma once

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <random>
#include <stdexcept>
#include <string>

#include "atcacert/codec.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/ossl.hpp"
#include "crypto/x509.hpp"

namespace zt::atcacert::testing {

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("kit_profile: ") + what);
}

struct Issued {
  crypto::PkeyPtr key;
  crypto::X509Ptr cert;
  Bytes der;
  crypto::PublicKeyRaw public_key{};
};

inline crypto::UniquePtr<X509_NAME> make_name(const std::string& cn) {
  crypto::UniquePtr<X509_NAME> name(X509_NAME_new());
  check(
      X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("Example Inc"), -1, -1, 0),
      "O");
  check(X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
        "CN");
  return name;
}

inline void set_times(X509* x, const UtcTime& not_before, const UtcTime& not_after) {
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after (RFC 5280 §4.1.2.5).
  check(ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(to_unix(not_before))) != nullptr,
        "notBefore");
  check(ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(to_unix(not_after))) != nullptr,
        "notAfter");
}

inline void add_key_ids(X509* x, const crypto::PublicKeyRaw& subject,
                        const crypto::PublicKeyRaw* issuer) {
  auto ski_value = key_id(subject);
  crypto::UniquePtr<ASN1_STRING> ski(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(ski.get(), ski_value.data(), static_cast<int>(ski_value.size()));
  check(X509_add1_ext_i2d(x, NID_subject_key_identifier, ski.get(), 0, X509V3_ADD_DEFAULT) == 1,
        "SKI");
  if (issuer != nullptr) {
    auto aki_value = key_id(*issuer);
    crypto::UniquePtr<AUTHORITY_KEYID> aki(AUTHORITY_KEYID_new());
    aki->keyid = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(aki->keyid, aki_value.data(), static_cast<int>(aki_value.size()));
    check(X509_add1_ext_i2d(x, NID_authority_key_identifier, aki.get(), 0, X509V3_ADD_DEFAULT) == 1,
          "AKI");
  }
}

// Sets the subject public key from X‖Y directly: X509_set_pubkey goes through OpenSSL 3's
// encoder machinery, which costs more than everything else here together.
inline void set_public_key(X509* x, const crypto::PublicKeyRaw& key) {
  auto* point = static_cast<unsigned char*>(OPENSSL_malloc(65));
  point[0] = 0x04;
  std::copy(key.begin(), key.end(), point + 1);
  check(X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                               V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), point, 65) == 1,
        "public key");
}

inline void set_serial(X509* x, ByteView serial) {
  crypto::UniquePtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  check(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) != nullptr, "serial");
}

inline Bytes random_serial16() {
  Bytes b = crypto::random_bytes(16);
  b[0] = static_cast<uint8_t>((b[0] & 0x7F) | 0x40);  // kit.md: positive, never trimmed
  return b;
}

inline Issued finish(crypto::X509Ptr cert, crypto::PkeyPtr key, EVP_PKEY* signing_key) {
  check(X509_sign(cert.get(), signing_key, EVP_sha256()) > 0, "sign");
  Issued out;
  auto der = crypto::certificate_to_der(cert.get());
  check(der.has_value(), "der");
  out.der = *der;
  out.public_key = *crypto::public_key_raw(key.get());
  // Re-read from DER: set_public_key leaves the in-memory object without a decoded key, which
  // OpenSSL's path validation needs.
  out.cert = std::move(*crypto::certificate_from_der(out.der));
  (void)cert;
  out.key = std::move(key);
  return out;
}

inline Issued make_root(const UtcTime& not_before) {
  auto key = std::move(*crypto::generate_p256_key());
  crypto::X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  set_serial(x.get(), random_serial16());
  auto name = make_name("Example Root CA");
  X509_set_subject_name(x.get(), name.get());
  X509_set_issuer_name(x.get(), name.get());
  set_times(x.get(), not_before,
            {not_before.year + 25, not_before.month, std::min(not_before.day, 28), not_before.hour,
             0, 0});
  set_public_key(x.get(), *crypto::public_key_raw(key.get()));
  crypto::UniquePtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  bc->ca = 0xFF;  // DER BOOLEAN TRUE; OpenSSL writes the int as given
  X509_add1_ext_i2d(x.get(), NID_basic_constraints, bc.get(), 1, X509V3_ADD_DEFAULT);
  auto raw = *crypto::public_key_raw(key.get());
  add_key_ids(x.get(), raw, nullptr);
  EVP_PKEY* signing = key.get();
  return finish(std::move(x), std::move(key), signing);
}

// Signer CA: notBefore as given (any minutes/seconds), notAfter + 10 years, CA:TRUE pathlen 0,
// KeyUsage digitalSignature|keyCertSign|cRLSign, SKI, AKI = root SKI.
inline Issued make_signer(const Issued& root, const UtcTime& not_before,
                          const std::string& signer_id = "FFFF") {
  auto key = std::move(*crypto::generate_p256_key());
  crypto::X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  set_serial(x.get(), random_serial16());
  X509_set_issuer_name(x.get(), X509_get_subject_name(root.cert.get()));
  auto subject = make_name("Example Signer " + signer_id);
  X509_set_subject_name(x.get(), subject.get());
  UtcTime not_after = not_before;
  not_after.year += 10;
  set_times(x.get(), not_before, not_after);
  set_public_key(x.get(), *crypto::public_key_raw(key.get()));
  crypto::UniquePtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  bc->ca = 0xFF;  // DER BOOLEAN TRUE; OpenSSL writes the int as given
  bc->pathlen = ASN1_INTEGER_new();
  ASN1_INTEGER_set(bc->pathlen, 0);
  check(X509_add1_ext_i2d(x.get(), NID_basic_constraints, bc.get(), 1, X509V3_ADD_DEFAULT) == 1,
        "BC");
  crypto::UniquePtr<ASN1_STRING> usage(ASN1_BIT_STRING_new());
  ASN1_BIT_STRING_set_bit(usage.get(), 0, 1);  // digitalSignature
  ASN1_BIT_STRING_set_bit(usage.get(), 5, 1);  // keyCertSign
  ASN1_BIT_STRING_set_bit(usage.get(), 6, 1);  // cRLSign
  check(X509_add1_ext_i2d(x.get(), NID_key_usage, usage.get(), 1, X509V3_ADD_DEFAULT) == 1, "KU");
  auto raw = *crypto::public_key_raw(key.get());
  add_key_ids(x.get(), raw, &root.public_key);
  return finish(std::move(x), std::move(key), root.key.get());
}

// Device: notBefore with minutes and seconds 0, notAfter 3000-12-31 23:59:59 (GeneralizedTime),
// serial = PUB_KEY_HASH over the issue date with expire years 0, SKI, AKI = signer SKI.
inline Issued make_device(const Issued& signer, const UtcTime& issue, crypto::PkeyPtr key = nullptr,
                          const UtcTime& not_after = {3000, 12, 31, 23, 59, 59},
                          int serial_expire_years = 0) {
  if (!key) key = std::move(*crypto::generate_p256_key());
  crypto::X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  auto raw = *crypto::public_key_raw(key.get());
  SerialInputs inputs;
  inputs.public_key = raw;
  UtcTime hours_only = issue;
  hours_only.minute = hours_only.second = 0;
  auto dates = serial_dates(hours_only, serial_expire_years);
  if (dates) {
    inputs.encoded_dates = dates->encoded_dates;
    inputs.format_version = dates->format_version;
    inputs.extended_dates = dates->extended_dates;
    set_serial(x.get(), *generate_serial(SnSource::pub_key_hash, 16, inputs));
  } else {
    set_serial(x.get(), random_serial16());  // an issue date no compressed certificate can hold
  }
  X509_set_issuer_name(x.get(), X509_get_subject_name(signer.cert.get()));
  auto subject = make_name("Example Device");
  X509_set_subject_name(x.get(), subject.get());
  set_times(x.get(), issue, not_after);
  set_public_key(x.get(), raw);
  add_key_ids(x.get(), raw, &signer.public_key);
  return finish(std::move(x), std::move(key), signer.key.get());
}

// A random issue date in the compressed range (2000..2031), hours only.
inline UtcTime random_issue_date(std::mt19937& rng) {
  UtcTime t;
  t.year = std::uniform_int_distribution<int>(2000, 2031)(rng);
  t.month = std::uniform_int_distribution<int>(1, 12)(rng);
  t.day = std::uniform_int_distribution<int>(1, days_in_month(t.year, t.month))(rng);
  t.hour = std::uniform_int_distribution<int>(0, 23)(rng);
  return t;
}

}  // namespace zt::atcacert::testing

// ---- The same profiles issued by zt::pki (what `ztp ca` runs). ----
#include "crypto/x509_builder.hpp"
#include "pki/profiles.hpp"

namespace zt::atcacert::testing {

inline Issued issued_from(crypto::X509Ptr cert, crypto::PkeyPtr key) {
  Issued out;
  out.der = *crypto::certificate_to_der(cert.get());
  out.public_key = *crypto::public_key_raw(key.get());
  out.cert = std::move(cert);
  out.key = std::move(key);
  return out;
}

inline Issued pki_root(const UtcTime& now) {
  auto key = std::move(*crypto::generate_p256_key());
  auto cert = pki::create_root_certificate(key.get(), to_unix(now));
  check(cert.has_value(), "pki root");
  return issued_from(std::move(*cert), std::move(key));
}

inline Issued pki_signer(const Issued& root, const UtcTime& now,
                         std::string_view signer_id = "FFFF") {
  auto key = std::move(*crypto::generate_p256_key());
  auto csr = pki::create_signer_csr(key.get(), signer_id);
  check(csr.has_value(), "pki signer csr");
  auto cert =
      pki::issue_signer_certificate(csr->get(), root.cert.get(), root.key.get(), to_unix(now));
  check(cert.has_value(), "pki signer");
  return issued_from(std::move(*cert), std::move(key));
}

// A device CSR as the kit's CSR template makes it (O=Example Inc, CN=Example Device), then the
// device certificate from zt::pki.
inline Issued pki_device(const Issued& signer, const UtcTime& now) {
  auto key = std::move(*crypto::generate_p256_key());
  auto name = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  crypto::CsrFields fields{.subject = name->get(), .extensions = {}};
  auto csr = crypto::build_csr(fields, key.get());
  check(csr.has_value(), "device csr");
  auto cert =
      pki::issue_device_certificate(csr->get(), signer.cert.get(), signer.key.get(), to_unix(now));
  check(cert.has_value(), "pki device");
  return issued_from(std::move(*cert), std::move(key));
}

}  // namespace zt::atcacert::testing

// ---- Factory-rate issuance through zt::pki::DeviceCertificateIssuer (DER CSR in, DER out). ----
#include "pki/device_issuer.hpp"

namespace zt::atcacert::testing {

// A device CSR (O=Example Inc, CN=Example Device, no extensions) in DER, built with the public key
// set from X‖Y directly (OpenSSL 3.0's key encoders are the slow part of build_csr).
inline Bytes fast_device_csr(EVP_PKEY* key) {
  crypto::UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  auto name = make_name("Example Device");
  X509_REQ_set_subject_name(req.get(), name.get());
  auto raw = *crypto::public_key_raw(key);
  auto* point = static_cast<unsigned char*>(OPENSSL_malloc(65));
  point[0] = 0x04;
  std::copy(raw.begin(), raw.end(), point + 1);
  check(X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req.get()),
                               OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                               OBJ_nid2obj(NID_X9_62_prime256v1), point, 65) == 1,
        "csr key");
  check(X509_REQ_sign(req.get(), key, EVP_sha256()) > 0, "csr sign");
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  check(n > 0, "csr der");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

inline Issued pki_fast_device(const pki::DeviceCertificateIssuer& issuer, const UtcTime& now) {
  Issued out;
  out.key = std::move(*crypto::generate_p256_key());
  out.public_key = *crypto::public_key_raw(out.key.get());
  auto der = issuer.issue_der(fast_device_csr(out.key.get()), to_unix(now));
  check(der.has_value(), der ? "" : der.error().message.c_str());
  out.der = std::move(*der);
  return out;
}

}  // namespace zt::atcacert::testing
