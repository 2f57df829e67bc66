#include "pki/device_issuer.hpp"

#include <memory>

#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/p256_csr.hpp"
#include "crypto/x509.hpp"
#include "pki/profiles.hpp"

namespace zt::pki {

namespace {

using crypto::X509ExtensionPtr;

struct FreeBitString {
  void operator()(ASN1_BIT_STRING* p) const noexcept { ASN1_BIT_STRING_free(p); }
};
using Asn1BitString = std::unique_ptr<ASN1_BIT_STRING, FreeBitString>;
struct FreeExtendedKeyUsage {
  void operator()(EXTENDED_KEY_USAGE* p) const noexcept { EXTENDED_KEY_USAGE_free(p); }
};
using ExtendedKeyUsage = std::unique_ptr<EXTENDED_KEY_USAGE, FreeExtendedKeyUsage>;

}  // namespace

struct DeviceCertificateIssuer::Request {
  crypto::X509NamePtr subject;
  crypto::PublicKeyRaw public_key{};
  std::vector<X509ExtensionPtr> extensions;
  std::vector<std::string> dropped;
};

namespace {

// The short name ("subjectAltName", "serverAuth"), or the dotted OID of an unknown object.
std::string object_name(const ASN1_OBJECT* object) {
  if (int nid = OBJ_obj2nid(object); nid != NID_undef) return OBJ_nid2sn(nid);
  char oid[80];
  OBJ_obj2txt(oid, sizeof oid, object, 1);
  return oid;
}

// The purposes of an ExtendedKeyUsage request other than clientAuth, by name; sets `client_auth`.
Result<std::vector<std::string>> other_purposes(const X509_EXTENSION* ext, bool& client_auth) {
  ExtendedKeyUsage eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509V3_EXT_d2i(const_cast<X509_EXTENSION*>(ext))));
  if (!eku)
    return crypto::openssl_error("device CSR has a malformed ExtendedKeyUsage request",
                                 Errc::parse);
  std::vector<std::string> others;
  client_auth = false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    const ASN1_OBJECT* purpose = sk_ASN1_OBJECT_value(eku.get(), i);
    if (OBJ_obj2nid(purpose) == NID_client_auth) {
      client_auth = true;
      continue;
    }
    others.push_back(object_name(purpose));
  }
  return others;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : " ") + name;
  return out;
}

}  // namespace

Result<DeviceExtensions> device_extension_policy(std::vector<X509ExtensionPtr> requested) {
  DeviceExtensions out;
  for (auto& ext : requested) {
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext.get()));
    // The issuer sets both from the keys (RFC 5280 §4.2.1.1/2); the CSR's values are not used.
    if (nid == NID_subject_key_identifier || nid == NID_authority_key_identifier) continue;
    if (nid == NID_basic_constraints) {
      crypto::UniquePtr<BASIC_CONSTRAINTS> bc(
          static_cast<BASIC_CONSTRAINTS*>(X509V3_EXT_d2i(ext.get())));
      if (!bc)
        return crypto::openssl_error("device CSR has a malformed BasicConstraints request",
                                     Errc::parse);
      if (bc->ca) {
        return make_error(Errc::invalid_argument,
                          "device CSR requests a CA certificate (BasicConstraints CA:TRUE)");
      }
      ZT_TRY_ASSIGN(X509ExtensionPtr profile, crypto::basic_constraints_extension(false, {}));
      out.extensions.push_back(std::move(profile));
    } else if (nid == NID_key_usage) {
      // keyCertSign alone makes OpenSSL's non-strict path validation treat a certificate as a CA.
      Asn1BitString usage(static_cast<ASN1_BIT_STRING*>(X509V3_EXT_d2i(ext.get())));
      if (!usage)
        return crypto::openssl_error("device CSR has a malformed KeyUsage request", Errc::parse);
      if (ASN1_BIT_STRING_get_bit(usage.get(), 5) || ASN1_BIT_STRING_get_bit(usage.get(), 6)) {
        return make_error(Errc::invalid_argument,
                          "device CSR requests keyCertSign/cRLSign key usage");
      }
      bool digital_signature = ASN1_BIT_STRING_get_bit(usage.get(), 0);
      bool others = false;
      for (int bit = 1; bit < 9; ++bit) others |= ASN1_BIT_STRING_get_bit(usage.get(), bit) != 0;
      if (digital_signature) {
        ZT_TRY_ASSIGN(X509ExtensionPtr profile,
                      crypto::key_usage_extension(crypto::kDigitalSignature));
        out.extensions.push_back(std::move(profile));
      }
      if (!digital_signature) {
        out.dropped.push_back("keyUsage (no digitalSignature)");
      } else if (others) {
        out.dropped.push_back("keyUsage bits other than digitalSignature");
      }
    } else if (nid == NID_ext_key_usage) {
      bool client_auth = false;
      ZT_TRY_ASSIGN(auto others, other_purposes(ext.get(), client_auth));
      if (client_auth) {
        ZT_TRY_ASSIGN(X509ExtensionPtr profile, crypto::extended_key_usage_extension(false, true));
        out.extensions.push_back(std::move(profile));
      }
      if (!others.empty()) out.dropped.push_back("extendedKeyUsage " + joined(others));
    } else {
      out.dropped.push_back(object_name(X509_EXTENSION_get_object(ext.get())));
    }
  }
  return out;
}

