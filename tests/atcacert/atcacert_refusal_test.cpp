// Certificates a definition cannot represent are refused with the reason; hostile definitions and
// compressed certificates fail cleanly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "atcacert/certdef_from_cert.hpp"
#include "atcacert/kit_definitions.hpp"
#include "atcacert/slots.hpp"
#include "common/hex.hpp"
#include "kit_profile.hpp"

namespace zt::atcacert {
namespace {

using ::testing::HasSubstr;

class Refusals : public ::testing::Test {
 protected:
  testing::Issued root = testing::make_root({2020, 1, 1, 0, 0, 0});
  testing::Issued signer = testing::make_signer(root, {2024, 7, 1, 12, 0, 0});
  const CertDef& device_def = kit_device_definition();

  std::string refusal(const CertDef& def, ByteView der) {
    auto result = compress(def, der, {signer.public_key, std::nullopt});
    return result ? std::string("(accepted)") : result.error().message;
  }
};

TEST_F(Refusals, MinutesAndSecondsInTheIssueDate) {
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 17, 0});
  EXPECT_EQ(refusal(device_def, device.der),
            "issue date has minutes=17; the device definition stores hours only");
  device = testing::make_device(signer, {2025, 3, 9, 17, 0, 5});
  EXPECT_EQ(refusal(device_def, device.der),
            "issue date has seconds=5; the device definition stores hours only");
}

TEST_F(Refusals, IssueYearOutsideTheCompressedRange) {
  // Compressed dates start in 2000 (format version 1 reaches 2127; UTCTime ends in 2049).
  auto device = testing::make_device(signer, {1999, 12, 31, 23, 0, 0});
  EXPECT_THAT(refusal(device_def, device.der), HasSubstr("outside 2000..2127"));
}

TEST_F(Refusals, ChangedStructure) {
  // A different subject changes the TBS: the refusal says where.
  auto key = std::move(*crypto::generate_p256_key());
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  crypto::X509Ptr x(X509_dup(device.cert.get()));
  auto subject = testing::make_name("Example Devicf");
  X509_set_subject_name(x.get(), subject.get());
  X509_sign(x.get(), signer.key.get(), EVP_sha256());
  Bytes changed = *crypto::certificate_to_der(x.get());
  EXPECT_THAT(
      refusal(device_def, changed),
      HasSubstr("structure differs from the device definition's template at byte 179 in the "
                "subject (DER tag 0x0C"));
  // A notAfter other than the template's 3000-12-31 23:59:59 is a structural change too: the
  // device definition has no expire date element (expire years 0).
  auto later =
      testing::make_device(signer, {2025, 3, 9, 17, 0, 0}, nullptr, {2999, 12, 31, 23, 59, 59});
  EXPECT_THAT(refusal(device_def, later.der), HasSubstr("in the validity (DER tag 0x18"));
  // A signer certificate against the device definition.
  EXPECT_THAT(refusal(device_def, signer.der), HasSubstr("structure differs"));
  // Not DER at all.
  EXPECT_THAT(refusal(device_def, as_bytes("hello")), HasSubstr("not one DER SEQUENCE"));
}

TEST_F(Refusals, LeapDayWithExpireYears) {
  // A definition with expire years 1 (generated from a one-year sample) cannot represent a cert
  // issued on Feb 29: its expire date would be Feb 29 of a common year.
  auto sample =
      testing::make_device(signer, {2023, 5, 1, 0, 0, 0}, nullptr, {2024, 5, 1, 0, 0, 0}, 1);
  CertDef one_year = *definition_from_certificate(sample.der);
  ASSERT_EQ(one_year.expire_years, 1);
  ASSERT_TRUE(compress(one_year, sample.der, {signer.public_key, std::nullopt}));
  // The serial follows the definition's expire years (1), so build the cert to match.
  const crypto::PublicKeyRaw raw = sample.public_key;
  crypto::X509Ptr x(X509_dup(sample.cert.get()));
  SerialInputs inputs{raw, *encode_compressed_dates({2024, 2, 29, 0, 0, 0}, 1), {}, std::nullopt};
  testing::set_serial(x.get(), *generate_serial(SnSource::pub_key_hash, 16, inputs));
  testing::set_times(x.get(), {2024, 2, 29, 0, 0, 0}, {2025, 3, 1, 0, 0, 0});
  X509_sign(x.get(), signer.key.get(), EVP_sha256());
  Bytes leap = *crypto::certificate_to_der(x.get());
  EXPECT_THAT(refusal(one_year, leap), HasSubstr("leap day"));
  EXPECT_THAT(refusal(one_year, leap), HasSubstr("Feb 29 2025 does not exist"));
}

