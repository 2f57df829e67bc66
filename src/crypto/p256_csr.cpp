#include "crypto/p256_csr.hpp"

#include <openssl/err.h>

#include <algorithm>

#include "crypto/der_reader.hpp"
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"

namespace zt::crypto {

namespace {

// DER of the object identifiers this shape allows (RFC 5480 §2.1.1, RFC 5758 §3.2, RFC 2985
// §5.4.2).
constexpr uint8_t kIdEcPublicKey[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
constexpr uint8_t kPrime256v1[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr uint8_t kEcdsaWithSha256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
constexpr uint8_t kExtensionRequest[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E};

bool equals(ByteView a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

Error shape_error(std::string_view what) {
  return make_error(Errc::parse, "not a P-256/ecdsa-with-SHA256 CSR: " + std::string(what));
}

// A P-256 key whose parameters new public keys copy (cheaper than building the group by name).
const EVP_PKEY* p256_template() {
  static PkeyPtr key = [] {
    auto generated = generate_p256_key();
    return generated ? std::move(*generated) : PkeyPtr();
  }();
  return key.get();
}

}  // namespace

Result<PkeyPtr> p256_public_key_from_point(ByteView point65) {
  if (point65.size() != 65 || point65[0] != 0x04) {
    return make_error(Errc::invalid_argument,
                      "P-256 public key must be an uncompressed 65-byte point");
  }
  const EVP_PKEY* params = p256_template();
  PkeyPtr key(EVP_PKEY_new());
  if (params == nullptr || !key || EVP_PKEY_copy_parameters(key.get(), params) != 1) {
    return openssl_error("preparing a P-256 key");
  }
  // EC_POINT_oct2point underneath rejects points that are not on the curve.
  if (EVP_PKEY_set1_encoded_public_key(key.get(), point65.data(), point65.size()) != 1) {
    return openssl_error("public key is not a point on P-256", Errc::invalid_argument);
  }
  return key;
}

Result<P256Csr> P256Csr::parse(ByteView input) {
  P256Csr csr;
  csr.der_.assign(input.begin(), input.end());
  DerReader outer(csr.der_);
  ZT_TRY_ASSIGN(ByteView request, outer.read(der_tag::kSequence));
  ZT_TRY(outer.expect_end("the CertificationRequest"));
  DerReader fields(request);
  ByteView info_whole;
  ZT_TRY_ASSIGN(ByteView info, fields.read(der_tag::kSequence, &info_whole));
  ZT_TRY_ASSIGN(ByteView algorithm, fields.read(der_tag::kSequence));
  ZT_TRY_ASSIGN(ByteView signature, fields.read(der_tag::kBitString));
  ZT_TRY(fields.expect_end("the signature"));

  // CertificationRequestInfo ::= SEQUENCE { version 0, subject Name, subjectPKInfo, [0] attributes
  // }
  DerReader info_reader(info);
  ZT_TRY_ASSIGN(ByteView version, info_reader.read(der_tag::kInteger));
  if (version.size() != 1 || version[0] != 0) return shape_error("version is not 0 (v1)");
  ByteView subject_whole;
  ZT_TRY(info_reader.read(der_tag::kSequence, &subject_whole));
  ZT_TRY_ASSIGN(ByteView spki, info_reader.read(der_tag::kSequence));
  ZT_TRY_ASSIGN(ByteView attributes, info_reader.read(der_tag::kContext0));
  ZT_TRY(info_reader.expect_end("the attributes"));

  DerReader spki_reader(spki);
  ZT_TRY_ASSIGN(ByteView key_algorithm, spki_reader.read(der_tag::kSequence));
  ZT_TRY_ASSIGN(ByteView key_bits, spki_reader.read(der_tag::kBitString));
  ZT_TRY(spki_reader.expect_end("the public key"));
  DerReader key_algorithm_reader(key_algorithm);
  ZT_TRY_ASSIGN(ByteView key_type, key_algorithm_reader.read(der_tag::kOid));
  if (!equals(key_type, kIdEcPublicKey)) return shape_error("key is not id-ecPublicKey");
  ZT_TRY_ASSIGN(ByteView curve, key_algorithm_reader.read(der_tag::kOid));
  if (!equals(curve, kPrime256v1)) return shape_error("curve is not prime256v1");
  ZT_TRY(key_algorithm_reader.expect_end("the curve"));
  // BIT STRING: 0 unused bits, then the uncompressed point 04 || X || Y.
  if (key_bits.size() != 66 || key_bits[0] != 0x00 || key_bits[1] != 0x04) {
    return shape_error("public key is not an uncompressed point");
  }
  std::copy(key_bits.begin() + 2, key_bits.end(), csr.public_key_.begin());

  // RFC 5758 §3.2: ecdsa-with-SHA256 with the parameters field absent.
  DerReader algorithm_reader(algorithm);
  ZT_TRY_ASSIGN(ByteView signature_type, algorithm_reader.read(der_tag::kOid));
  if (!equals(signature_type, kEcdsaWithSha256))
    return shape_error("signature is not ecdsa-with-SHA256");
  ZT_TRY(algorithm_reader.expect_end("the signature algorithm"));
  if (signature.size() < 9 || signature[0] != 0x00)
    return shape_error("malformed signature BIT STRING");

  csr.info_ = csr.range_of(info_whole);
  csr.subject_ = csr.range_of(subject_whole);
  csr.attributes_ = csr.range_of(attributes);
  csr.signature_ = csr.range_of(signature.subspan(1));
  return csr;
}

Status P256Csr::verify_signature(std::string_view what) const {
  Bytes point(65);
  point[0] = 0x04;
  std::copy(public_key_.begin(), public_key_.end(), point.begin() + 1);
  auto key = p256_public_key_from_point(point);
  if (!key)
    return make_error(Errc::crypto,
                      "the public key of " + std::string(what) + " is not a point on P-256");
  Sha256Digest digest = sha256(view(info_));
  if (!ecdsa_verify_digest(key->get(), digest, view(signature_))) {
    ERR_clear_error();
    return make_error(
        Errc::crypto,
        std::string(what) + " has an invalid signature (it was not signed by its own key)");
  }
  return ok();
}

Result<std::vector<X509ExtensionPtr>> P256Csr::requested_extensions() const {
  std::vector<X509ExtensionPtr> out;
  bool seen = false;
  DerReader attributes(view(attributes_));
  while (!attributes.empty()) {
    // Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET OF ANY }
    ZT_TRY_ASSIGN(ByteView attribute, attributes.read(der_tag::kSequence));
    DerReader attribute_reader(attribute);
    ZT_TRY_ASSIGN(ByteView type, attribute_reader.read(der_tag::kOid));
    ZT_TRY_ASSIGN(ByteView values, attribute_reader.read(der_tag::kSet));
    ZT_TRY(attribute_reader.expect_end("an attribute"));
    if (!equals(type, kExtensionRequest)) continue;
    if (seen) return make_error(Errc::parse, "CSR has two extensionRequest attributes");
    seen = true;
    DerReader value_reader(values);
    ByteView extensions_whole;
    ZT_TRY(value_reader.read(der_tag::kSequence, &extensions_whole));
    ZT_TRY(value_reader.expect_end("the extensionRequest value"));
    const unsigned char* p = extensions_whole.data();
    UniquePtr<STACK_OF(X509_EXTENSION)> stack(
        d2i_X509_EXTENSIONS(nullptr, &p, static_cast<long>(extensions_whole.size())));
    if (!stack || p != extensions_whole.data() + extensions_whole.size()) {
      return openssl_error("CSR has a malformed extensionRequest", Errc::parse);
    }
    for (int i = 0; i < sk_X509_EXTENSION_num(stack.get()); ++i) {
      ZT_TRY_ASSIGN(X509ExtensionPtr copy, copy_extension(sk_X509_EXTENSION_value(stack.get(), i)));
      out.push_back(std::move(copy));
    }
  }
  return out;
}

}  // namespace zt::crypto
