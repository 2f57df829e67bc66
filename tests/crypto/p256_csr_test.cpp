#include <gtest/gtest.h>

#include "common/hex.hpp"
#include "crypto/der_reader.hpp"
#include "crypto/key.hpp"
#include "crypto/p256_csr.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"

namespace zt::crypto {
namespace {

Bytes make_csr_der(EVP_PKEY* key, std::vector<X509ExtensionPtr> extensions = {}) {
  auto name = make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  CsrFields fields{.subject = name->get(), .extensions = std::move(extensions)};
  auto csr = build_csr(fields, key);
  return *csr_to_der(csr->get());
}

TEST(DerReader, ReadsDefiniteMinimalLengthsOnly) {
  Bytes data = {0x30, 0x03, 0x02, 0x01, 0x05, 0x04, 0x00};
  DerReader reader(data);
  ByteView whole;
  auto seq = reader.read(der_tag::kSequence, &whole);
  ASSERT_TRUE(seq);
  EXPECT_EQ(seq->size(), 3u);
  EXPECT_EQ(whole.size(), 5u);
  EXPECT_EQ(reader.peek_tag(), der_tag::kOctetString);
  EXPECT_TRUE(reader.read(der_tag::kOctetString));
  EXPECT_TRUE(reader.expect_end("test"));

  Bytes long_form(3 + 200, 0x00);
  long_form[0] = 0x04, long_form[1] = 0x81, long_form[2] = 200;
  EXPECT_TRUE(DerReader(long_form).read(der_tag::kOctetString));
  Bytes not_minimal = {0x04, 0x81, 0x05, 1, 2, 3, 4, 5};  // 5 fits the short form
  EXPECT_FALSE(DerReader(not_minimal).read(der_tag::kOctetString));
  Bytes leading_zero = {0x04, 0x82, 0x00, 0x85};
  EXPECT_FALSE(DerReader(leading_zero).read(der_tag::kOctetString));
  Bytes indefinite = {0x30, 0x80, 0x00, 0x00};
  EXPECT_FALSE(DerReader(indefinite).read(der_tag::kSequence));
  Bytes overrun = {0x04, 0x05, 0x01};
  EXPECT_FALSE(DerReader(overrun).read(der_tag::kOctetString));
  Bytes wrong_tag = {0x02, 0x01, 0x00};
  EXPECT_FALSE(DerReader(wrong_tag).read(der_tag::kSequence));
  EXPECT_FALSE(DerReader(ByteView{}).read(der_tag::kSequence));
}

TEST(P256Csr, AgreesWithOpenSsl) {
  auto key = generate_p256_key();
  std::vector<X509ExtensionPtr> extensions;
  extensions.push_back(std::move(*subject_alt_name_extension({"device.local"})));
  Bytes der = make_csr_der(key->get(), std::move(extensions));
  auto csr = P256Csr::parse(der);
  ASSERT_TRUE(csr) << csr.error().message;
  EXPECT_TRUE(csr->verify_signature());
  auto raw = public_key_raw(key->get());
  EXPECT_EQ(csr->public_key(), *raw);
  auto openssl = csr_from_der(der);
  EXPECT_EQ(Bytes(csr->subject_der().begin(), csr->subject_der().end()),
            *name_der(X509_REQ_get_subject_name(openssl->get())));
  auto requested = csr->requested_extensions();
  ASSERT_TRUE(requested);
  ASSERT_EQ(requested->size(), 1u);
  EXPECT_EQ(OBJ_obj2nid(X509_EXTENSION_get_object((*requested)[0].get())), NID_subject_alt_name);
}

TEST(P256Csr, RefusesOtherShapesAndBadSignatures) {
  auto key = generate_p256_key();
  Bytes der = make_csr_der(key->get());
  Bytes tampered = der;
  tampered[tampered.size() - 2] ^= 0x01;  // inside S
  auto parsed = P256Csr::parse(tampered);
  ASSERT_TRUE(parsed);
  auto verdict = parsed->verify_signature("device.csr");
  ASSERT_FALSE(verdict);
  EXPECT_NE(verdict.error().message.find("device.csr has an invalid signature"), std::string::npos);

  Bytes subject_changed = der;
  size_t at =
      std::string_view(reinterpret_cast<const char*>(der.data()), der.size()).find("Device");
  ASSERT_NE(at, std::string_view::npos);
  subject_changed[at] = 'X';  // signed content changed: same shape, signature no longer matches
  EXPECT_FALSE(P256Csr::parse(subject_changed)->verify_signature());

  Bytes trailing = der;
  trailing.push_back(0x00);
  EXPECT_FALSE(P256Csr::parse(trailing));
  for (size_t cut : {size_t{0}, size_t{1}, size_t{10}, der.size() / 2, der.size() - 1}) {
    EXPECT_FALSE(P256Csr::parse(ByteView(der).first(cut))) << cut;
  }
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* p384 = nullptr;
  EVP_PKEY_keygen_init(ctx.get());
  EVP_PKEY_CTX_set_group_name(ctx.get(), "secp384r1");
  EVP_PKEY_generate(ctx.get(), &p384);
  PkeyPtr p384_key(p384);
  auto p384_csr = P256Csr::parse(make_csr_der(p384_key.get()));
  ASSERT_FALSE(p384_csr);
  EXPECT_NE(p384_csr.error().message.find("prime256v1"), std::string::npos);
}

TEST(P256Csr, PointsMustLieOnTheCurve) {
  auto key = generate_p256_key();
  auto raw = public_key_raw(key->get());
  Bytes point(65);
  point[0] = 0x04;
  std::copy(raw->begin(), raw->end(), point.begin() + 1);
  auto rebuilt = p256_public_key_from_point(point);
  ASSERT_TRUE(rebuilt);
  EXPECT_TRUE(same_public_key(rebuilt->get(), key->get()));
  point[64] ^= 0x01;
  EXPECT_FALSE(p256_public_key_from_point(point));
  EXPECT_FALSE(p256_public_key_from_point(ByteView(point).first(64)));
}

TEST(X509Builder, DerRouteMatchesObjectRoute) {
  auto ca_key = generate_p256_key();
  auto leaf_key = generate_p256_key();
  auto name = make_name({{"CN", "x"}});
  CertificateFields fields{.serial = {0x42},
                           .issuer = name->get(),
                           .subject = name->get(),
                           .not_before = 1700000000,
                           .not_after = 1800000000,
                           .public_key = nullptr,
                           .extensions = {},
                           .public_key_xy = *public_key_raw(leaf_key->get())};
  auto der = build_certificate_der(fields, ca_key->get());
  ASSERT_TRUE(der);
  auto parsed = certificate_from_der(*der);
  ASSERT_TRUE(parsed);
  auto key = certificate_public_key(parsed->get());
  ASSERT_TRUE(key);
  EXPECT_TRUE(same_public_key(key->get(), leaf_key->get()));
  // build_certificate with only a point still returns a complete object.
  auto cert = build_certificate(fields, ca_key->get());
  ASSERT_TRUE(cert);
  EXPECT_TRUE(certificate_public_key(cert->get()));
  EXPECT_EQ(X509_verify(cert->get(), ca_key->get()), 1);
  // And the object route (EVP_PKEY) encodes the same SubjectPublicKeyInfo.
  fields.public_key = leaf_key->get();
  fields.public_key_xy.reset();
  auto via_object = build_certificate(fields, ca_key->get());
  ASSERT_TRUE(via_object);
  unsigned char* a = nullptr;
  unsigned char* b = nullptr;
  int na = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert->get()), &a);
  int nb = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(via_object->get()), &b);
  EXPECT_EQ(Bytes(a, a + na), Bytes(b, b + nb));
  OPENSSL_free(a);
  OPENSSL_free(b);
}

}  // namespace
}  // namespace zt::crypto
