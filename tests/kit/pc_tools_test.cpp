#include "kit/pc_tools.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "crypto/aead.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"
#include "kit/emulated_kit.hpp"
#include "kit/metadata.hpp"
#include "kit/provisioning_handler.hpp"
#include "kit_fixtures.hpp"
#include "pki/ca_directory.hpp"
#include "support/temp_dir.hpp"

namespace zt::kit {
namespace {
namespace fs = std::filesystem;

struct TempDir : zt::testing::TempDir {
  TempDir() : zt::testing::TempDir("kit-pc") {}
  const fs::path& path = zt::testing::TempDir::path();
};

// A kit on the other end of a socket pair: the same report path as `ztp kit run`'s usb.sock.
struct KitOnSocket : fixtures::Chip {
  std::unique_ptr<ProvisioningHandler> handler;
  std::unique_ptr<KitClient> client;
  std::atomic<bool> stop{false};
  std::thread thread;
  int kit_fd = -1;
  KitOnSocket() {
    handler = std::make_unique<ProvisioningHandler>(device);
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
    kit_fd = fds[1];
    client = std::make_unique<KitClient>(kit_link_from_socket(fds[0], "socketpair"));
    thread = std::thread(
        [this] { serve_kit_connection(kit_fd, *handler, stop, [](const std::string&) {}); });
  }
  ~KitOnSocket() {
    client.reset();  // closes the host end: the kit loop returns
    stop = true;
    thread.join();
    ::close(kit_fd);
  }
};

void make_ca(const fs::path& dir) {
  pki::CaOptions options;
  options.dir = dir;
  ASSERT_TRUE(pki::ca_create_root(options));
  ASSERT_TRUE(pki::ca_create_signer_csr(options));
  ASSERT_TRUE(pki::ca_create_signer(options));
}

void set_endpoint(const fs::path& dir, const std::string& endpoint) {
  auto info = read_kit_info(dir);
  ASSERT_TRUE(info);
  (*info)["endpointAddress"] = endpoint;
  ASSERT_TRUE(write_file_atomic(dir / kKitInfoFile, info->dump(), 0600));
}

TEST(Aead, SealOpenAndTamper) {
  Bytes key = crypto::random_bytes(32);
  auto sealed =
      crypto::aes_256_gcm_seal(key, as_bytes(std::string("secret")), as_bytes(std::string("ad")));
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->ciphertext.size(), 6u + 16u);
  auto opened = crypto::aes_256_gcm_open(key, *sealed, as_bytes(std::string("ad")));
  ASSERT_TRUE(opened);
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "secret");
  EXPECT_FALSE(crypto::aes_256_gcm_open(key, *sealed, as_bytes(std::string("other"))));
  auto tampered = *sealed;
  tampered.ciphertext[0] ^= 1;
  EXPECT_FALSE(crypto::aes_256_gcm_open(key, tampered, as_bytes(std::string("ad"))));
  EXPECT_FALSE(crypto::aes_256_gcm_seal(Bytes(16), {}, {}));
}

TEST(SetWifi, PasswordIsSealedNotStoredInClear) {
  TempDir dir;
  ASSERT_TRUE(set_wifi(dir.path, "lab", "correct horse battery"));
  auto text = read_text_file(dir.path / kKitInfoFile);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find("correct horse"), std::string::npos);
  EXPECT_NE(text->find("wifi_password_encrypted"), std::string::npos);
  EXPECT_EQ(fs::status(dir.path / kWifiKeyFile).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto wifi = load_wifi(dir.path);
  ASSERT_TRUE(wifi) << wifi.error().message;
  EXPECT_EQ(wifi->ssid, "lab");
  EXPECT_EQ(wifi->password, "correct horse battery");

  // The SSID is bound to the ciphertext: editing it in kit-info.json breaks decryption.
  auto info = read_kit_info(dir.path);
  (*info)["wifi_ssid"] = "evil";
  ASSERT_TRUE(write_file_atomic(dir.path / kKitInfoFile, info->dump(), 0600));
  auto broken = load_wifi(dir.path);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("decrypting the Wi-Fi password"), std::string::npos);
}