TEST_F(Refusals, ExpireDateNotIssuePlusYears) {
  auto sample = testing::make_device(signer, {2023, 5, 1, 0, 0, 0}, nullptr, {2024, 5, 1, 0, 0, 0});
  CertDef one_year = *definition_from_certificate(sample.der);
  auto odd = testing::make_device(signer, {2023, 5, 1, 0, 0, 0}, nullptr, {2024, 5, 2, 0, 0, 0}, 1);
  EXPECT_THAT(refusal(one_year, odd.der),
              HasSubstr("expire date is 2024-05-02 00:00:00; the device definition rebuilds it as "
                        "the issue date + 1 years = 2024-05-01 00:00:00"));
}

TEST_F(Refusals, SubjectKeyIdNotFromThePublicKey) {
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  auto other = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  crypto::X509Ptr x(X509_dup(device.cert.get()));
  testing::set_public_key(x.get(), other.public_key);
  X509_sign(x.get(), signer.key.get(), EVP_sha256());
  EXPECT_THAT(refusal(device_def, *crypto::certificate_to_der(x.get())),
              HasSubstr("the subject key identifier is not SHA-1(04 ‖ X ‖ Y) of the public key"));
}

TEST_F(Refusals, SerialNotFollowingTheSource) {
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  crypto::X509Ptr x(X509_dup(device.cert.get()));
  testing::set_serial(x.get(), testing::random_serial16());
  X509_sign(x.get(), signer.key.get(), EVP_sha256());
  EXPECT_THAT(refusal(device_def, *crypto::certificate_to_der(x.get())),
              HasSubstr("does not follow the device definition's source PUB_KEY_HASH"));
}

TEST_F(Refusals, LowerCaseSignerId) {
  auto lower = testing::make_signer(root, {2024, 7, 1, 12, 0, 0}, "ab12");
  auto device = testing::make_device(lower, {2025, 3, 9, 17, 0, 0});
  auto result = compress(device_def, device.der, {lower.public_key, std::nullopt});
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("signer id 'ab12' is not 4 upper-case hex digits"));
}

TEST_F(Refusals, WrongIssuerKey) {
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  auto result = compress(device_def, device.der, {root.public_key, std::nullopt});
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("authority key identifier"));
}

TEST_F(Refusals, WithoutIssuerKeyTheTemplateAkiMustMatch) {
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  auto result = compress(device_def, device.der);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("give the issuer's public key"));
}

TEST_F(Refusals, DecompressWithTheWrongDefinition) {
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  auto data = *compress(device_def, device.der, {signer.public_key, std::nullopt});
  auto result = decompress(kit_signer_definition(), data);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message,
              HasSubstr("the compressed certificate is for template 2, chain 0, serial source 0xA; "
                        "the signer definition is template 1"));
  data.compressed[70] |= 0x03;  // format version 3: cryptoauthlib v3.7 knows 0..2
  auto unknown = decompress(device_def, data);
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message, HasSubstr("format version 3 is unknown"));
}

TEST_F(Refusals, ImpossibleCompressedDates) {
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});
  auto data = *compress(device_def, device.der, {signer.public_key, std::nullopt});
  data.compressed[64] = 0x00;  // month 0
  data.compressed[65] = 0x04;
  EXPECT_FALSE(decompress(device_def, data));
}

TEST_F(Refusals, NothingWrittenOnRefusal) {
  MemorySlotStore store;
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 30, 0});
  store.set_private_key_public_part(0, device.public_key);
  auto status = write_chain(kit_signer_definition(), device_def, store, signer.der, device.der,
                            root.public_key);
  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message, HasSubstr("device certificate: issue date has minutes=30"));
  for (int slot : {10, 11, 12, 14, 15}) {
    EXPECT_EQ(*store.read_slot(slot, 0, 72), Bytes(72, 0)) << "slot " << slot;
  }
}

TEST(HostileDefinitions, AreRefusedByValidate) {
  CertDef def = kit_device_definition();
  def.element(StdElement::public_key).offset = 400;  // past the signature
  EXPECT_THAT(validate(def).error().message, HasSubstr("public_key"));
  def = kit_device_definition();
  def.cert_template.resize(100);
  EXPECT_FALSE(validate(def));
  def = kit_device_definition();
  def.template_id = 16;
  EXPECT_FALSE(validate(def));
  def = kit_device_definition();
  def.comp_cert_dev_loc.count = 71;
  EXPECT_FALSE(validate(def));
  def = kit_device_definition();
  def.sn_source = SnSource::stored_dynamic;
  EXPECT_EQ(validate(def).error().code, Errc::unsupported);
  def = kit_device_definition();
  def.element(StdElement::cert_sn).count = 33;
  EXPECT_FALSE(validate(def));
  EXPECT_FALSE(definition_from_json_text("{\"template_id\": 2}"));
  EXPECT_FALSE(definition_from_json_text("not json"));
}

}  // namespace
}  // namespace zt::atcacert
