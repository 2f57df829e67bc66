// Known-answer tests: vectors from cryptoauthlib's public tests of the format
// (test/atcacert/test_atcacert_date.c) and the reference offsets of kit.md.
#include <gtest/gtest.h>

#include "atcacert/certdef_from_cert.hpp"
#include "atcacert/codec.hpp"
#include "atcacert/date.hpp"
#include "atcacert/der.hpp"
#include "atcacert/kit_definitions.hpp"
#include "common/hex.hpp"
#include "kit_profile.hpp"

namespace zt::atcacert {
namespace {

Bytes hex(std::string_view h) { return *from_hex(h); }

TEST(CompressedDates, MatchCryptoauthlibVectors) {
  // test_atcacert_date.c: atcacert_date_enc_compcert good / min / max.
  EXPECT_EQ(to_hex(*encode_compressed_dates({2021, 3, 7, 10, 0, 0}, 28)), "a99d5c");
  EXPECT_EQ(to_hex(*encode_compressed_dates({2000, 1, 1, 0, 0, 0}, 0)), "008400");
  EXPECT_EQ(to_hex(*encode_compressed_dates({2031, 12, 31, 23, 0, 0}, 31)), "fe7eff");
}

TEST(CompressedDates, DecodeInvertsEncode) {
  CompressedDates d = decode_compressed_dates({0xA9, 0x9D, 0x5C});
  EXPECT_EQ(d.issue, (UtcTime{2021, 3, 7, 10, 0, 0}));
  EXPECT_EQ(d.expire_years, 28);
  d = decode_compressed_dates({0xFE, 0x7E, 0xFF});
  EXPECT_EQ(d.issue, (UtcTime{2031, 12, 31, 23, 0, 0}));
  EXPECT_EQ(d.expire_years, 31);
}

TEST(CompressedDates, EdgesOfTheRanges) {
  // Year 2000 and 2031 are the ends of the 5-bit year; 1999 and 2032 are refused.
  EXPECT_TRUE(encode_compressed_dates({2000, 1, 1, 0, 0, 0}, 0));
  EXPECT_TRUE(encode_compressed_dates({2031, 12, 31, 23, 0, 0}, 31));
  EXPECT_FALSE(encode_compressed_dates({1999, 12, 31, 23, 0, 0}, 0));
  EXPECT_FALSE(encode_compressed_dates({2032, 1, 1, 0, 0, 0}, 0));
  // Hour 23 is the largest; 24 is refused. Expire years 0 and 31 are the ends; 32 is refused.
  EXPECT_EQ(
      decode_compressed_dates(*encode_compressed_dates({2020, 6, 15, 23, 0, 0}, 5)).issue.hour, 23);
  EXPECT_FALSE(encode_compressed_dates({2020, 6, 15, 24, 0, 0}, 5));
  EXPECT_FALSE(encode_compressed_dates({2020, 6, 15, 10, 0, 0}, 32));
  // Feb 29 exists in 2024, not in 2023; Dec 31 round-trips.
  EXPECT_TRUE(encode_compressed_dates({2024, 2, 29, 0, 0, 0}, 0));
  EXPECT_FALSE(encode_compressed_dates({2023, 2, 29, 0, 0, 0}, 0));
  EXPECT_TRUE(encode_compressed_dates({2023, 2, 28, 0, 0, 0}, 0));
  EXPECT_EQ(decode_compressed_dates(*encode_compressed_dates({2029, 12, 31, 5, 0, 0}, 1)).issue,
            (UtcTime{2029, 12, 31, 5, 0, 0}));
}

TEST(CompressedDates, ExpireDateRules) {
  // Expire years 0: the format's maximum date (atcacert_date_get_max_date).
  EXPECT_EQ(*compressed_expire_date({2024, 2, 29, 3, 0, 0}, 0, DateFormat::rfc5280_gen),
            (UtcTime{9999, 12, 31, 23, 59, 59}));
  EXPECT_EQ(*compressed_expire_date({2024, 2, 29, 3, 0, 0}, 0, DateFormat::rfc5280_utc),
            (UtcTime{2049, 12, 31, 23, 59, 59}));
  EXPECT_EQ(*compressed_expire_date({2024, 2, 29, 3, 0, 0}, 0, DateFormat::posix_u32_be),
            (UtcTime{2106, 2, 7, 6, 28, 15}));
  // Expire years 31 from 2031 reaches 2062 (GeneralizedTime needed; UTCTime cannot say 2062).
  EXPECT_EQ(*compressed_expire_date({2031, 12, 31, 23, 0, 0}, 31, DateFormat::rfc5280_gen),
            (UtcTime{2062, 12, 31, 23, 0, 0}));
  EXPECT_FALSE(encode_date(DateFormat::rfc5280_utc, {2062, 12, 31, 23, 0, 0}));
  // A leap day plus 4 years is a leap day; plus 1 year does not exist.
  EXPECT_EQ(*compressed_expire_date({2024, 2, 29, 0, 0, 0}, 4, DateFormat::rfc5280_utc),
            (UtcTime{2028, 2, 29, 0, 0, 0}));
  auto bad = compressed_expire_date({2024, 2, 29, 0, 0, 0}, 1, DateFormat::rfc5280_utc);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("leap day"), std::string::npos) << bad.error().message;
}

TEST(DateFormats, MatchCryptoauthlibVectors) {
  const UtcTime t{2013, 11, 10, 9, 8, 7};
  EXPECT_EQ(as_chars(*encode_date(DateFormat::iso8601_sep, t)), "2013-11-10T09:08:07Z");
  EXPECT_EQ(as_chars(*encode_date(DateFormat::rfc5280_utc, t)), "131110090807Z");
  EXPECT_EQ(as_chars(*encode_date(DateFormat::rfc5280_gen, t)), "20131110090807Z");
  EXPECT_EQ(to_hex(*encode_date(DateFormat::posix_u32_be, t)), "527f4cf7");
  EXPECT_EQ(to_hex(*encode_date(DateFormat::posix_u32_le, t)), "f74c7f52");
  for (int f = 0; f <= 4; ++f) {
    auto format = static_cast<DateFormat>(f);
    auto encoded = *encode_date(format, t);
    EXPECT_EQ(encoded.size(), date_size(format));
    EXPECT_EQ(*decode_date(format, encoded), t) << to_string(format);
  }
}

TEST(DateFormats, UtcTimeWindowAndStrictParsing) {
  // RFC 5280 §4.1.2.5.1: 50..99 → 19YY, 00..49 → 20YY.
  EXPECT_EQ(decode_date(DateFormat::rfc5280_utc, as_bytes("991231235959Z"))->year, 1999);
  EXPECT_EQ(decode_date(DateFormat::rfc5280_utc, as_bytes("000101000000Z"))->year, 2000);
  EXPECT_EQ(decode_date(DateFormat::rfc5280_utc, as_bytes("491231235959Z"))->year, 2049);
  EXPECT_EQ(decode_date(DateFormat::rfc5280_utc, as_bytes("500101000000Z"))->year, 1950);
  EXPECT_FALSE(decode_date(DateFormat::rfc5280_utc, as_bytes("A41211100908Z")));
  EXPECT_FALSE(decode_date(DateFormat::rfc5280_utc, as_bytes("141211100908X")));
  EXPECT_FALSE(decode_date(DateFormat::rfc5280_utc, as_bytes("230229000000Z")));  // no Feb 29 2023
  EXPECT_TRUE(decode_date(DateFormat::rfc5280_utc, as_bytes("240229000000Z")));
  EXPECT_FALSE(decode_date(DateFormat::rfc5280_gen, as_bytes("20241231240000Z")));  // hour 24
  EXPECT_FALSE(decode_date(DateFormat::iso8601_sep, as_bytes("2014-12-11 10:09:08Z")));
  EXPECT_EQ(*decode_date(DateFormat::rfc5280_gen, as_bytes("99991231235959Z")),
            max_date(DateFormat::rfc5280_gen));
  EXPECT_EQ(*decode_date(DateFormat::posix_u32_be, hex("ffffffff")),
            max_date(DateFormat::posix_u32_be));
}

TEST(SerialSources, FollowAtcacertDefH) {
  crypto::PublicKeyRaw key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  const EncodedDates dates = *encode_compressed_dates({2026, 11, 25, 20, 0, 0}, 0);
  SerialInputs in{key, dates, {0xAB, 0xCD}, DeviceSerial{0x01, 0x23, 1, 2, 3, 4, 5, 6, 0xEE}};

  // PUB_KEY_HASH: first 16 bytes of SHA-256(X‖Y ‖ 3 date bytes), then &0x7F |0x40 (kit.md).
  Bytes message(key.begin(), key.end());
  message.insert(message.end(), dates.begin(), dates.end());
  auto digest = crypto::sha256(message);
  Bytes expected(digest.begin(), digest.begin() + 16);
  expected[0] = static_cast<uint8_t>((expected[0] & 0x7F) | 0x40);
  EXPECT_EQ(*generate_serial(SnSource::pub_key_hash, 16, in), expected);
  Bytes pos(digest.begin(), digest.begin() + 16);
  pos[0] &= 0x7F;
  EXPECT_EQ(*generate_serial(SnSource::pub_key_hash_pos, 16, in), pos);
  EXPECT_EQ(*generate_serial(SnSource::pub_key_hash_raw, 16, in),
            Bytes(digest.begin(), digest.begin() + 16));

  // DEVICE_SN_HASH: SHA-256(9-byte SN ‖ 3 date bytes).
  Bytes sn_message(in.device_sn->begin(), in.device_sn->end());
  sn_message.insert(sn_message.end(), dates.begin(), dates.end());
  auto sn_digest = crypto::sha256(sn_message);
  Bytes sn_expected(sn_digest.begin(), sn_digest.begin() + 12);
  sn_expected[0] = static_cast<uint8_t>((sn_expected[0] & 0x7F) | 0x40);
  EXPECT_EQ(*generate_serial(SnSource::device_sn_hash, 12, in), sn_expected);

  // DEVICE_SN: 0x40 ‖ SN; SIGNER_ID: 0x40 ‖ signer id.
  EXPECT_EQ(to_hex(*generate_serial(SnSource::device_sn, 10, in)),
            "40012301020304050"
            "6ee");
  EXPECT_EQ(to_hex(*generate_serial(SnSource::signer_id, 3, in)), "40abcd");
  in.device_sn.reset();
  EXPECT_FALSE(generate_serial(SnSource::device_sn_hash, 12, in));
}

TEST(SerialSources, EnumValuesMatchCryptoauthlib) {
  EXPECT_EQ(static_cast<int>(SnSource::stored), 0x0);
  EXPECT_EQ(static_cast<int>(SnSource::stored_dynamic), 0x7);
  EXPECT_EQ(static_cast<int>(SnSource::device_sn), 0x8);
  EXPECT_EQ(static_cast<int>(SnSource::signer_id), 0x9);
  EXPECT_EQ(static_cast<int>(SnSource::pub_key_hash), 0xA);
  EXPECT_EQ(static_cast<int>(SnSource::device_sn_hash), 0xB);
  EXPECT_EQ(static_cast<int>(SnSource::device_sn_hash_raw), 0xF);
  EXPECT_EQ(*sn_source_from_string("SNSRC_PUB_KEY_HASH"), SnSource::pub_key_hash);
  EXPECT_EQ(*sn_source_from_string("0xB"), SnSource::device_sn_hash);
  EXPECT_FALSE(sn_source_from_string("0x3"));
}

TEST(SignatureDer, MinimalIntegersAndMaxSize) {
  crypto::RawSignature sig{};
  sig.fill(0x80);  // both high bits set: 0x00 pads, 75 bytes in all
  Bytes der = encode_signature_bit_string(sig);
  EXPECT_EQ(der.size(), kMaxSignatureBitStringSize);
  EXPECT_EQ(to_hex(ByteView(der).first(8)), "0349003046022100");
  EXPECT_EQ(*decode_signature_bit_string(der), sig);
  sig.fill(0x01);
  sig[0] = 0x00;  // r has a leading zero byte: trimmed to 31 bytes; s stays 32
  der = encode_signature_bit_string(sig);
  EXPECT_EQ(to_hex(ByteView(der).first(7)), "0346003043021f");
  EXPECT_EQ(*decode_signature_bit_string(der), sig);
  // Non-minimal: an extra leading zero is refused.
  Bytes padded =
      hex("03470030440221000101010101010101010101010101010101010101010101010101010101010101"
          "021f01010101010101010101010101010101010101010101010101010101010101");
  EXPECT_FALSE(decode_signature_bit_string(padded));
}

TEST(CompressedLayout, BytesSitWhereCryptoauthlibPutsThem) {
  CompressedCert c;
  for (size_t i = 0; i < 64; ++i) c.signature[i] = static_cast<uint8_t>(i);
  c.encoded_dates = {0xA9, 0x9D, 0x5C};
  c.signer_id = {0xFF, 0xFE};
  c.template_id = 2;
  c.chain_id = 3;
  c.sn_source = 0xA;
  CompressedBytes b = serialize(c);
  EXPECT_EQ(b[0], 0);
  EXPECT_EQ(b[63], 63);
  EXPECT_EQ(to_hex(ByteView(b).subspan(64)), "a99d5cfffe23a000");
  auto parsed = *parse_compressed(b);
  EXPECT_EQ(parsed.template_id, 2);
  EXPECT_EQ(parsed.chain_id, 3);
  EXPECT_EQ(parsed.sn_source, 0xA);
  EXPECT_TRUE(check_format(parsed));
  // atcacert_set_comp_cert (v3.7) reads versions 0..2 and refuses the others.
  b[70] = 0xA1;
  EXPECT_TRUE(check_format(*parse_compressed(b)));
  b[70] = 0xA3;
  EXPECT_FALSE(check_format(*parse_compressed(b)));
}

// Format version 1, by hand from cryptoauthlib's layout (atcacert_date.c, encode/decode_compcert
// _ext): 2040-06-15 10h with 40 expire years. Year offset 40 = 0b0101000 and 40 years =
// 0b0101000: the low five bits (8 and 8) go in bytes 64..66 — 8<<19 | 6<<15 | 15<<10 | 10<<5 | 8
// = 0x433D48 — and bits 6-5 (0b01 each) go in byte 71 bits 7-6 and 5-4: 0x40 | 0x10 = 0x50.
TEST(CompressedDatesVersion1, KnownAnswers) {
  const UtcTime issue{2040, 6, 15, 10, 0, 0};
  EXPECT_EQ(dates_format_version(issue, 40), 1);
  EXPECT_EQ(to_hex(*encode_compressed_dates(issue, 40, 1)), "433d48");
  EXPECT_EQ(extended_date_bits(issue, 40), 0x50);
  CompressedDates d = decode_compressed_dates({0x43, 0x3D, 0x48}, 0x5A, 1);  // low nibble ignored
  EXPECT_EQ(d.issue, issue);
  EXPECT_EQ(d.expire_years, 40);
  // The same bytes read as version 0 ignore byte 71: 2008 and 8 years.
  d = decode_compressed_dates({0x43, 0x3D, 0x48}, 0x50, 0);
  EXPECT_EQ(d.issue.year, 2008);
  EXPECT_EQ(d.expire_years, 8);
  // Version 2 reads dates as version 1 does.
  EXPECT_EQ(decode_compressed_dates({0x43, 0x3D, 0x48}, 0x50, 2).issue, issue);
  // The ends: 2127-12-31 23h and 127 years set every date bit (byte 71 = 0xF0).
  const UtcTime last{2127, 12, 31, 23, 0, 0};
  EXPECT_EQ(to_hex(*encode_compressed_dates(last, 127, 1)), "fe7eff");
  EXPECT_EQ(extended_date_bits(last, 127), 0xF0);
  EXPECT_EQ(decode_compressed_dates({0xFE, 0x7E, 0xFF}, 0xF0, 1).issue, last);
  EXPECT_EQ(decode_compressed_dates({0xFE, 0x7E, 0xFF}, 0xF0, 1).expire_years, 127);
  EXPECT_FALSE(encode_compressed_dates({2128, 1, 1, 0, 0, 0}, 0, 1));
  EXPECT_FALSE(encode_compressed_dates(issue, 128, 1));
  EXPECT_FALSE(encode_compressed_dates(issue, 0, 3));
  // atcacert_get_comp_cert's rule: version 1 only past 2031 or past 31 years.
  EXPECT_EQ(dates_format_version({2031, 12, 31, 23, 0, 0}, 31), 0);
  EXPECT_EQ(dates_format_version({2032, 1, 1, 0, 0, 0}, 0), 1);
  EXPECT_EQ(dates_format_version({2026, 1, 1, 0, 0, 0}, 32), 1);
  // Expire years past 31 with an early year: only the expire bits are set.
  EXPECT_EQ(extended_date_bits({2026, 1, 1, 0, 0, 0}, 100), 0x30);  // 100 = 0b1100100
}

// atcacert_generate_sn: versions 1 and 2 hash byte 71's high nibble after the three date bytes.
TEST(CompressedDatesVersion1, SerialHashesTheExtendedBits) {
  crypto::PublicKeyRaw key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7);
  SerialInputs inputs{key, {0x43, 0x3D, 0x48}, {}, std::nullopt, 1, 0x5A};
  Bytes message(key.begin(), key.end());
  for (uint8_t b : {0x43, 0x3D, 0x48, 0x50}) message.push_back(b);
  Bytes expected(16);
  auto digest = crypto::sha256(message);
  std::copy_n(digest.begin(), 16, expected.begin());
  expected[0] = (expected[0] & 0x7F) | 0x40;
  EXPECT_EQ(to_hex(*generate_serial(SnSource::pub_key_hash, 16, inputs)), to_hex(expected));
  inputs.format_version = 0;  // version 0: three date bytes only
  EXPECT_NE(to_hex(*generate_serial(SnSource::pub_key_hash, 16, inputs)), to_hex(expected));
}

