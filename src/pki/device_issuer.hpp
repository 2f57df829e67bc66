// Device certificate issuance at factory rate: the signer is checked once, then each CSR costs one
// ECDSA verify and one ECDSA sign plus a few microseconds of DER work (see bench/issuance).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ossl.hpp"
#include "crypto/x509_builder.hpp"

namespace zt::pki {

class DeviceCertificateIssuer {
 public:
  // Fails unless `signer_key` is P-256 and matches `signer_cert`, and the signer has a
  // SubjectKeyIdentifier. Keeps its own references; the issuer may outlive the arguments.
  static Result<DeviceCertificateIssuer> create(const X509* signer_cert, EVP_PKEY* signer_key);

  // The device profile of kit.md (see issue_device_certificate in profiles.hpp). `what` names the
  // CSR in error messages.
  // `dropped` (optional) receives the CSR extensions left out (device_extension_policy).
  Result<crypto::X509Ptr> issue(X509_REQ* csr, int64_t now,
                                std::string_view what = "the device CSR",
                                std::vector<std::string>* dropped = nullptr) const;
  // DER in, DER out (the kit's genCsr returns DER, saveCredentials takes DER): the factory-rate
  // path, which never decodes a public key through OpenSSL's provider decoders.
  Result<Bytes> issue_der(ByteView csr_der, int64_t now, std::string_view what = "the device CSR",
                          std::vector<std::string>* dropped = nullptr) const;

 private:
  struct Request;
  Result<Request> read_request(ByteView csr_der, std::string_view what) const;
  Result<Request> read_request(X509_REQ* csr, std::string_view what) const;
  Result<crypto::CertificateFields> certificate_fields(Request& request, int64_t now) const;

  crypto::X509NamePtr issuer_;
  Bytes authority_key_id_;
  crypto::PkeyPtr signer_key_;
};

// The extension-request policy for device CSRs, an allow-list: a device certificate carries
// SubjectKeyIdentifier and AuthorityKeyIdentifier (set by the issuer from the keys), and, when the
// CSR asks for them, BasicConstraints CA:FALSE, KeyUsage digitalSignature and ExtendedKeyUsage
// clientAuth — in the profile's own encoding, never the CSR's bytes. Everything else a CSR requests
// (subjectAltName, nsCertType, serverAuth, other key usages...) is left out and named in `dropped`.
// A request for CA powers (BasicConstraints CA:TRUE, KeyUsage keyCertSign/cRLSign) refuses the CSR.
struct DeviceExtensions {
  std::vector<crypto::X509ExtensionPtr> extensions;
  std::vector<std::string> dropped;  // e.g. "subjectAltName", "extendedKeyUsage serverAuth"
};
Result<DeviceExtensions> device_extension_policy(std::vector<crypto::X509ExtensionPtr> requested);

}  // namespace zt::pki
