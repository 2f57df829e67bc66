// Round trips: decompress(compress(cert)) == cert, bit for bit, for 10,000 device and 100 signer
// certificates of the kit profiles with random keys and dates; the rebuilt chains verify.
#include <gtest/gtest.h>

#include <openssl/x509_vfy.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "atcacert/kit_definitions.hpp"
#include "atcacert/slots.hpp"
#include "kit_profile.hpp"
#include "support/temp_dir.hpp"

namespace zt::atcacert {
namespace {

using testing::Issued;

// Full path validation by OpenSSL (signatures, names, CA flags, path length); validity times are
// not checked because random issue dates run into the future.
bool openssl_verifies(const Issued& root, ByteView signer_der, ByteView device_der) {
  auto signer = crypto::certificate_from_der(signer_der);
  auto device = crypto::certificate_from_der(device_der);
  if (!signer || !device) return false;
  crypto::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root.cert.get());
  crypto::UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  sk_X509_push(untrusted.get(), signer->get());
  crypto::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), device->get(), untrusted.get());
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  sk_X509_zero(untrusted.get());  // the stack borrows the certificates
  return ok;
}

UtcTime random_signer_date(std::mt19937& rng) {
  UtcTime t = testing::random_issue_date(rng);
  if (t.month == 2 && t.day == 29) t.day = 28;  // kit.md: the signer profile moves Feb 29 to Feb 28
  t.minute = std::uniform_int_distribution<int>(0, 59)(rng);
  t.second = std::uniform_int_distribution<int>(0, 59)(rng);
  return t;
}

TEST(RoundTrip, HundredSignerCertificates) {
  std::mt19937 rng(20261125);
  auto root = testing::pki_root({2000, 1, 1, 0, 0, 0});
  const CertDef& def = kit_signer_definition();
  for (int i = 0; i < 100; ++i) {
    auto signer = testing::pki_signer(root, random_signer_date(rng));
    auto data = compress(def, signer.der, {root.public_key, std::nullopt});
    ASSERT_TRUE(data) << data.error().message;
    auto rebuilt = decompress(def, *data);
    ASSERT_TRUE(rebuilt) << rebuilt.error().message;
    ASSERT_EQ(*rebuilt, signer.der) << "signer " << i;
  }
}

// Rebuilds every device certificate of `count` random ones issued under `signer` (issue dates
// with random minutes and seconds when `random_minutes`), checks bit-exactness, our signature check
// and, for every tenth, OpenSSL's full path validation. Returns how many OpenSSL validated.
template <class IssueDevice>
int round_trip_devices(const Issued& root, const Issued& signer, int count, std::mt19937& rng,
                       IssueDevice issue_device) {
  const CertDef& signer_def = kit_signer_definition();
  const CertDef& device_def = kit_device_definition();
  auto signer_data = compress(signer_def, signer.der, {root.public_key, std::nullopt});
  EXPECT_TRUE(signer_data) << signer_data.error().message;
  if (!signer_data) return 0;
  auto signer_rebuilt = decompress(signer_def, *signer_data);
  EXPECT_TRUE(signer_rebuilt && *signer_rebuilt == signer.der);
  EXPECT_TRUE(verify_signature(signer_def, *signer_rebuilt, root.key.get()));
  int verified = 0;
  for (int d = 0; d < count; ++d) {
    Issued device = issue_device(signer, testing::random_issue_date(rng));
    auto data = compress(device_def, device.der, {signer.public_key, std::nullopt});
    EXPECT_TRUE(data) << data.error().message;
    if (!data) return verified;
    auto rebuilt = decompress(device_def, *data);
    EXPECT_TRUE(rebuilt) << rebuilt.error().message;
    if (!rebuilt || *rebuilt != device.der) {
      ADD_FAILURE() << "device " << d << " not rebuilt bit-exactly";
      return verified;
    }
    // Our own check of every rebuilt certificate's signature...
    EXPECT_TRUE(verify_signature(device_def, *rebuilt, signer.key.get()));
    // ...and OpenSSL's full path validation on every tenth rebuilt chain.
    if (d % 10 == 0 && openssl_verifies(root, *signer_rebuilt, *rebuilt)) ++verified;
  }
  return verified;
}

// 10,000 device certificates made with OpenSSL directly in the kit profile (fast: zt::pki takes
// about three times as long per certificate). compress() compares every fixed byte
// with the built-in template, which was generated from a zt::pki certificate, so these have
// exactly the pki profile's structure.
TEST(RoundTrip, TenThousandDeviceCertificatesAndTheirChains) {
  std::mt19937 rng(4242);
  auto root = testing::pki_root({2000, 1, 1, 0, 0, 0});
  int verified = 0;
  // Issued by zt::pki (DeviceCertificateIssuer, the path `ztp ca issue-device` and `ztp kit
  // provision` use), 1,000 per signer with random keys and issue dates.
  for (int s = 0; s < 10; ++s) {
    auto signer = testing::pki_signer(root, random_signer_date(rng));
    auto issuer = pki::DeviceCertificateIssuer::create(signer.cert.get(), signer.key.get());
    ASSERT_TRUE(issuer) << issuer.error().message;
    verified += round_trip_devices(root, signer, 1000, rng, [&](const Issued&, UtcTime issue) {
      return testing::pki_fast_device(*issuer, issue);
    });
  }
  EXPECT_EQ(verified, 1000);
}

