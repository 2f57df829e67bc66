// Fuzz target: everything a CA takes from outside — certificates and CSRs as PEM or DER, the CSR
// signature check, and device issuance from parsed CSRs (including requested extensions).
//
// Input byte 0 selects the path; the rest is the document. Even selectors only parse and verify;
// odd selectors re-sign a parsed CSR with a fixed device key first, so fuzzed subjects and
// extension requests reach issue_device_certificate() instead of stopping at the signature check.
#include <cstddef>
#include <cstdint>

#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "pki/device_issuer.hpp"
#include "pki/profiles.hpp"

namespace {

using namespace zt;

struct Ca {
  crypto::PkeyPtr root_key, signer_key, device_key;
  crypto::X509Ptr root, signer;
};

const Ca& ca() {
  static const Ca instance = [] {
    Ca out;
    out.root_key = std::move(*crypto::generate_p256_key());
    out.signer_key = std::move(*crypto::generate_p256_key());
    out.device_key = std::move(*crypto::generate_p256_key());
    out.root = std::move(*pki::create_root_certificate(out.root_key.get(), 1795617441));
    auto csr = pki::create_signer_csr(out.signer_key.get());
    out.signer = std::move(
        *pki::issue_signer_certificate(csr->get(), out.root.get(), out.root_key.get(), 1795617441));
    return out;
  }();
  return instance;
}

void exercise_certificate(const X509* cert) {
  (void)crypto::certificate_to_der(cert);
  (void)crypto::certificate_to_pem(cert);
  (void)crypto::name_to_string(X509_get_subject_name(cert));
  (void)crypto::name_entry(X509_get_issuer_name(cert), "CN");
  (void)crypto::subject_key_identifier(cert);
  (void)crypto::authority_key_identifier(cert);
  (void)crypto::certificate_not_before(cert);
  (void)crypto::certificate_not_after(cert);
  (void)crypto::certificate_serial(cert);
  if (auto key = crypto::certificate_public_key(cert)) (void)crypto::public_key_raw(key->get());
}

void exercise_csr(X509_REQ* csr, bool resign) {
  const Ca& authority = ca();
  (void)crypto::csr_to_der(csr);
  (void)crypto::csr_extensions(csr);
  (void)crypto::name_to_string(X509_REQ_get_subject_name(csr));
  if (resign) {
    if (X509_REQ_set_pubkey(csr, authority.device_key.get()) != 1 ||
        X509_REQ_sign(csr, authority.device_key.get(), EVP_sha256()) <= 0) {
      crypto::clear_openssl_errors();
      return;
    }
  }
  if (!crypto::verify_csr_signature(csr)) return;
  auto cert = pki::issue_device_certificate(csr, authority.signer.get(), authority.signer_key.get(),
                                            1795617441);
  if (cert) {
    // Whatever was requested, the result must chain to the signer and never be a CA.
    auto signer_key = crypto::certificate_public_key(authority.signer.get());
    if (X509_verify(cert->get(), signer_key->get()) != 1) __builtin_trap();
    if (X509_check_ca(cert->get()) != 0) __builtin_trap();
    exercise_certificate(cert->get());
  }
}

// The factory-rate route: raw DER through the DER-cursor CSR reader (and its OpenSSL fallback).
void exercise_der_route(ByteView document) {
  const Ca& authority = ca();
  static const auto issuer =
      pki::DeviceCertificateIssuer::create(authority.signer.get(), authority.signer_key.get());
  auto der = issuer->issue_der(document, 1795617441, "fuzz CSR");
  if (der) {
    auto cert = crypto::certificate_from_der(*der);
    if (!cert) __builtin_trap();  // we must never emit DER OpenSSL cannot read back
    auto signer_key = crypto::certificate_public_key(authority.signer.get());
    if (X509_verify(cert->get(), signer_key->get()) != 1 || X509_check_ca(cert->get()) != 0)
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool resign = (data[0] & 1) != 0;
  ByteView document(data + 1, size - 1);
  if ((data[0] & 2) != 0) {
    exercise_der_route(document);
    crypto::clear_openssl_errors();
    return 0;
  }
  if (auto cert = crypto::certificate_from_bytes(document, "fuzz certificate"))
    exercise_certificate(cert->get());
  if (auto csr = crypto::csr_from_bytes(document, "fuzz CSR")) exercise_csr(csr->get(), resign);
  crypto::clear_openssl_errors();
  return 0;
}
