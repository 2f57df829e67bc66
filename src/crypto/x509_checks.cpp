#include "crypto/x509_checks.hpp"

namespace zt::crypto {
namespace {
std::string rfc2253(const X509_NAME* name) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}
}  // namespace

bool is_ca_certificate(const X509* cert) {
  // X509_check_ca also accepts v1 self-signed roots; AWS demands the extension itself.
  int critical = 0;
  UniquePtr<BASIC_CONSTRAINTS> constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, &critical, nullptr)));
  return constraints && constraints->ca;
}

Status verify_certificate_signature(const X509* cert, const EVP_PKEY* issuer_key) {
  int rc = X509_verify(const_cast<X509*>(cert), const_cast<EVP_PKEY*>(issuer_key));
  if (rc == 1) return ok();
  clear_openssl_errors();
  return make_error(Errc::crypto, "certificate signature does not verify with the given key");
}

std::string subject_text(const X509* cert) { return rfc2253(X509_get_subject_name(cert)); }
std::string issuer_text(const X509* cert) { return rfc2253(X509_get_issuer_name(cert)); }

}  // namespace zt::crypto