Result<DeviceCertificateIssuer> DeviceCertificateIssuer::create(const X509* signer_cert,
                                                                EVP_PKEY* signer_key) {
  ZT_TRY(crypto::require_p256(signer_key, "the signer CA key"));
  ZT_TRY_ASSIGN(crypto::PkeyPtr cert_key, crypto::certificate_public_key(signer_cert));
  if (!crypto::same_public_key(cert_key.get(), signer_key)) {
    return make_error(
        Errc::invalid_argument,
        "the signer CA key does not match the public key of the signer CA certificate");
  }
  DeviceCertificateIssuer issuer;
  auto ski = crypto::subject_key_identifier(signer_cert);
  if (!ski)
    return make_error(Errc::invalid_argument,
                      "the signer CA certificate has no SubjectKeyIdentifier");
  issuer.authority_key_id_ = std::move(*ski);
  // X509_NAME_dup keeps the encoding: the issuer field stays the signer's subject byte for byte.
  issuer.issuer_.reset(X509_NAME_dup(X509_get_subject_name(signer_cert)));
  if (!issuer.issuer_ || EVP_PKEY_up_ref(signer_key) != 1)
    return crypto::openssl_error("keeping the signer");
  issuer.signer_key_.reset(signer_key);
  return issuer;
}

auto DeviceCertificateIssuer::read_request(ByteView csr_der, std::string_view what) const
    -> Result<Request> {
  auto parsed = crypto::P256Csr::parse(csr_der);
  if (!parsed) {
    // Not the canonical shape: OpenSSL's generic intake decides, and names what is wrong (an RSA
    // key, a P-384 key, truncated DER...).
    ZT_TRY_ASSIGN(crypto::X509ReqPtr csr, crypto::csr_from_der(csr_der, what));
    return read_request(csr.get(), what);
  }
  ZT_TRY(parsed->verify_signature(what));
  Request request;
  const unsigned char* p = parsed->subject_der().data();
  request.subject.reset(
      d2i_X509_NAME(nullptr, &p, static_cast<long>(parsed->subject_der().size())));
  if (!request.subject)
    return crypto::openssl_error(std::string(what) + " has a malformed subject", Errc::parse);
  request.public_key = parsed->public_key();
  ZT_TRY_ASSIGN(auto requested, parsed->requested_extensions());
  ZT_TRY_ASSIGN(auto allowed, device_extension_policy(std::move(requested)));
  request.extensions = std::move(allowed.extensions);
  request.dropped = std::move(allowed.dropped);
  return request;
}

