#include "crypto/x509.hpp"

#include <openssl/pem.h>

#include "common/file.hpp"
#include "crypto/der_encode.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"

namespace zt::crypto {

namespace {

bool looks_like_pem(ByteView data) {
  std::string_view text = as_chars(data);
  return text.find("-----BEGIN ") != std::string_view::npos;
}

Status check_size(size_t size, std::string_view what) {
  if (size == 0) return make_error(Errc::parse, std::string(what) + " is empty");
  if (size > kMaxCertificateBytes) {
    return make_error(Errc::invalid_argument, std::string(what) + " is larger than " +
                                                  std::to_string(kMaxCertificateBytes) + " bytes");
  }
  return ok();
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

Result<int64_t> asn1_time_to_unix(const ASN1_TIME* time) {
  struct tm tm {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1)
    return openssl_error("reading certificate time", Errc::parse);
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

Result<X509Ptr> certificate_from_pem(std::string_view pem, std::string_view what) {
  ZT_TRY(check_size(pem.size(), what));
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* raw = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr)
    return openssl_error(std::string(what) + " is not a PEM certificate", Errc::parse);
  return X509Ptr(raw);
}

Result<X509Ptr> certificate_from_der(ByteView der, std::string_view what) {
  ZT_TRY(check_size(der.size(), what));
  const unsigned char* p = der.data();
  X509* raw = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr)
    return openssl_error(std::string(what) + " is not a DER certificate", Errc::parse);
  X509Ptr cert(raw);
  if (p != der.data() + der.size()) {
    return make_error(Errc::parse, std::string(what) + " has trailing bytes after the certificate");
  }
  return cert;
}

Result<X509Ptr> certificate_from_bytes(ByteView data, std::string_view what) {
  return looks_like_pem(data) ? certificate_from_pem(as_chars(data), what)
                              : certificate_from_der(data, what);
}

Result<std::vector<X509Ptr>> certificates_from_pem(std::string_view pem, std::string_view what) {
  ZT_TRY(check_size(pem.size(), what));
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> out;
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(raw);
  clear_openssl_errors();  // end of input is reported as an error
  if (out.empty()) return make_error(Errc::parse, std::string(what) + " holds no PEM certificate");
  return out;
}

Result<X509Ptr> load_certificate(const std::filesystem::path& path) {
  ZT_TRY_ASSIGN(Bytes data, read_file(path, kMaxCertificateBytes));
  return certificate_from_bytes(data, path.string());
}

Result<std::string> certificate_to_pem(const X509* cert) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return openssl_error("encoding certificate");
  return bio_to_string(bio.get());
}

Result<Bytes> certificate_to_der(const X509* cert) {
  return encode_der(i2d_X509, cert, "encoding certificate");
}

Result<X509ReqPtr> csr_from_pem(std::string_view pem, std::string_view what) {
  ZT_TRY(check_size(pem.size(), what));
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509_REQ* raw = bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr)
    return openssl_error(std::string(what) + " is not a PEM certificate request", Errc::parse);
  return X509ReqPtr(raw);
}

Result<X509ReqPtr> csr_from_der(ByteView der, std::string_view what) {
  ZT_TRY(check_size(der.size(), what));
  const unsigned char* p = der.data();
  X509_REQ* raw = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr)
    return openssl_error(std::string(what) + " is not a DER certificate request", Errc::parse);
  X509ReqPtr csr(raw);
  if (p != der.data() + der.size()) {
    return make_error(Errc::parse, std::string(what) + " has trailing bytes after the request");
  }
  return csr;
}

Result<X509ReqPtr> csr_from_bytes(ByteView data, std::string_view what) {
  return looks_like_pem(data) ? csr_from_pem(as_chars(data), what) : csr_from_der(data, what);
}

Result<X509ReqPtr> load_csr(const std::filesystem::path& path) {
  ZT_TRY_ASSIGN(Bytes data, read_file(path, kMaxCertificateBytes));
  return csr_from_bytes(data, path.string());
}

Result<std::string> csr_to_pem(const X509_REQ* csr) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), csr) != 1) return openssl_error("encoding CSR");
  return bio_to_string(bio.get());
}

Result<Bytes> csr_to_der(const X509_REQ* csr) {
  return encode_der(i2d_X509_REQ, csr, "encoding CSR");
}

Status verify_csr_signature(X509_REQ* csr, std::string_view what) {
  ZT_TRY_ASSIGN(PkeyPtr key, csr_public_key(csr));
  ZT_TRY(require_p256(key.get(), std::string("the public key of ") + std::string(what)));
  return verify_csr_self_signature(csr, what);
}

Status verify_csr_self_signature(X509_REQ* csr, std::string_view what) {
  ZT_TRY_ASSIGN(PkeyPtr key, csr_public_key(csr));
  if (X509_REQ_verify(csr, key.get()) != 1) {
    clear_openssl_errors();
    return make_error(
        Errc::crypto,
        std::string(what) + " has an invalid signature (it was not signed by its own key)");
  }
  return ok();
}

Result<PkeyPtr> certificate_public_key(const X509* cert) {
  EVP_PKEY* raw = X509_get_pubkey(const_cast<X509*>(cert));
  if (raw == nullptr) return openssl_error("reading certificate public key", Errc::parse);
  return PkeyPtr(raw);
}

Result<PkeyPtr> csr_public_key(const X509_REQ* csr) {
  EVP_PKEY* raw = X509_REQ_get_pubkey(const_cast<X509_REQ*>(csr));
  if (raw == nullptr) return openssl_error("reading CSR public key", Errc::parse);
  return PkeyPtr(raw);
}

std::string name_to_string(const X509_NAME* name) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_SEP_CPLUS_SPC | ASN1_STRFLGS_UTF8_CONVERT);
  return bio_to_string(bio.get());
}

std::string name_entry(const X509_NAME* name, std::string_view field) {
  int nid = OBJ_txt2nid(std::string(field).c_str());
  if (nid == NID_undef) return {};
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

Result<Bytes> key_identifier(const EVP_PKEY* key) {
  ZT_TRY_ASSIGN(PublicKeyRaw raw, public_key_raw(key));
  Bytes point(65);
  point[0] = 0x04;
  std::copy(raw.begin(), raw.end(), point.begin() + 1);
  Sha1Digest digest = sha1(point);
  return Bytes(digest.begin(), digest.end());
}

Result<Bytes> subject_key_identifier(const X509* cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(const_cast<X509*>(cert));
  if (ski == nullptr) return make_error(Errc::not_found, "certificate has no SubjectKeyIdentifier");
  return Bytes(ASN1_STRING_get0_data(ski), ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski));
}

Result<Bytes> authority_key_identifier(const X509* cert) {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(const_cast<X509*>(cert));
  if (aki == nullptr)
    return make_error(Errc::not_found, "certificate has no AuthorityKeyIdentifier keyIdentifier");
  return Bytes(ASN1_STRING_get0_data(aki), ASN1_STRING_get0_data(aki) + ASN1_STRING_length(aki));
}

Result<int64_t> certificate_not_before(const X509* cert) {
  return asn1_time_to_unix(X509_get0_notBefore(cert));
}
Result<int64_t> certificate_not_after(const X509* cert) {
  return asn1_time_to_unix(X509_get0_notAfter(cert));
}

Bytes certificate_serial(const X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  return Bytes(ASN1_STRING_get0_data(serial),
               ASN1_STRING_get0_data(serial) + ASN1_STRING_length(serial));
}

}  // namespace zt::crypto
