// The fleet flows' chip side: the fleet-claim configuration takes an encrypted PrivWrite in slot 3
// under the I/O protection key the kit keeps in flash (slot 4), the seed's configuration refuses
// it; the handler's saveClaim stores a claim only for slot 0's key and a template name AWS allows.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/hex.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "kit/flash.hpp"
#include "kit/flow.hpp"
#include "kit/provisioning_handler.hpp"
#include "kit_fixtures.hpp"

namespace zt::kit {
namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char pattern[] = "/tmp/zt_fleet_chip_XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::shared_ptr<se::Device> chip_for(Flow flow) {
  auto emulator = std::make_shared<se::Emulator>(se::blank_chip());
  auto device = std::make_shared<se::Device>(std::make_unique<se::InProcessTransport>(emulator));
  auto provisioned = se::provision(*device, chip_config_for(flow));
  EXPECT_TRUE(provisioned) << (provisioned ? "" : provisioned.error().message);
  return device;
}

TEST(FleetChip, PrivWriteEncryptedIntoTheFleetClaimSlot) {
  TempDir dir;
  auto device = chip_for(Flow::fleet_claim);
  KitFlash flash(dir.path);
  auto io_key = flash.io_protection_key(*device);
  ASSERT_TRUE(io_key) << io_key.error().message;
  EXPECT_EQ(std::filesystem::status(dir.path / "io-protection.key").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A second call returns the same key (the MCU's copy), not a new one.
  EXPECT_EQ(*flash.io_protection_key(*device), *io_key);

  auto key = crypto::generate_p256_key().value();
  Bytes scalar = crypto::private_key_scalar(key.get()).value();
  ASSERT_TRUE(
      device->priv_write_encrypted(kFleetClaimKeySlot, scalar, kIoProtectionKeySlot, *io_key));
  // The chip now holds the key: its public half, and a signature OpenSSL verifies.
  EXPECT_EQ(device->public_key(kFleetClaimKeySlot).value(),
            crypto::public_key_raw(key.get()).value());
  const auto digest = crypto::sha256(as_bytes("fleet-claim"));
  auto signature = device->sign_digest(kFleetClaimKeySlot, digest);
  ASSERT_TRUE(signature) << signature.error().message;
  EXPECT_TRUE(crypto::ecdsa_verify_digest_raw(key.get(), digest, *signature));

  // A wrong I/O protection key: the chip's MAC check fails, the slot keeps its key.
  auto other = crypto::generate_p256_key().value();
  Bytes wrong(32, 0x5A);
  auto refused = device->priv_write_encrypted(kFleetClaimKeySlot,
                                              crypto::private_key_scalar(other.get()).value(),
                                              kIoProtectionKeySlot, wrong);
  EXPECT_FALSE(refused);
  EXPECT_EQ(device->public_key(kFleetClaimKeySlot).value(),
            crypto::public_key_raw(key.get()).value());
  // Slot 0 (the factory key) never takes a PrivWrite.
  EXPECT_FALSE(device->priv_write_encrypted(0, scalar, kIoProtectionKeySlot, *io_key));
}

TEST(FleetChip, TheSeedConfigurationRefusesPrivWrite) {
  TempDir dir;
  auto device = chip_for(Flow::jitr);
  auto io_key = KitFlash(dir.path).io_protection_key(*device);
  ASSERT_TRUE(io_key);
  auto key = crypto::generate_p256_key().value();
  auto written = device->priv_write_encrypted(kFleetClaimKeySlot,
                                              crypto::private_key_scalar(key.get()).value(),
                                              kIoProtectionKeySlot, *io_key);
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("PrivWrite"), std::string::npos)
      << written.error().message;
  // Both configurations keep GenKey in slot 2 (fleet-csr).
  EXPECT_TRUE(device->genkey(kFleetCsrKeySlot));
}

// A certificate for `subject_key`'s public key, signed by a throwaway issuer key.
crypto::X509Ptr certificate_for(EVP_PKEY* subject_key) {
  auto issuer = crypto::generate_p256_key().value();
  auto name = crypto::make_name({{"CN", "claim"}}).value();
  crypto::X509Ptr certificate(X509_new());
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
  X509_set_subject_name(certificate.get(), name.get());
  X509_set_issuer_name(certificate.get(), name.get());
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 3600);
  X509_set_pubkey(certificate.get(), subject_key);
  EXPECT_GT(X509_sign(certificate.get(), issuer.get(), EVP_sha256()), 0);
  return certificate;
}

TEST(FleetChip, SaveClaimChecksTheKeyAndTheTemplateName) {
  TempDir dir;
  fixtures::Chip chip;
  ProvisioningHandler handler(chip.device, {}, dir.path / "flash");
  // A certificate for another key is refused; one for slot 0's key is stored in flash.
  auto other = crypto::generate_p256_key().value();
  auto foreign = certificate_for(other.get());
  auto call = [&](const X509* certificate, const std::string& template_name) {
    Bytes der = crypto::certificate_to_der(certificate).value();
    return handler.handle(Request{.method = "saveClaim",
                                  .params = {{"hostName", "abc-ats.iot.us-east-1.localhost"},
                                             {"claimCert", to_hex_upper(der)},
                                             {"templateName", template_name}},
                                  .id = 1});
  };
  EXPECT_TRUE(call(foreign.get(), "KitFleet").error.has_value());
  auto slot0_key = crypto::public_key_from_raw(chip.public_key).value();
  auto slot0 = certificate_for(slot0_key.get());
  EXPECT_TRUE(call(slot0.get(), "Kit/Fleet").error.has_value());  // '/' is not a name character
  auto stored = call(slot0.get(), "KitFleet");
  EXPECT_FALSE(stored.error.has_value()) << stored.error->message;
  auto claim = KitFlash(dir.path / "flash").claim().value();
  ASSERT_TRUE(claim.has_value());
  EXPECT_EQ(claim->template_name, "KitFleet");
}

}  // namespace
}  // namespace zt::kit
