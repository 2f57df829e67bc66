// Property: for many random device keys, every issued certificate verifies against root → signer
// and its serial is the SHA-256 rule of kit.md (first 16 bytes of SHA-256(X‖Y ‖ compressed issue
// date), fixed).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "crypto/digest.hpp"
#include "support/pki_chain.hpp"

namespace zt::pki {
namespace {

TEST(DeviceCertificateProperty, ThousandRandomKeysAllVerifyWithSha256Serials) {
  testing::Chain chain = testing::make_chain();
  std::set<Bytes> serials;
  for (int i = 0; i < 1000; ++i) {
    // Spread the issue time over the years a compressed certificate can hold (2000..2031).
    int64_t now = to_unix(UtcTime{2000, 1, 1, 0, 0, 0}) + static_cast<int64_t>(i) * 1000003 +
                  (i * 7919) % 3600;
    auto device_key = crypto::generate_p256_key();
    ASSERT_TRUE(device_key);
    auto csr = testing::make_device_csr(device_key->get());
    auto cert =
        issue_device_certificate(csr.get(), chain.signer.get(), chain.signer_key.get(), now);
    ASSERT_TRUE(cert) << cert.error().message;

    ASSERT_EQ(testing::verify_chain(cert->get(), chain.signer.get(), chain.root.get(),
                                    std::max(now, testing::kNow)),
              "ok")
        << "certificate " << i;

    // The rule, computed independently of device_serial_number().
    UtcTime t = to_utc(now);
    const unsigned y = static_cast<unsigned>(t.year - 2000), m = static_cast<unsigned>(t.month),
                   d = static_cast<unsigned>(t.day), h = static_cast<unsigned>(t.hour);
    const uint8_t date[3] = {static_cast<uint8_t>(y << 3 | m >> 1),
                             static_cast<uint8_t>((m & 1) << 7 | d << 2 | h >> 3),
                             static_cast<uint8_t>((h & 7) << 5)};
    auto raw = crypto::public_key_raw(device_key->get());
    Bytes input(raw->begin(), raw->end());
    input.insert(input.end(), date, date + 3);
    crypto::Sha256Digest digest = crypto::sha256(input);
    Bytes expected(digest.begin(), digest.begin() + 16);
    expected[0] = static_cast<uint8_t>((expected[0] & 0x7F) | 0x40);
    Bytes serial = crypto::certificate_serial(cert->get());
    ASSERT_EQ(serial, expected) << "certificate " << i;
    ASSERT_EQ(testing::der_of(cert->get())[15], expected[0]);  // never trimmed: always at offset 15
    serials.insert(serial);
  }
  EXPECT_EQ(serials.size(), 1000u);
}

}  // namespace
}  // namespace zt::pki