// A device certificate issued in 2040 compresses to format version 1 and rebuilds bit for bit.
TEST(CompressedDatesVersion1, DeviceCertificatePast2031RoundTrips) {
  auto root = testing::make_root({2026, 1, 1, 0, 0, 0});
  auto signer = testing::make_signer(root, {2026, 1, 1, 0, 0, 0});
  auto device = testing::make_device(signer, {2040, 6, 15, 10, 0, 0});
  const CertDef def = kit_device_definition();
  auto data = compress(def, device.der, {.issuer_public_key = signer.public_key, .device_sn = {}});
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->compressed[70] & 0x0F, 1);
  EXPECT_EQ(data->compressed[71], 0x40);  // year offset 40: bits 6-5 = 01; expire years 0
  EXPECT_EQ(to_hex(ByteView(data->compressed).subspan(64, 3)), "433d40");
  auto rebuilt = decompress(def, *data);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ(*rebuilt, device.der);
  // Read as version 0 (byte 70's low nibble cleared) the same bytes name 2008: the rebuilt
  // certificate differs.
  DeviceData as_v0 = *data;
  as_v0.compressed[70] &= 0xF0;
  auto wrong = decompress(def, as_v0);
  EXPECT_TRUE(!wrong || *wrong != device.der);
}

// kit.md: device template offsets TBS 4 (335), serial 15 (16), signer id 93 (4), issue date 101
// (13), public key 207 (64), SKI 286 (20), AKI 319 (20), signature 351 (75), total 426.
TEST(KitDefinitions, DeviceOffsetsMatchTheReferenceTemplate) {
  auto root = testing::make_root({2026, 1, 1, 0, 0, 0});
  auto signer = testing::make_signer(root, {2026, 1, 1, 0, 0, 0});
  auto device = testing::make_device(signer, {2026, 5, 17, 9, 0, 0});
  CertDef def = *definition_from_certificate(device.der);
  EXPECT_EQ(def.template_id, 2);
  EXPECT_EQ(def.chain_id, 0);
  EXPECT_EQ(def.sn_source, SnSource::pub_key_hash);
  EXPECT_EQ(def.issue_date_format, DateFormat::rfc5280_utc);
  EXPECT_EQ(def.expire_date_format, DateFormat::rfc5280_gen);
  EXPECT_EQ(def.expire_years, 0);
  EXPECT_EQ(def.tbs_cert_loc, (CertLoc{4, 335}));
  EXPECT_EQ(def.element(StdElement::cert_sn), (CertLoc{15, 16}));
  EXPECT_EQ(def.element(StdElement::signer_id), (CertLoc{93, 4}));
  EXPECT_EQ(def.element(StdElement::issue_date), (CertLoc{101, 13}));
  EXPECT_EQ(def.element(StdElement::expire_date), (CertLoc{}));  // template date stays
  EXPECT_EQ(def.element(StdElement::public_key), (CertLoc{207, 64}));
  EXPECT_EQ(def.element(StdElement::subj_key_id), (CertLoc{286, 20}));
  EXPECT_EQ(def.element(StdElement::auth_key_id), (CertLoc{319, 20}));
  EXPECT_EQ(def.element(StdElement::signature), (CertLoc{351, 75}));
  EXPECT_EQ(def.cert_template.size(), 426u);
  EXPECT_EQ(def.public_key_dev_loc, (DeviceLoc{DeviceZone::data, 0, true, 0, 64}));
  EXPECT_EQ(def.comp_cert_dev_loc, (DeviceLoc{DeviceZone::data, 10, false, 0, 72}));
  // The built-in definition is the same apart from the template's dynamic bytes.
  CertDef builtin = kit_device_definition();
  builtin.cert_template = def.cert_template;
  EXPECT_EQ(builtin, def);
}

