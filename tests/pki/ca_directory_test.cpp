#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/file.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "pki/ca_directory.hpp"
#include "support/pki_chain.hpp"

namespace zt::pki {
namespace {

namespace fs = std::filesystem;

class CaDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/zt_pki_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  CaOptions options(bool force = false) const {
    return CaOptions{.dir = dir_, .key = {}, .force = force, .now = testing::kNow};
  }

  // The full chain through the working-directory operations.
  void make_chain_files() {
    ASSERT_TRUE(ca_create_root(options()));
    ASSERT_TRUE(ca_create_signer_csr(options()));
    auto signer = ca_create_signer(options());
    ASSERT_TRUE(signer) << signer.error().message;
  }

  void write_device_csr(const fs::path& path) {
    auto key = crypto::generate_p256_key();
    auto csr = testing::make_device_csr(key->get());
    ASSERT_TRUE(write_file_atomic(path, *crypto::csr_to_pem(csr.get())));
  }

  fs::path dir_;
};

unsigned file_mode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST_F(CaDirectoryTest, FullChainWithSeedFileNamesAndPrivateKeys) {
  make_chain_files();
  write_device_csr(dir_ / "device.csr");
  auto device = ca_issue_device(options(), {}, {});
  ASSERT_TRUE(device) << device.error().message;
  EXPECT_EQ(device->output, dir_ / "device.crt");
  auto verification = ca_create_verification(options(), "0123abcd");
  ASSERT_TRUE(verification) << verification.error().message;
  for (const char* name : {kRootKeyFile, kRootCertFile, kSignerKeyFile, kSignerCsrFile,
                           kSignerCertFile, kVerificationCertFile, kDeviceCertFile}) {
    EXPECT_TRUE(fs::exists(dir_ / name)) << name;
  }
  EXPECT_EQ(file_mode(dir_ / kRootKeyFile), 0600u);
  EXPECT_EQ(file_mode(dir_ / kSignerKeyFile), 0600u);
  auto root = crypto::load_certificate(dir_ / kRootCertFile);
  auto signer = crypto::load_certificate(dir_ / kSignerCertFile);
  auto cert = crypto::load_certificate(dir_ / kDeviceCertFile);
  EXPECT_EQ(testing::verify_chain(cert->get(), signer->get(), root->get(), testing::kNow), "ok");
}

TEST_F(CaDirectoryTest, ReusesKeysAndRefusesToOverwriteWithoutForce) {
  ASSERT_TRUE(ca_create_root(options()));
  auto first_key = crypto::load_private_key(dir_ / kRootKeyFile);
  auto first_cert = crypto::load_certificate(dir_ / kRootCertFile);

  auto again = ca_create_root(options());
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("root-ca.crt"), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().message.find("--force"), std::string::npos) << again.error().message;

  auto forced = ca_create_root(options(true));
  ASSERT_TRUE(forced) << forced.error().message;
  auto second_key = crypto::load_private_key(dir_ / kRootKeyFile);
  auto second_cert = crypto::load_certificate(dir_ / kRootCertFile);
  EXPECT_TRUE(crypto::same_public_key(first_key->get(), second_key->get()));  // key reused
  EXPECT_NE(crypto::certificate_serial(first_cert->get()),
            crypto::certificate_serial(second_cert->get()));
}

TEST_F(CaDirectoryTest, MissingInputsNameTheFileAndTheCommand) {
  auto signer = ca_create_signer(options());
  ASSERT_FALSE(signer);
  EXPECT_NE(
      signer.error().message.find("signer-ca.csr not found — run `ztp ca create-signer-csr` first"),
      std::string::npos)
      << signer.error().message;
  ASSERT_TRUE(ca_create_signer_csr(options()));
  signer = ca_create_signer(options());
  ASSERT_FALSE(signer);
  EXPECT_NE(signer.error().message.find("root-ca.crt not found — run `ztp ca create-root` first"),
            std::string::npos)
      << signer.error().message;
  auto device = ca_issue_device(options(), dir_ / "nope.csr", {});
  ASSERT_FALSE(device);
  EXPECT_NE(device.error().message.find("nope.csr"), std::string::npos);
  write_device_csr(dir_ / "device.csr");
  device = ca_issue_device(options(), {}, {});
  ASSERT_FALSE(device);
  EXPECT_NE(
      device.error().message.find("signer-ca.crt not found — run `ztp ca create-signer` first"),
      std::string::npos)
      << device.error().message;
}

TEST_F(CaDirectoryTest, RefusesASignerKeyThatDoesNotMatchTheSignerCertificate) {
  make_chain_files();
  write_device_csr(dir_ / "device.csr");
  auto other = crypto::generate_p256_key();
  ASSERT_TRUE(crypto::save_private_key(dir_ / kSignerKeyFile, other->get()));
  auto device = ca_issue_device(options(), {}, {});
  ASSERT_FALSE(device);
  EXPECT_NE(device.error().message.find("does not match"), std::string::npos)
      << device.error().message;
  EXPECT_FALSE(fs::exists(dir_ / kDeviceCertFile));
  auto loaded = load_signer_ca(dir_);
  EXPECT_FALSE(loaded);
}

TEST_F(CaDirectoryTest, UnwritableDirectoryLeavesNoKeyBehind) {
  // A directory under a regular file cannot exist, even for root (who ignores mode bits).
  fs::path blocker = dir_ / "plain-file";
  std::ofstream(blocker) << "x";
  CaOptions bad = options();
  bad.dir = blocker / "ca";
  auto root = ca_create_root(bad);
  ASSERT_FALSE(root);
  EXPECT_NE(root.error().message.find("plain-file"), std::string::npos) << root.error().message;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(CaDirectoryTest, RefusesRsaKeyFilesNamingTheType) {
  auto rsa = testing::generate_key("RSA", "2048");
  std::string pem = *crypto::private_key_to_pem(rsa.get());
  ASSERT_TRUE(write_file_atomic(dir_ / kRootKeyFile, pem, 0600));
  auto root = ca_create_root(options());
  ASSERT_FALSE(root);
  EXPECT_NE(root.error().message.find("RSA"), std::string::npos) << root.error().message;
  EXPECT_NE(root.error().message.find("root-ca.key"), std::string::npos) << root.error().message;
  EXPECT_FALSE(fs::exists(dir_ / kRootCertFile));
}

}  // namespace
}  // namespace zt::pki
