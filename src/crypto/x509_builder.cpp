#include "crypto/x509_builder.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <memory>

#include "common/time.hpp"
#include "crypto/der_encode.hpp"
#include "crypto/x509.hpp"

namespace zt::crypto {

namespace {

template <class T, void (*Free)(T*)>
struct FreeWith {
  void operator()(T* p) const noexcept { Free(p); }
};
using Asn1OctetString =
    std::unique_ptr<ASN1_OCTET_STRING, FreeWith<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>>;
using Asn1BitString =
    std::unique_ptr<ASN1_BIT_STRING, FreeWith<ASN1_BIT_STRING, ASN1_BIT_STRING_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, FreeWith<GENERAL_NAMES, GENERAL_NAMES_free>>;
using ExtendedKeyUsage =
    std::unique_ptr<EXTENDED_KEY_USAGE, FreeWith<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>>;

// X509V3_EXT_i2d encodes an extension value struct into a new X509_EXTENSION.
Result<X509ExtensionPtr> encode_extension(int nid, bool critical, void* value,
                                          std::string_view what) {
  X509_EXTENSION* raw = X509V3_EXT_i2d(nid, critical ? 1 : 0, value);
  if (raw == nullptr)
    return openssl_error(std::string("encoding ") + std::string(what) + " extension");
  return X509ExtensionPtr(raw);
}

Result<Asn1OctetString> octet_string(ByteView bytes) {
  Asn1OctetString os(ASN1_OCTET_STRING_new());
  if (!os || ASN1_OCTET_STRING_set(os.get(), bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return openssl_error("allocating OCTET STRING");
  }
  return os;
}

Status set_serial(X509* cert, ByteView serial) {
  // RFC 5280 §4.1.2.2: a positive integer of at most 20 octets.
  if (serial.empty() || serial.size() > 20) {
    return make_error(Errc::invalid_argument, "certificate serial must be 1..20 bytes, got " +
                                                  std::to_string(serial.size()));
  }
  if ((serial[0] & 0x80) != 0) {
    return make_error(Errc::invalid_argument,
                      "certificate serial must be positive (high bit clear)");
  }
  UniquePtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return openssl_error("setting certificate serial");
  }
  return ok();
}

// SubjectPublicKeyInfo { id-ecPublicKey, prime256v1 } || BIT STRING 04 X Y (RFC 5480 §2), set
// directly.
Status set_p256_public_key(X509* cert, const PublicKeyRaw& xy) {
  auto* point = static_cast<unsigned char*>(OPENSSL_malloc(65));
  if (point == nullptr) return openssl_error("allocating public key");
  point[0] = 0x04;
  std::copy(xy.begin(), xy.end(), point + 1);
  if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                             V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), point, 65) != 1) {
    OPENSSL_free(point);
    return openssl_error("setting certificate public key");
  }
  return ok();
}

// `fast`: a P-256 key goes straight into the SubjectPublicKeyInfo. The resulting X509 then has no
// decoded EVP_PKEY (OpenSSL 3.0 decodes keys only on d2i), so only its DER may leave this file.
Status set_public_key(X509* cert, const CertificateFields& fields, bool fast) {
  if (fields.public_key_xy && (fast || fields.public_key == nullptr)) {
    return set_p256_public_key(cert, *fields.public_key_xy);
  }
  if (fast && require_p256(fields.public_key, "public key")) {
    ZT_TRY_ASSIGN(PublicKeyRaw xy, public_key_raw(fields.public_key));
    return set_p256_public_key(cert, xy);
  }
  clear_openssl_errors();
  if (X509_set_pubkey(cert, fields.public_key) != 1)
    return openssl_error("setting certificate public key");
  return ok();
}

Result<X509Ptr> build_x509(const CertificateFields& fields, EVP_PKEY* signing_key, bool fast) {
  if (fields.issuer == nullptr || fields.subject == nullptr ||
      (fields.public_key == nullptr && !fields.public_key_xy) || signing_key == nullptr) {
    return make_error(Errc::invalid_argument,
                      "certificate needs an issuer, a subject, a public key and a signing key");
  }
  if (fields.not_after < fields.not_before) {
    return make_error(Errc::invalid_argument, "certificate notAfter is before notBefore");
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return openssl_error("allocating certificate");
  }
  ZT_TRY(set_serial(cert.get(), fields.serial));
  // X509_set_issuer_name duplicates the name with its cached encoding, so the issuer field is the
  // issuer certificate's subject byte for byte (RFC 5280 §4.1.2.4 name chaining).
  if (X509_set_issuer_name(cert.get(), fields.issuer) != 1 ||
      X509_set_subject_name(cert.get(), fields.subject) != 1) {
    return openssl_error("setting certificate names");
  }
  ZT_TRY_ASSIGN(auto not_before, make_asn1_time(fields.not_before));
  ZT_TRY_ASSIGN(auto not_after, make_asn1_time(fields.not_after));
  if (X509_set1_notBefore(cert.get(), not_before.get()) != 1 ||
      X509_set1_notAfter(cert.get(), not_after.get()) != 1) {
    return openssl_error("setting certificate validity");
  }
  ZT_TRY(set_public_key(cert.get(), fields, fast));
  for (const X509ExtensionPtr& extension : fields.extensions) {
    if (X509_add_ext(cert.get(), extension.get(), -1) != 1) {
      return openssl_error("adding certificate extension");
    }
  }
  if (X509_sign(cert.get(), signing_key, EVP_sha256()) <= 0)
    return openssl_error("signing certificate");
  return cert;
}

}  // namespace