TEST(SetWifi, RefusesBadInput) {
  TempDir dir;
  EXPECT_FALSE(set_wifi(dir.path, "", "password123"));
  EXPECT_FALSE(set_wifi(dir.path, std::string(33, 'x'), "password123"));
  EXPECT_FALSE(set_wifi(dir.path, "lab", "short"));
  EXPECT_FALSE(fs::exists(dir.path / kKitInfoFile));
  auto missing = load_wifi(dir.path);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("ztp kit set-wifi"), std::string::npos);
}

TEST(Provision, WholeFlowOverTheReportPath) {
  TempDir dir;
  make_ca(dir.path);
  ASSERT_TRUE(set_wifi(dir.path, "lab", "correct horse battery"));
  set_endpoint(dir.path, "abc-ats.iot.us-east-1.localhost");
  KitOnSocket kit;
  auto report = provision(*kit.client, dir.path);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->thing_name.size(), 40u);
  auto cert = crypto::load_certificate(dir.path / "device.crt");
  ASSERT_TRUE(cert);
  EXPECT_EQ(to_hex(*crypto::subject_key_identifier(cert->get())), report->thing_name);
  EXPECT_TRUE(fs::exists(dir.path / "device.csr"));
  auto info = read_kit_info(dir.path);
  EXPECT_EQ((*info)["thing_name"], report->thing_name);
  EXPECT_EQ((*info)["device_sn"], report->device_sn);

  auto slot8 = kit.device->read_slot(kMetadataSlot);
  auto metadata = decode_metadata(*slot8);
  ASSERT_TRUE(metadata);
  EXPECT_EQ(metadata->provision_flag, kAwsProvisioned);
  EXPECT_EQ(metadata->hostname, "abc-ats.iot.us-east-1.localhost");
  EXPECT_EQ(metadata->ssid, "lab");
  EXPECT_EQ(metadata->wifi_password, "correct horse battery");

  auto status = kit.client->call("getStatus");
  ASSERT_TRUE(status);
  auto unknown = kit.client->call("bogus");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("kit error 2: Unknown command"), std::string::npos);
}

// A station: one Provisioner, several kits. Each gets its own certificate for its own key; the
// files in the directory describe the last kit, and device.csr/device.crt are well-formed PEM.
TEST(Provision, StationProvisionsKitAfterKit) {
  TempDir dir;
  make_ca(dir.path);
  ASSERT_TRUE(set_wifi(dir.path, "lab", "correct horse battery"));
  set_endpoint(dir.path, "abc-ats.iot.us-east-1.localhost");
  auto station = Provisioner::load(dir.path);
  ASSERT_TRUE(station) << station.error().message;
  auto signer = pki::load_signer_ca(dir.path);
  ASSERT_TRUE(signer);
  std::set<std::string> things;
  for (int i = 0; i < 3; ++i) {
    KitOnSocket kit;
    auto report = station->provision(*kit.client);
    ASSERT_TRUE(report) << report.error().message;
    things.insert(report->thing_name);
    auto cert = crypto::load_certificate(dir.path / "device.crt");
    ASSERT_TRUE(cert) << cert.error().message;
    EXPECT_EQ(X509_verify(cert->get(), X509_get0_pubkey(signer->certificate.get())), 1);
    EXPECT_EQ(to_hex(*crypto::subject_key_identifier(cert->get())), report->thing_name);
    auto cert_key = crypto::certificate_public_key(cert->get());
    EXPECT_EQ(*crypto::public_key_raw(cert_key->get()), kit.public_key);
    auto csr = crypto::load_csr(dir.path / "device.csr");
    ASSERT_TRUE(csr) << csr.error().message;
    EXPECT_TRUE(crypto::verify_csr_signature(csr->get()));
    EXPECT_EQ((*read_kit_info(dir.path))["thing_name"], report->thing_name);
    auto slot8 = decode_metadata(*kit.device->read_slot(kMetadataSlot));
    ASSERT_TRUE(slot8);
    EXPECT_EQ(slot8->provision_flag, kAwsProvisioned);
  }
  EXPECT_EQ(things.size(), 3u);
}

