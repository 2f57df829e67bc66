// Building X.509 v3 certificates and PKCS#10 CSRs over OpenSSL with full control of the DER layout:
// names as UTF8String entries in the given order, extensions in the order the caller lists them,
// RFC 5280 time encodings. Compressed-certificate templates (atcacert) depend on that layout byte
// for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/key.hpp"
#include "crypto/ossl.hpp"

namespace zt::crypto {

using X509NamePtr = UniquePtr<X509_NAME>;
using X509ExtensionPtr = UniquePtr<X509_EXTENSION>;

// One relative distinguished name: a short field name ("O", "CN", ...) and its UTF-8 value.
struct NameEntry {
  std::string field;
  std::string value;
};

// A Name whose RDNs appear in the order given, each value a UTF8String (RFC 5280 §4.1.2.4 MUST for
// new certificates). Fails on an unknown field name or an empty value.
Result<X509NamePtr> make_name(const std::vector<NameEntry>& entries);

// DER of a Name, for byte comparisons (issuer of a certificate vs. subject of its issuer).
Result<Bytes> name_der(const X509_NAME* name);

// KeyUsage bits (RFC 5280 §4.2.1.3), named as in the RFC.
enum KeyUsageBit : unsigned {
  kDigitalSignature = 1u << 0,
  kNonRepudiation = 1u << 1,
  kKeyEncipherment = 1u << 2,
  kDataEncipherment = 1u << 3,
  kKeyAgreement = 1u << 4,
  kKeyCertSign = 1u << 5,
  kCrlSign = 1u << 6,
};

// Extension constructors. Criticality follows the profiles: BasicConstraints and KeyUsage critical,
// key identifiers, SAN and EKU not critical.
Result<X509ExtensionPtr> basic_constraints_extension(bool ca, std::optional<int> path_length);
Result<X509ExtensionPtr> key_usage_extension(unsigned key_usage_bits);
Result<X509ExtensionPtr> subject_key_identifier_extension(ByteView key_id);
// keyIdentifier only (no authorityCertIssuer / serial), as the kit's certificates carry it.
Result<X509ExtensionPtr> authority_key_identifier_extension(ByteView key_id);
// Each entry is a dNSName, or an iPAddress when it parses as an IPv4/IPv6 literal.
Result<X509ExtensionPtr> subject_alt_name_extension(
    const std::vector<std::string>& dns_names_and_ips);
// ExtendedKeyUsage id-kp-serverAuth (and clientAuth when asked).
Result<X509ExtensionPtr> extended_key_usage_extension(bool server_auth, bool client_auth);
Result<X509ExtensionPtr> copy_extension(const X509_EXTENSION* extension);

// The extensions a CSR requests (PKCS#9 extensionRequest attribute), in their order; empty if none.
Result<std::vector<X509ExtensionPtr>> csr_extensions(const X509_REQ* csr);

// The time encoding RFC 5280 §4.1.2.5 prescribes: UTCTime for years 1950..2049, GeneralizedTime
// from 2050.
Result<UniquePtr<ASN1_STRING>> make_asn1_time(int64_t unix_seconds);

struct CertificateFields {
  Bytes serial;                       // big-endian, positive (high bit clear), 1..20 bytes
  const X509_NAME* issuer = nullptr;  // copied byte-exact (pass the issuer certificate's subject)
  const X509_NAME* subject = nullptr;
  int64_t not_before = 0;
  int64_t not_after = 0;
  EVP_PKEY* public_key = nullptr;              // the subject's key (its public part is used)
  std::vector<X509ExtensionPtr> extensions{};  // encoded in this order
  // Alternatively the subject's P-256 point X||Y; then `public_key` may be null.
  std::optional<PublicKeyRaw> public_key_xy{};
};

// Builds the TBSCertificate (v3) from `fields` and signs it with ECDSA-with-SHA256 using
// `signing_key`, which may be a file key or a PKCS#11/engine-backed key.
Result<X509Ptr> build_certificate(const CertificateFields& fields, EVP_PKEY* signing_key);
// The same certificate as DER, by the fast route: a P-256 key is written into the
// SubjectPublicKeyInfo directly instead of through OpenSSL 3.0's encoder (X509_set_pubkey: ~0.5 ms,
// more than the signature).
Result<Bytes> build_certificate_der(const CertificateFields& fields, EVP_PKEY* signing_key);

struct CsrFields {
  const X509_NAME* subject = nullptr;
  std::vector<X509ExtensionPtr> extensions;  // requested via extensionRequest, in this order
};

// Builds a PKCS#10 request for `key`'s public key, self-signed with `key` (ECDSA-with-SHA256).
Result<X509ReqPtr> build_csr(const CsrFields& fields, EVP_PKEY* key);

}  // namespace zt::crypto
