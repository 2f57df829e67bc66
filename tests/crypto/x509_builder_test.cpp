#include <gtest/gtest.h>

#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"

namespace zt::crypto {
namespace {

Bytes extension_der(const X509_EXTENSION* ext) {
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(const_cast<X509_EXTENSION*>(ext));
  return Bytes(ASN1_STRING_get0_data(value),
               ASN1_STRING_get0_data(value) + ASN1_STRING_length(value));
}

TEST(X509Builder, TimesFollowRfc5280Encoding) {
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  auto t2049 = make_asn1_time(to_unix(UtcTime{2049, 12, 31, 23, 59, 59}));
  auto t2050 = make_asn1_time(to_unix(UtcTime{2050, 1, 1, 0, 0, 0}));
  ASSERT_TRUE(t2049 && t2050);
  EXPECT_EQ(ASN1_STRING_type(t2049->get()), V_ASN1_UTCTIME);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t2049->get()))),
            "491231235959Z");
  EXPECT_EQ(ASN1_STRING_type(t2050->get()), V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t2050->get()))),
            "20500101000000Z");
  EXPECT_FALSE(make_asn1_time(to_unix(UtcTime{1949, 12, 31, 0, 0, 0})));
}

TEST(X509Builder, ExtensionEncodings) {
  auto ku = key_usage_extension(kDigitalSignature | kKeyCertSign | kCrlSign);
  ASSERT_TRUE(ku);
  EXPECT_EQ(to_hex(extension_der(ku->get())), "03020186");  // one unused bit: 1000 0110
  EXPECT_EQ(X509_EXTENSION_get_critical(ku->get()), 1);
  auto bc = basic_constraints_extension(true, 0);
  EXPECT_EQ(to_hex(extension_der(bc->get())), "30060101ff020100");
  auto bc_no_len = basic_constraints_extension(true, std::nullopt);
  EXPECT_EQ(to_hex(extension_der(bc_no_len->get())), "30030101ff");
  Bytes id(20, 0xAB);
  auto aki = authority_key_identifier_extension(id);
  EXPECT_EQ(to_hex(extension_der(aki->get())), "30168014" + to_hex(id));  // keyIdentifier [0] only
  auto ski = subject_key_identifier_extension(id);
  EXPECT_EQ(to_hex(extension_der(ski->get())), "0414" + to_hex(id));
  EXPECT_EQ(X509_EXTENSION_get_critical(ski->get()), 0);
  auto san = subject_alt_name_extension({"a.example", "127.0.0.1"});
  EXPECT_EQ(to_hex(extension_der(san->get())),
            "3011820961" + to_hex(as_bytes(".example")) + "87047f000001");
}

TEST(X509Builder, NamesAreUtf8StringsInOrder) {
  auto name = make_name({{"O", "Example Inc"}, {"CN", "Grüße"}});
  ASSERT_TRUE(name);
  auto der = name_der(name->get());
  // SET { SEQ { OID 2.5.4.10, UTF8String } } then CN: tag 0x0C for each value.
  EXPECT_EQ(to_hex(*der),
            "3028"
            "3114301206035504"
            "0a0c0b" +
                to_hex(as_bytes("Example Inc")) +
                "3110300e06035504"
                "030c07" +
                to_hex(as_bytes("Grüße")));
  EXPECT_EQ(name_entry(name->get(), "CN"), "Grüße");
  EXPECT_FALSE(make_name({{"XX", "value"}}));
  EXPECT_FALSE(make_name({{"CN", ""}}));
}

TEST(X509Builder, CertificateAndCsrRoundTrip) {
  auto key = generate_p256_key();
  auto subject = make_name({{"CN", "leaf"}});
  CertificateFields fields{.serial = {0x01, 0x02},
                           .issuer = subject->get(),
                           .subject = subject->get(),
                           .not_before = 1700000000,
                           .not_after = 1800000000,
                           .public_key = key->get(),
                           .extensions = {}};
  fields.extensions.push_back(std::move(*key_usage_extension(kDigitalSignature)));
  auto cert = build_certificate(fields, key->get());
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_EQ(X509_get_version(cert->get()), X509_VERSION_3);
  EXPECT_EQ(certificate_serial(cert->get()), (Bytes{0x01, 0x02}));
  EXPECT_EQ(X509_verify(cert->get(), key->get()), 1);
  EXPECT_EQ(*certificate_not_before(cert->get()), 1700000000);

  fields.serial = {0x80};  // negative
  EXPECT_FALSE(build_certificate(fields, key->get()));
  fields.serial = Bytes(21, 0x01);
  EXPECT_FALSE(build_certificate(fields, key->get()));

  CsrFields csr_fields{.subject = subject->get(), .extensions = {}};
  csr_fields.extensions.push_back(std::move(*basic_constraints_extension(false, std::nullopt)));
  auto csr = build_csr(csr_fields, key->get());
  ASSERT_TRUE(csr);
  EXPECT_TRUE(verify_csr_signature(csr->get()));
  auto requested = csr_extensions(csr->get());
  ASSERT_TRUE(requested);
  EXPECT_EQ(requested->size(), 1u);
}

}  // namespace
}  // namespace zt::crypto
