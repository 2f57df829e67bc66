// The certificate profiles of the zero-touch kit (shared/reference/kit.md): root CA, signer CA (CSR
// and certificate), device certificate, CA-registration verification certificate — and, for the
// local cloud's TLS endpoint, a server CA and server certificates.
//
// The signer and device certificates are rebuilt on the device from compressed forms (atcacert), so
// their DER layout is fixed: the offsets below are those of Microchip's reference definitions
// (firmware cert_def_1_signer.c / cert_def_2_device.c) and are asserted by tests/pki.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "crypto/ossl.hpp"

namespace zt::pki {

inline constexpr std::string_view kOrganization = "Example Inc";
inline constexpr std::string_view kRootCommonName = "Example Root CA";
inline constexpr std::string_view kSignerCommonNamePrefix =
    "Example Signer ";  // + 4-hex-char signer id
inline constexpr std::string_view kDefaultSignerId = "FFFF";
inline constexpr std::string_view kDeviceCommonName = "Example Device";

inline constexpr int kRootValidityYears = 25;
inline constexpr int kSignerValidityYears = 10;
inline constexpr int64_t kVerificationValiditySeconds = 24 * 3600;
// Device notAfter: 3000-12-31 23:59:59 as GeneralizedTime (kit_provision.py; "should be 9999").
inline constexpr UtcTime kDeviceNotAfter{3000, 12, 31, 23, 59, 59};

// Element locations in the DER of a device certificate (template id 2, 426 bytes when both R and S
// of the signature need a leading zero; the signature BIT STRING is shorter otherwise).
struct DeviceCertLayout {
  static constexpr size_t kTbsOffset = 4, kTbsSize = 335;
  static constexpr size_t kSerialOffset = 15, kSerialSize = 16;
  static constexpr size_t kSignerIdOffset = 93, kSignerIdSize = 4;
  static constexpr size_t kIssueDateOffset = 101, kIssueDateSize = 13;    // UTCTime
  static constexpr size_t kExpireDateOffset = 116, kExpireDateSize = 15;  // GeneralizedTime
  static constexpr size_t kPublicKeyOffset = 207, kPublicKeySize = 64;
  static constexpr size_t kSubjectKeyIdOffset = 286, kAuthorityKeyIdOffset = 319, kKeyIdSize = 20;
  static constexpr size_t kSignatureOffset = 351, kMaxSignatureSize = 75;
  static constexpr size_t kMaxSize = 426;
};

// Element locations in the DER of a signer certificate (template id 1).
struct SignerCertLayout {
  static constexpr size_t kTbsOffset = 4, kTbsSize = 370;
  static constexpr size_t kSerialOffset = 15, kSerialSize = 16;
  static constexpr size_t kIssueDateOffset = 97, kExpireDateOffset = 112,
                          kDateSize = 13;  // UTCTime
  static constexpr size_t kSignerIdOffset = 175, kSignerIdSize = 4;
  static constexpr size_t kPublicKeyOffset = 206, kPublicKeySize = 64;
  static constexpr size_t kSubjectKeyIdOffset = 321, kAuthorityKeyIdOffset = 354, kKeyIdSize = 20;
  static constexpr size_t kSignatureOffset = 386, kMaxSignatureSize = 75;
};

// 16 random bytes with b[0] &= 0x7F, b[0] |= 0x40: positive, and never shortened by DER.
Bytes random_serial();

// Root CA: O=Example Inc, CN=Example Root CA, self-signed, notBefore now, notAfter +25 years,
// extensions [SubjectKeyIdentifier, BasicConstraints critical CA:TRUE] (ca_create_root.py order).
Result<crypto::X509Ptr> create_root_certificate(EVP_PKEY* root_key, int64_t now);

// Signer CA CSR: O=Example Inc, CN=Example Signer <signer_id>, requesting [BasicConstraints
// critical CA:TRUE pathlen 0, KeyUsage critical, SubjectKeyIdentifier, AuthorityKeyIdentifier (own
// SKI)].
Result<crypto::X509ReqPtr> create_signer_csr(EVP_PKEY* signer_key,
                                             std::string_view signer_id = kDefaultSignerId);

// Signer CA certificate from a verified CSR: issuer = root subject, subject = CSR subject,
// notBefore now (Feb 29 becomes Feb 28), notAfter +10 years (both UTCTime), extensions
// [BasicConstraints critical CA:TRUE pathlen 0, KeyUsage critical
// digitalSignature|keyCertSign|cRLSign, SKI, AKI = root SKI].
Result<crypto::X509Ptr> issue_signer_certificate(X509_REQ* csr, const X509* root_cert,
                                                 EVP_PKEY* root_key, int64_t now);

// Device certificate from a CSR whose signature verifies: issuer = signer subject, notBefore = now
// with minutes and seconds 0, notAfter 3000-12-31 23:59:59, serial = device_serial_number(),
// extensions [those of the CSR's requests device_extension_policy allows, SKI, AKI = signer SKI];
// `dropped_extensions` (optional) receives the names of the requests left out.
Result<crypto::X509Ptr> issue_device_certificate(
    X509_REQ* csr, const X509* signer_cert, EVP_PKEY* signer_key, int64_t now,
    std::vector<std::string>* dropped_extensions = nullptr);

// First 16 bytes of SHA-256(public key X||Y ‖ compressed issue date), then b[0] &= 0x7F, |= 0x40
// (aws_kit_common.py device_cert_sn; atcacert SNSRC_PUB_KEY_HASH).
Bytes device_serial_number(ByteView public_key_xy64,
                           std::span<const uint8_t, 3> compressed_issue_date);

// atcacert compressed date (3 bytes): year-2000 (5 bits), month (4), day (5), hour (5), expire
// years (5), MSB first. Precondition: 2000 <= year <= 2031, 0 <= expire_years <= 31 (checked by the
// issuers).
std::array<uint8_t, 3> compress_date(const UtcTime& issue, int expire_years);

// Proof-of-possession certificate for CA registration: subject CN=<registration code>, public key =
// the signer's own key, issuer = signer subject, signed by the signer key, valid one day, no
// extensions.
Result<crypto::X509Ptr> create_verification_certificate(std::string_view registration_code,
                                                        const X509* signer_cert,
                                                        EVP_PKEY* signer_key, int64_t now);

// Self-signed CA for the local cloud's TLS endpoints: CN=<common_name>, 10 years, [BasicConstraints
// critical CA:TRUE, KeyUsage critical keyCertSign|cRLSign, SKI].
Result<crypto::X509Ptr> create_server_ca(EVP_PKEY* key, std::string_view common_name, int64_t now);

// TLS server certificate: CN = first name, SAN dNSName/iPAddress for each entry, EKU serverAuth,
// KeyUsage digitalSignature, SKI, AKI; valid from now - 1 h for 825 days.
Result<crypto::X509Ptr> issue_server_certificate(EVP_PKEY* server_public_key,
                                                 const std::vector<std::string>& dns_names_and_ips,
                                                 const X509* ca_cert, EVP_PKEY* ca_key,
                                                 int64_t now);

}  // namespace zt::pki
