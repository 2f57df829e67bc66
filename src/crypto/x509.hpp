// X.509 certificates and PKCS#10 CSRs: PEM/DER intake and output, names, key identifiers.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::crypto {

// Hostile-input bound for any certificate/CSR intake.
inline constexpr size_t kMaxCertificateBytes = 64 * 1024;

Result<X509Ptr> certificate_from_pem(std::string_view pem, std::string_view what = "certificate");
Result<X509Ptr> certificate_from_der(ByteView der, std::string_view what = "certificate");
// PEM or DER, detected by content.
Result<X509Ptr> certificate_from_bytes(ByteView data, std::string_view what = "certificate");
Result<std::vector<X509Ptr>> certificates_from_pem(std::string_view pem,
                                                   std::string_view what = "certificates");
Result<X509Ptr> load_certificate(const std::filesystem::path& path);
Result<std::string> certificate_to_pem(const X509* cert);
Result<Bytes> certificate_to_der(const X509* cert);

Result<X509ReqPtr> csr_from_pem(std::string_view pem, std::string_view what = "CSR");
Result<X509ReqPtr> csr_from_der(ByteView der, std::string_view what = "CSR");
Result<X509ReqPtr> csr_from_bytes(ByteView data, std::string_view what = "CSR");
Result<X509ReqPtr> load_csr(const std::filesystem::path& path);
Result<std::string> csr_to_pem(const X509_REQ* csr);
Result<Bytes> csr_to_der(const X509_REQ* csr);
// Fails unless the CSR's self-signature verifies with its own public key (a P-256 key).
Status verify_csr_signature(X509_REQ* csr, std::string_view what = "CSR");
// The same check of the CSR's own signature, for a key of any type (the caller judges the key).
Status verify_csr_self_signature(X509_REQ* csr, std::string_view what = "CSR");

Result<PkeyPtr> certificate_public_key(const X509* cert);
Result<PkeyPtr> csr_public_key(const X509_REQ* csr);

// One-line RFC 2253-ish rendering, e.g. "O=Example Inc, CN=Example Device".
std::string name_to_string(const X509_NAME* name);
// The first value of `field` ("CN", "O", ...) in `name`, or empty.
std::string name_entry(const X509_NAME* name, std::string_view field);

// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents.
Result<Bytes> key_identifier(const EVP_PKEY* key);
// The certificate's SubjectKeyIdentifier extension value, or not_found.
Result<Bytes> subject_key_identifier(const X509* cert);
Result<Bytes> authority_key_identifier(const X509* cert);

// Unix seconds of notBefore / notAfter.
Result<int64_t> certificate_not_before(const X509* cert);
Result<int64_t> certificate_not_after(const X509* cert);
Bytes certificate_serial(const X509* cert);  // big-endian magnitude

}  // namespace zt::crypto
