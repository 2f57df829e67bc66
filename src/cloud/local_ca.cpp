#include "cloud/local_ca.hpp"

#include <arpa/inet.h>

#include "crypto/digest.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud {
namespace {

Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  crypto::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return crypto::openssl_error("adding extension " + std::string(OBJ_nid2sn(nid)));
  }
  return ok();
}

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

}  // namespace

Result<crypto::X509Ptr> issue_certificate(const CertificateRequest& request,
                                          const EVP_PKEY* subject_key, const X509* issuer_cert,
                                          EVP_PKEY* issuer_key) {
  crypto::X509Ptr cert(X509_new());
  if (!cert) return crypto::openssl_error("X509_new");
  X509_set_version(cert.get(), 2);
  // 16 random bytes, top bit clear so the DER INTEGER stays positive (RFC 5280 §4.1.2.2).
  Bytes serial = crypto::random_bytes(16);
  serial[0] = static_cast<uint8_t>((serial[0] & 0x7f) | 0x40);
  crypto::UniquePtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    return crypto::openssl_error("setting the serial number");
  }
  crypto::UniquePtr<X509_NAME> name(X509_NAME_new());
  for (const auto& [field, value] : request.subject) {
    if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      return crypto::openssl_error("subject field " + field);
    }
  }
  X509_set_subject_name(cert.get(), name.get());
  X509_set_issuer_name(cert.get(), issuer_cert ? X509_get_subject_name(issuer_cert) : name.get());
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), request.not_before) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), request.not_after)) {
    return crypto::openssl_error("setting validity");
  }
  if (X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(subject_key)) != 1) {
    return crypto::openssl_error("setting the public key");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert ? const_cast<X509*>(issuer_cert) : cert.get(), cert.get(),
                 nullptr, nullptr, 0);
  ZT_TRY(add_extension(cert.get(), &ctx, NID_basic_constraints,
                       request.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  ZT_TRY(add_extension(cert.get(), &ctx, NID_key_usage,
                       request.is_ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                                     : "critical,digitalSignature,keyAgreement"));
  ZT_TRY(add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (issuer_cert) ZT_TRY(add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid"));
  std::string eku;
  if (request.server_auth) eku = "serverAuth";
  if (request.client_auth) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
  if (!eku.empty()) ZT_TRY(add_extension(cert.get(), &ctx, NID_ext_key_usage, eku));
  if (!request.dns_names.empty()) {
    std::string san;
    for (const auto& dns : request.dns_names) {
      san += (san.empty() ? "" : ",") + std::string(is_ip_literal(dns) ? "IP:" : "DNS:") + dns;
    }
    ZT_TRY(add_extension(cert.get(), &ctx, NID_subject_alt_name, san));
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) {
    return crypto::openssl_error("signing the certificate");
  }
  return cert;
}

}  // namespace zt::cloud
