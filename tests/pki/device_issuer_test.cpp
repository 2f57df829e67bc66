#include <gtest/gtest.h>

#include "crypto/x509.hpp"
#include "pki/device_issuer.hpp"
#include "support/pki_chain.hpp"

namespace zt::pki {
namespace {

using testing::kNow;

TEST(DeviceIssuer, DerRouteAndObjectRouteIssueTheSameProfile) {
  testing::Chain chain = testing::make_chain();
  auto issuer = DeviceCertificateIssuer::create(chain.signer.get(), chain.signer_key.get());
  ASSERT_TRUE(issuer) << issuer.error().message;
  auto device_key = crypto::generate_p256_key();
  auto csr = testing::make_device_csr(device_key->get());
  Bytes csr_der = *crypto::csr_to_der(csr.get());

  auto der = issuer->issue_der(csr_der, kNow);
  ASSERT_TRUE(der) << der.error().message;
  auto from_der = crypto::certificate_from_der(*der);
  ASSERT_TRUE(from_der);
  auto object = issuer->issue(csr.get(), kNow);
  ASSERT_TRUE(object) << object.error().message;
  EXPECT_EQ(crypto::certificate_serial(from_der->get()), crypto::certificate_serial(object->get()));
  EXPECT_EQ(testing::verify_chain(from_der->get(), chain.signer.get(), chain.root.get(), kNow),
            "ok");
  EXPECT_EQ(testing::verify_chain(object->get(), chain.signer.get(), chain.root.get(), kNow), "ok");
  // Both routes give the same TBSCertificate (offset 4, 335 bytes): every field is deterministic.
  Bytes object_der = testing::der_of(object->get());
  ASSERT_GE(object_der.size(), 339u);
  EXPECT_EQ(Bytes(der->begin() + 4, der->begin() + 339),
            Bytes(object_der.begin() + 4, object_der.begin() + 339));
  EXPECT_TRUE(crypto::certificate_public_key(object->get()));  // a complete object
}

TEST(DeviceIssuer, OtherShapesFallBackToOpenSslWithClearMessages) {
  testing::Chain chain = testing::make_chain();
  auto issuer = DeviceCertificateIssuer::create(chain.signer.get(), chain.signer_key.get());
  auto rsa = testing::generate_key("RSA", "2048");
  auto rsa_csr = testing::make_device_csr(rsa.get());
  auto refused = issuer->issue_der(*crypto::csr_to_der(rsa_csr.get()), kNow, "rsa.csr");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("rsa.csr is an RSA key"), std::string::npos)
      << refused.error().message;
  auto garbage = issuer->issue_der(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}, kNow, "junk.csr");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("junk.csr"), std::string::npos) << garbage.error().message;
}

TEST(DeviceIssuer, RefusesKeyCertSignRequestsAndMismatchedSigners) {
  testing::Chain chain = testing::make_chain();
  auto issuer = DeviceCertificateIssuer::create(chain.signer.get(), chain.signer_key.get());
  auto device_key = crypto::generate_p256_key();
  std::vector<crypto::X509ExtensionPtr> requested;
  requested.push_back(
      std::move(*crypto::key_usage_extension(crypto::kDigitalSignature | crypto::kKeyCertSign)));
  auto csr = testing::make_device_csr(device_key->get(), std::move(requested));
  auto refused = issuer->issue_der(*crypto::csr_to_der(csr.get()), kNow);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("keyCertSign"), std::string::npos);

  auto other = crypto::generate_p256_key();
  auto mismatch = DeviceCertificateIssuer::create(chain.signer.get(), other->get());
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("does not match"), std::string::npos);
  auto no_ski = DeviceCertificateIssuer::create(chain.root.get(), chain.root_key.get());
  EXPECT_TRUE(no_ski);  // the root has an SKI too; any CA with one can issue
}

}  // namespace
}  // namespace zt::pki