Result<X509NamePtr> make_name(const std::vector<NameEntry>& entries) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return openssl_error("allocating name");
  for (const NameEntry& entry : entries) {
    int nid = OBJ_txt2nid(entry.field.c_str());
    if (nid == NID_undef)
      return make_error(Errc::invalid_argument, "unknown name attribute \"" + entry.field + "\"");
    if (entry.value.empty()) {
      return make_error(Errc::invalid_argument,
                        "name attribute " + entry.field + " has an empty value");
    }
    // A plain type (no MBSTRING_FLAG) stores the bytes as given with exactly that string type.
    if (X509_NAME_add_entry_by_NID(name.get(), nid, V_ASN1_UTF8STRING,
                                   reinterpret_cast<const unsigned char*>(entry.value.data()),
                                   static_cast<int>(entry.value.size()), -1, 0) != 1) {
      return openssl_error("adding name attribute " + entry.field, Errc::invalid_argument);
    }
  }
  return name;
}

Result<Bytes> name_der(const X509_NAME* name) {
  return encode_der(i2d_X509_NAME, name, "encoding name");
}

Result<X509ExtensionPtr> basic_constraints_extension(bool ca, std::optional<int> path_length) {
  UniquePtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  if (!bc) return openssl_error("allocating BasicConstraints");
  bc->ca = ca ? 0xFF : 0;
  if (path_length) {
    if (*path_length < 0)
      return make_error(Errc::invalid_argument, "path length must not be negative");
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, *path_length) != 1) {
      return openssl_error("setting path length");
    }
  }
  return encode_extension(NID_basic_constraints, true, bc.get(), "BasicConstraints");
}

Result<X509ExtensionPtr> key_usage_extension(unsigned key_usage_bits) {
  if (key_usage_bits == 0 || key_usage_bits >= (1u << 9)) {
    return make_error(Errc::invalid_argument,
                      "KeyUsage needs at least one of the nine defined bits");
  }
  Asn1BitString bits(ASN1_BIT_STRING_new());
  if (!bits) return openssl_error("allocating KeyUsage");
  for (int bit = 0; bit < 9; ++bit) {
    if ((key_usage_bits & (1u << bit)) != 0 && ASN1_BIT_STRING_set_bit(bits.get(), bit, 1) != 1) {
      return openssl_error("setting KeyUsage bit");
    }
  }
  // DER (X.690 §11.2.2) drops trailing zero bits; OpenSSL computes the unused-bit count itself.
  return encode_extension(NID_key_usage, true, bits.get(), "KeyUsage");
}

Result<X509ExtensionPtr> subject_key_identifier_extension(ByteView key_id) {
  if (key_id.empty()) return make_error(Errc::invalid_argument, "empty SubjectKeyIdentifier");
  ZT_TRY_ASSIGN(Asn1OctetString os, octet_string(key_id));
  return encode_extension(NID_subject_key_identifier, false, os.get(), "SubjectKeyIdentifier");
}

Result<X509ExtensionPtr> authority_key_identifier_extension(ByteView key_id) {
  if (key_id.empty()) return make_error(Errc::invalid_argument, "empty AuthorityKeyIdentifier");
  UniquePtr<AUTHORITY_KEYID> aki(AUTHORITY_KEYID_new());
  if (!aki) return openssl_error("allocating AuthorityKeyIdentifier");
  ZT_TRY_ASSIGN(Asn1OctetString os, octet_string(key_id));
  aki->keyid = os.release();
  return encode_extension(NID_authority_key_identifier, false, aki.get(), "AuthorityKeyIdentifier");
}

Result<X509ExtensionPtr> subject_alt_name_extension(
    const std::vector<std::string>& dns_names_and_ips) {
  if (dns_names_and_ips.empty())
    return make_error(Errc::invalid_argument, "subjectAltName needs at least one name");
  GeneralNames names(GENERAL_NAMES_new());
  if (!names) return openssl_error("allocating subjectAltName");
  for (const std::string& entry : dns_names_and_ips) {
    if (entry.empty()) return make_error(Errc::invalid_argument, "empty name in subjectAltName");
    GENERAL_NAME* gen = GENERAL_NAME_new();
    if (gen == nullptr) return openssl_error("allocating GeneralName");
    if (ASN1_OCTET_STRING* ip = a2i_IPADDRESS(entry.c_str())) {
      GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
    } else {
      ERR_clear_error();  // not an IP literal: a DNS name
      ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
      if (dns == nullptr ||
          ASN1_STRING_set(dns, entry.data(), static_cast<int>(entry.size())) != 1) {
        ASN1_IA5STRING_free(dns);
        GENERAL_NAME_free(gen);
        return openssl_error("setting dNSName");
      }
      GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
    }
    if (sk_GENERAL_NAME_push(names.get(), gen) <= 0) {
      GENERAL_NAME_free(gen);
      return openssl_error("adding GeneralName");
    }
  }
  return encode_extension(NID_subject_alt_name, false, names.get(), "subjectAltName");
}