// Certificates issued by zt::pki itself through the factory-rate path (DeviceCertificateIssuer,
// DER CSR in, DER out: what the kit provisioning uses), notBefore taken from a "now" with random
// minutes and seconds that the profile drops.
TEST(RoundTrip, ThousandPkiIssuedDeviceCertificates) {
  std::mt19937 rng(77);
  auto root = testing::pki_root({2000, 1, 1, 0, 0, 0});
  auto signer = testing::pki_signer(root, random_signer_date(rng));
  auto issuer = pki::DeviceCertificateIssuer::create(signer.cert.get(), signer.key.get());
  ASSERT_TRUE(issuer) << issuer.error().message;
  int verified = round_trip_devices(root, signer, 1000, rng, [&](const Issued&, UtcTime now) {
    now.minute = std::uniform_int_distribution<int>(0, 59)(rng);
    now.second = std::uniform_int_distribution<int>(0, 59)(rng);
    return testing::pki_fast_device(*issuer, now);
  });
  EXPECT_EQ(verified, 100);
}

TEST(SlotChain, WriteReadVerifyThroughSlots) {
  auto root = testing::pki_root({2020, 1, 1, 0, 0, 0});
  auto signer = testing::pki_signer(root, {2024, 7, 1, 12, 34, 56});
  auto device = testing::pki_device(signer, {2025, 3, 9, 17, 0, 0});
  MemorySlotStore store;
  store.set_private_key_public_part(0, device.public_key);
  const CertDef& signer_def = kit_signer_definition();
  const CertDef& device_def = kit_device_definition();
  ASSERT_TRUE(write_chain(signer_def, device_def, store, signer.der, device.der, root.public_key));

  // The kit's slot map: 10 device compressed cert, 11 signer public key (padded), 12 signer
  // compressed cert, 14 signer serial (offset 4) and dates (22, 37), 15 root public key.
  EXPECT_EQ(store.read_slot(10, 69, 2)->at(0), 0x20);  // template 2, chain 0
  EXPECT_EQ(store.read_slot(12, 69, 2)->at(0), 0x10);  // template 1, chain 0
  EXPECT_EQ(unpad_public_key(*store.read_slot(11, 0, 72)), signer.public_key);
  EXPECT_EQ(unpad_public_key(*store.read_slot(15, 0, 72)), root.public_key);
  EXPECT_EQ(*store.read_slot(14, 4, 16), crypto::certificate_serial(signer.cert.get()));
  EXPECT_EQ(as_chars(*store.read_slot(14, 22, 13)), "240701123456Z");
  EXPECT_EQ(as_chars(*store.read_slot(14, 37, 13)), "340701123456Z");

  auto chain = read_chain(signer_def, device_def, store);
  ASSERT_TRUE(chain) << chain.error().message;
  EXPECT_EQ(chain->signer, signer.der);
  EXPECT_EQ(chain->device, device.der);
  EXPECT_TRUE(verify_chain(signer_def, device_def, *chain, root.public_key));
  EXPECT_TRUE(openssl_verifies(root, chain->signer, chain->device));

  // A flipped signature bit in slot 10 still rebuilds, but no longer verifies.
  Bytes compressed = *store.read_slot(10, 0, 72);
  compressed[5] ^= 0x01;
  ASSERT_TRUE(store.write_slot(10, 0, compressed));
  auto tampered = read_chain(signer_def, device_def, store);
  ASSERT_TRUE(tampered);
  EXPECT_FALSE(verify_chain(signer_def, device_def, *tampered, root.public_key));
}

TEST(SlotChain, GenKeyPublicKeyMustMatchTheCertificate) {
  auto root = testing::pki_root({2020, 1, 1, 0, 0, 0});
  auto signer = testing::pki_signer(root, {2024, 7, 1, 12, 0, 0});
  auto device = testing::pki_device(signer, {2025, 3, 9, 17, 0, 0});
  auto other = testing::pki_device(signer, {2025, 3, 9, 17, 0, 0});
  MemorySlotStore store;
  store.set_private_key_public_part(0, other.public_key);
  Bytes before = *store.read_slot(10, 0, 72);
  auto status =
      write_cert(kit_device_definition(), store, device.der, {signer.public_key, std::nullopt});
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("not the key of slot 0"), std::string::npos);
  EXPECT_EQ(*store.read_slot(10, 0, 72), before);  // nothing written
}

// `openssl verify` (the real CLI) accepts a rebuilt chain written out as PEM.
TEST(SlotChain, OpensslCliVerifiesARebuiltChain) {
  auto root = testing::pki_root({2020, 1, 1, 0, 0, 0});
  auto signer = testing::pki_signer(root, {2024, 7, 1, 12, 34, 56});
  auto device = testing::pki_device(signer, {2025, 3, 9, 17, 0, 0});
  MemorySlotStore store;
  store.set_private_key_public_part(0, device.public_key);
  ASSERT_TRUE(write_chain(kit_signer_definition(), kit_device_definition(), store, signer.der,
                          device.der, root.public_key));
  auto chain = read_chain(kit_signer_definition(), kit_device_definition(), store);
  ASSERT_TRUE(chain);

  zt::testing::TempDir dir("atcacert");
  auto write_pem = [&](const char* name, ByteView der) {
    auto cert = crypto::certificate_from_der(der);
    std::ofstream(dir / name) << *crypto::certificate_to_pem(cert->get());
  };
  write_pem("root.pem", root.der);
  write_pem("signer.pem", chain->signer);
  write_pem("device.pem", chain->device);
  std::string command = "openssl verify -CAfile " + (dir / "root.pem").string() + " -untrusted " +
                        (dir / "signer.pem").string() + " " + (dir / "device.pem").string() +
                        " > " + (dir / "out.txt").string() + " 2>&1";
  int rc = std::system(command.c_str());
  std::ifstream in(dir / "out.txt");
  std::string output((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find(": OK"), std::string::npos) << output;
}

}  // namespace
}  // namespace zt::atcacert