auto DeviceCertificateIssuer::read_request(X509_REQ* csr, std::string_view what) const
    -> Result<Request> {
  // i2d of a parsed request reuses its cached encodings; the DER route avoids the key decoders.
  if (auto der = crypto::csr_to_der(csr); der && crypto::P256Csr::parse(*der))
    return read_request(*der, what);
  crypto::clear_openssl_errors();
  ZT_TRY(crypto::verify_csr_signature(csr, what));
  Request request;
  request.subject.reset(X509_NAME_dup(X509_REQ_get_subject_name(csr)));
  if (!request.subject) return crypto::openssl_error("copying the CSR subject");
  ZT_TRY_ASSIGN(crypto::PkeyPtr key, crypto::csr_public_key(csr));
  ZT_TRY_ASSIGN(request.public_key, crypto::public_key_raw(key.get()));
  ZT_TRY_ASSIGN(auto requested, crypto::csr_extensions(csr));
  ZT_TRY_ASSIGN(auto allowed, device_extension_policy(std::move(requested)));
  request.extensions = std::move(allowed.extensions);
  request.dropped = std::move(allowed.dropped);
  return request;
}

Result<crypto::CertificateFields> DeviceCertificateIssuer::certificate_fields(Request& request,
                                                                              int64_t now) const {
  // kit_provision.py: minutes and seconds 0, as the compressed certificate stores hours only.
  UtcTime issue = to_utc(now);
  issue.minute = 0;
  issue.second = 0;
  if (issue.year < 2000 || issue.year > 2031) {
    return make_error(Errc::invalid_argument,
                      "issue year " + std::to_string(issue.year) +
                          " cannot be stored in a compressed certificate (2000..2031)");
  }
  const std::array<uint8_t, 3> encoded = compress_date(issue, 0);

  // RFC 5280 §4.2.1.2 (1): SHA-1 of the subjectPublicKey BIT STRING contents, 04 || X || Y.
  uint8_t point[65];
  point[0] = 0x04;
  std::copy(request.public_key.begin(), request.public_key.end(), point + 1);
  crypto::Sha1Digest key_id = crypto::sha1(point);

  crypto::CertificateFields fields{.serial = device_serial_number(request.public_key, encoded),
                                   .issuer = issuer_.get(),
                                   .subject = request.subject.get(),
                                   .not_before = to_unix(issue),
                                   .not_after = to_unix(kDeviceNotAfter),
                                   .public_key = nullptr,
                                   .extensions = std::move(request.extensions),
                                   .public_key_xy = request.public_key};
  ZT_TRY_ASSIGN(X509ExtensionPtr ski, crypto::subject_key_identifier_extension(key_id));
  ZT_TRY_ASSIGN(X509ExtensionPtr aki,
                crypto::authority_key_identifier_extension(authority_key_id_));
  fields.extensions.push_back(std::move(ski));
  fields.extensions.push_back(std::move(aki));
  return fields;
}

Result<Bytes> DeviceCertificateIssuer::issue_der(ByteView csr_der, int64_t now,
                                                 std::string_view what,
                                                 std::vector<std::string>* dropped) const {
  ZT_TRY_ASSIGN(Request request, read_request(csr_der, what));
  if (dropped) *dropped = request.dropped;
  ZT_TRY_ASSIGN(crypto::CertificateFields fields, certificate_fields(request, now));
  return crypto::build_certificate_der(fields, signer_key_.get());
}

Result<crypto::X509Ptr> DeviceCertificateIssuer::issue(X509_REQ* csr, int64_t now,
                                                       std::string_view what,
                                                       std::vector<std::string>* dropped) const {
  ZT_TRY_ASSIGN(Request request, read_request(csr, what));
  if (dropped) *dropped = request.dropped;
  ZT_TRY_ASSIGN(crypto::CertificateFields fields, certificate_fields(request, now));
  return crypto::build_certificate(fields, signer_key_.get());
}

Result<crypto::X509Ptr> issue_device_certificate(X509_REQ* csr, const X509* signer_cert,
                                                 EVP_PKEY* signer_key, int64_t now,
                                                 std::vector<std::string>* dropped_extensions) {
  ZT_TRY_ASSIGN(DeviceCertificateIssuer issuer,
                DeviceCertificateIssuer::create(signer_cert, signer_key));
  return issuer.issue(csr, now, "the device CSR", dropped_extensions);
}

}  // namespace zt::pki