TEST(Provision, RefusedBeforeRegisterAndWithoutWifi) {
  TempDir dir;
  make_ca(dir.path);
  KitOnSocket kit;
  ASSERT_TRUE(set_wifi(dir.path, "lab", "correct horse battery"));
  auto no_endpoint = provision(*kit.client, dir.path);
  ASSERT_FALSE(no_endpoint);
  EXPECT_EQ(no_endpoint.error().message,
            "endpointAddress not found in kit-info.json — run `ztp ca register` first");
  fs::remove(dir.path / kKitInfoFile);
  set_endpoint(dir.path, "abc-ats.iot.us-east-1.localhost");
  auto no_wifi = provision(*kit.client, dir.path);
  ASSERT_FALSE(no_wifi);
  EXPECT_NE(no_wifi.error().message.find("ztp kit set-wifi"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path / "device.crt"));
}

// Microchip's kit_set_wifi.py writes {"wifi_ssid", "wifi_password"} in clear. `ztp kit provision`
// reads that file as it is, says once that the password is in clear, and leaves the user's
// password entry untouched (it only adds device_sn and thing_name, as kit_provision.py does).
TEST(Provision, VendorKitInfoWithClearPassword) {
  TempDir dir;
  make_ca(dir.path);
  json vendor = {{"endpointAddress", "abc.iot.us-east-1.localhost"},
                 {"wifi_ssid", "lab"},
                 {"wifi_password", "correct horse battery"}};
  ASSERT_TRUE(write_file_atomic(dir.path / kKitInfoFile, vendor.dump(4), 0644));
  auto wifi = load_wifi(dir.path);
  ASSERT_TRUE(wifi) << wifi.error().message;
  EXPECT_TRUE(wifi->stored_in_clear);
  EXPECT_EQ(wifi->password, "correct horse battery");

  KitOnSocket kit;
  auto report = provision(*kit.client, dir.path);
  ASSERT_TRUE(report) << report.error().message;
  int notes = 0;
  for (const auto& line : report->lines) {
    if (line.find("stores the Wi-Fi password in clear") != std::string::npos) {
      ++notes;
      EXPECT_NE(line.find("ztp kit set-wifi --ssid lab"), std::string::npos) << line;
      EXPECT_EQ(line.find("correct horse"), std::string::npos) << "the note must not echo it";
    }
  }
  EXPECT_EQ(notes, 1);
  auto metadata = decode_metadata(*kit.device->read_slot(kMetadataSlot));
  ASSERT_TRUE(metadata);
  EXPECT_EQ(metadata->wifi_password, "correct horse battery");
  auto info = read_kit_info(dir.path);
  EXPECT_EQ((*info)["wifi_password"], "correct horse battery");
  EXPECT_FALSE(info->contains("wifi_password_encrypted"));
  EXPECT_FALSE(fs::exists(dir.path / kWifiKeyFile));
  EXPECT_EQ((*info)["thing_name"], report->thing_name);

  // `ztp kit set-wifi` on the same file seals the password and drops the clear entry.
  ASSERT_TRUE(set_wifi(dir.path, "lab", "correct horse battery"));
  EXPECT_EQ(read_text_file(dir.path / kKitInfoFile)->find("correct horse"), std::string::npos);
  EXPECT_FALSE(load_wifi(dir.path)->stored_in_clear);
}

// kit_set_wifi.py without --password stores "wifi_password": null: an open access point.
TEST(Provision, VendorKitInfoWithoutPasswordNamesTheGuideRule) {
  TempDir dir;
  json vendor = {{"wifi_ssid", "cafe"}, {"wifi_password", nullptr}};
  ASSERT_TRUE(write_file_atomic(dir.path / kKitInfoFile, vendor.dump(), 0600));
  auto wifi = load_wifi(dir.path);
  ASSERT_FALSE(wifi);
  EXPECT_NE(wifi.error().message.find("You will not be able to connect to an access point that "
                                      "has open access or enterprise security"),
            std::string::npos)
      << wifi.error().message;
  vendor["wifi_password"] = 12345678;
  ASSERT_TRUE(write_file_atomic(dir.path / kKitInfoFile, vendor.dump(), 0600));
  EXPECT_FALSE(load_wifi(dir.path));
}

TEST(Provision, RefusedWithoutTheCa) {
  TempDir dir;
  KitOnSocket kit;
  auto report = provision(*kit.client, dir.path);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("ztp ca create-root"), std::string::npos)
      << report.error().message;
}

}  // namespace
}  // namespace zt::kit
