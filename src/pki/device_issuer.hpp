// Device certificate issuance at factory rate: the signer is checked once, then each CSR costs one
// ECDSA verify and one ECDSA sign plus a few microseconds of DER work (see bench/issuance).
#pragma once

#include <cstdint>
#include <string_view>

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
  Result<crypto::X509Ptr> issue(X509_REQ* csr, int64_t now,
                                std::string_view what = "the device CSR") const;
  // DER in, DER out (the kit's genCsr returns DER, saveCredentials takes DER): the factory-rate
  // path, which never decodes a public key through OpenSSL's provider decoders.
  Result<Bytes> issue_der(ByteView csr_der, int64_t now,
                          std::string_view what = "the device CSR") const;

 private:
  struct Request;
  Result<Request> read_request(ByteView csr_der, std::string_view what) const;
  Result<Request> read_request(X509_REQ* csr, std::string_view what) const;
  Result<crypto::CertificateFields> certificate_fields(Request& request, int64_t now) const;

  crypto::X509NamePtr issuer_;
  Bytes authority_key_id_;
  crypto::PkeyPtr signer_key_;
};

// The extension-request policy for device CSRs: requested extensions are copied (as
// kit_provision.py does) except SubjectKeyIdentifier/AuthorityKeyIdentifier, which the issuer sets;
// a request for CA powers (BasicConstraints CA:TRUE, KeyUsage keyCertSign/cRLSign) refuses the CSR.
Result<std::vector<crypto::X509ExtensionPtr>> device_extension_policy(
    std::vector<crypto::X509ExtensionPtr> requested);

}  // namespace zt::pki