Result<X509ExtensionPtr> extended_key_usage_extension(bool server_auth, bool client_auth) {
  ExtendedKeyUsage eku(sk_ASN1_OBJECT_new_null());
  if (!eku) return openssl_error("allocating ExtendedKeyUsage");
  if (server_auth) sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_server_auth));
  if (client_auth) sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_client_auth));
  if (sk_ASN1_OBJECT_num(eku.get()) == 0) {
    return make_error(Errc::invalid_argument, "ExtendedKeyUsage needs at least one purpose");
  }
  return encode_extension(NID_ext_key_usage, false, eku.get(), "ExtendedKeyUsage");
}

Result<X509ExtensionPtr> copy_extension(const X509_EXTENSION* extension) {
  X509_EXTENSION* raw = X509_EXTENSION_dup(extension);
  if (raw == nullptr) return openssl_error("copying extension");
  return X509ExtensionPtr(raw);
}

Result<std::vector<X509ExtensionPtr>> csr_extensions(const X509_REQ* csr) {
  ERR_clear_error();
  STACK_OF(X509_EXTENSION)* raw = X509_REQ_get_extensions(const_cast<X509_REQ*>(csr));
  std::vector<X509ExtensionPtr> out;
  if (raw == nullptr) {
    // No extensionRequest attribute is fine; a malformed one is not.
    if (ERR_peek_error() != 0)
      return openssl_error("reading the CSR's requested extensions", Errc::parse);
    return out;
  }
  UniquePtr<STACK_OF(X509_EXTENSION)> stack(raw);
  for (int i = 0; i < sk_X509_EXTENSION_num(stack.get()); ++i) {
    ZT_TRY_ASSIGN(X509ExtensionPtr copy, copy_extension(sk_X509_EXTENSION_value(stack.get(), i)));
    out.push_back(std::move(copy));
  }
  return out;
}

Result<UniquePtr<ASN1_STRING>> make_asn1_time(int64_t unix_seconds) {
  UtcTime t = to_utc(unix_seconds);
  if (t.year < 1950 || t.year > 9999) {
    return make_error(Errc::invalid_argument,
                      "certificate time outside 1950..9999: year " + std::to_string(t.year));
  }
  // ASN1_TIME_set picks UTCTime for 1950..2049 and GeneralizedTime otherwise (RFC 5280 §4.1.2.5).
  ASN1_TIME* raw = ASN1_TIME_set(nullptr, static_cast<time_t>(unix_seconds));
  if (raw == nullptr) return openssl_error("encoding certificate time");
  return UniquePtr<ASN1_STRING>(raw);
}

Result<X509Ptr> build_certificate(const CertificateFields& fields, EVP_PKEY* signing_key) {
  if (fields.public_key != nullptr) return build_x509(fields, signing_key, false);
  // Only a raw point: build fast, then decode once so the object is complete (X509_get_pubkey
  // works).
  ZT_TRY_ASSIGN(Bytes der, build_certificate_der(fields, signing_key));
  return certificate_from_der(der);
}

Result<Bytes> build_certificate_der(const CertificateFields& fields, EVP_PKEY* signing_key) {
  ZT_TRY_ASSIGN(X509Ptr cert, build_x509(fields, signing_key, true));
  return certificate_to_der(cert.get());
}

Result<X509ReqPtr> build_csr(const CsrFields& fields, EVP_PKEY* key) {
  if (fields.subject == nullptr || key == nullptr) {
    return make_error(Errc::invalid_argument, "CSR needs a subject and a key");
  }
  X509ReqPtr csr(X509_REQ_new());
  if (!csr || X509_REQ_set_version(csr.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(csr.get(), fields.subject) != 1 ||
      X509_REQ_set_pubkey(csr.get(), key) != 1) {
    return openssl_error("building CSR");
  }
  if (!fields.extensions.empty()) {
    UniquePtr<STACK_OF(X509_EXTENSION)> stack(sk_X509_EXTENSION_new_null());
    if (!stack) return openssl_error("allocating CSR extensions");
    for (const X509ExtensionPtr& extension : fields.extensions) {
      ZT_TRY_ASSIGN(X509ExtensionPtr copy, copy_extension(extension.get()));
      if (sk_X509_EXTENSION_push(stack.get(), copy.get()) <= 0)
        return openssl_error("adding CSR extension");
      copy.release();
    }
    if (X509_REQ_add_extensions(csr.get(), stack.get()) != 1)
      return openssl_error("adding CSR extensions");
  }
  if (X509_REQ_sign(csr.get(), key, EVP_sha256()) <= 0) return openssl_error("signing CSR");
  return csr;
}

}  // namespace zt::crypto