// kit.md: signer TBS at 4 (370), public key at 206; serial in slot 14 at 4 (16), dates at 22
// and 37.
TEST(KitDefinitions, SignerOffsetsMatchTheReferenceTemplate) {
  auto root = testing::make_root({2026, 1, 1, 0, 0, 0});
  auto signer = testing::make_signer(root, {2026, 3, 4, 5, 6, 7});
  CertDef def = *definition_from_certificate(signer.der);
  EXPECT_EQ(def.template_id, 1);
  EXPECT_EQ(def.sn_source, SnSource::stored);
  EXPECT_EQ(def.expire_years, 10);
  EXPECT_EQ(def.tbs_cert_loc, (CertLoc{4, 370}));
  EXPECT_EQ(def.element(StdElement::public_key).offset, 206);
  EXPECT_EQ(def.cert_sn_dev_loc, (DeviceLoc{DeviceZone::data, 14, false, 4, 16}));
  ASSERT_EQ(def.cert_elements.size(), 2u);
  EXPECT_EQ(def.cert_elements[0].device_loc, (DeviceLoc{DeviceZone::data, 14, false, 22, 13}));
  EXPECT_EQ(def.cert_elements[1].device_loc, (DeviceLoc{DeviceZone::data, 14, false, 37, 13}));
  EXPECT_EQ(def.public_key_dev_loc, (DeviceLoc{DeviceZone::data, 11, false, 0, 72}));
  EXPECT_EQ(def.comp_cert_dev_loc, (DeviceLoc{DeviceZone::data, 12, false, 0, 72}));
  CertDef builtin = kit_signer_definition();
  builtin.cert_template = def.cert_template;
  EXPECT_EQ(builtin, def);
}

TEST(KitDefinitions, JsonRoundTrip) {
  for (const CertDef* def : {&kit_signer_definition(), &kit_device_definition()}) {
    auto back = definition_from_json_text(to_json(*def).dump(2));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, *def);
  }
}

}  // namespace
}  // namespace zt::atcacert
