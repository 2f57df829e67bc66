// Kits provisioned per second through the whole PC ↔ kit path: the PC tool (kit_provision's steps:
// init, load the CA files and kit-info.json, genCsr, CSR check, device certificate issuance,
// device.csr/device.crt written, saveCredentials, setWifi) talking 64-byte reports over a
// SOCK_SEQPACKET socket pair to a kit thread running the firmware's handler on an emulated
// ATECC508A (CSR signed by the chip, certificates compressed into slots 10/12/14/15). Measured as a
// station (kit::Provisioner: CA files loaded once) and as one `ztp kit provision` per kit.
// Anchor, same run: the PKI floor of one kit done in software alone — generate a P-256 key,
// build and sign its CSR, issue the device certificate (OpenSSL). Ratio = ours / anchor.
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "crypto/key.hpp"
#include "crypto/x509_builder.hpp"
#include "kit/emulated_kit.hpp"
#include "kit/host_link.hpp"
#include "kit/pc_tools.hpp"
#include "kit/provisioning_handler.hpp"
#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/transport.hpp"
#include "secure_element/zones.hpp"

namespace {

using namespace zt;
using Clock = std::chrono::steady_clock;

void die(const std::string& what, const Error& error) {
  fmt::print(stderr, "{}: {}\n", what, error.message);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int kits = argc > 1 ? std::atoi(argv[1]) : 40;
  auto dir =
      std::filesystem::temp_directory_path() / fmt::format("zt-bench-provision-{}", ::getpid());
  std::filesystem::create_directories(dir);
  pki::CaOptions ca;
  ca.dir = dir;
  if (auto r = pki::ca_create_root(ca); !r) die("create-root", r.error());
  if (auto r = pki::ca_create_signer_csr(ca); !r) die("create-signer-csr", r.error());
  if (auto r = pki::ca_create_signer(ca); !r) die("create-signer", r.error());
  if (auto r = kit::set_wifi(dir, "bench-ap", "bench-password"); !r) die("set-wifi", r.error());
  auto info = kit::read_kit_info(dir);
  (*info)["endpointAddress"] = "bench-ats.iot.us-east-1.localhost";
  std::ofstream(dir / kit::kKitInfoFile) << info->dump(4);

  // Factory-fresh chips (configured, key in slot 0) are made before the clock starts.
  std::vector<std::shared_ptr<se::Device>> chips;
  for (int i = 0; i < 2 * kits; ++i) {
    auto emulator = std::make_shared<se::Emulator>(se::blank_chip());
    auto device = std::make_shared<se::Device>(std::make_unique<se::InProcessTransport>(emulator));
    if (auto r = se::provision(*device); !r) die("configure chip", r.error());
    chips.push_back(device);
  }

  // One kit over a fresh socket pair to a kit thread; `provision_one` is the PC side.
  auto run_kit =
      [&](const std::shared_ptr<se::Device>& device,
          const std::function<Result<kit::ProvisionReport>(kit::KitClient&)>& provision_one) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) std::exit(1);
        kit::ProvisioningHandler handler(device);
        std::atomic<bool> stop{false};
        std::thread kit_thread(
            [&] { kit::serve_kit_connection(fds[1], handler, stop, [](const std::string&) {}); });
        {
          kit::KitClient client(kit::kit_link_from_socket(fds[0], "socketpair"));
          auto report = provision_one(client);
          if (!report) die("provision", report.error());
        }  // the host closes its end: the kit thread returns
        kit_thread.join();
        ::close(fds[1]);
      };

  // A station: the CA files, endpoint and Wi-Fi loaded once, then kit after kit.
  auto start = Clock::now();
  auto provisioner = kit::Provisioner::load(dir);
  if (!provisioner) die("load", provisioner.error());
  for (int i = 0; i < kits; ++i) {
    run_kit(chips[static_cast<size_t>(i)],
            [&](kit::KitClient& client) { return provisioner->provision(client); });
  }
  std::chrono::duration<double> ours_elapsed = Clock::now() - start;
  double ours = kits / ours_elapsed.count();
  // `ztp kit provision` run per kit: everything loaded again each time.
  start = Clock::now();
  for (int i = kits; i < 2 * kits; ++i) {
    run_kit(chips[static_cast<size_t>(i)],
            [&](kit::KitClient& client) { return kit::provision(client, dir); });
  }
  std::chrono::duration<double> one_shot_elapsed = Clock::now() - start;
  double one_shot = kits / one_shot_elapsed.count();

  auto signer = pki::load_signer_ca(dir);
  auto issuer = pki::DeviceCertificateIssuer::create(signer->certificate.get(), signer->key.get());
  auto subject = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  int anchor_kits = kits * 5;
  start = Clock::now();
  for (int i = 0; i < anchor_kits; ++i) {
    auto key = crypto::generate_p256_key();
    crypto::CsrFields fields{.subject = subject->get(), .extensions = {}};
    auto csr = crypto::build_csr(fields, key->get());
    auto cert = issuer->issue(csr->get(), 1795617441);
    if (!cert) die("anchor issue", cert.error());
  }
  std::chrono::duration<double> anchor_elapsed = Clock::now() - start;
  double anchor = anchor_kits / anchor_elapsed.count();
  std::filesystem::remove_all(dir);

  fmt::print(
      "provision: {} kits through the PC <-> kit protocol path (station, CA loaded once): "
      "{:.1f} kits/s\n",
      kits, ours);
  fmt::print("provision, one-shot per kit (as `ztp kit provision`): {:.1f} kits/s\n", one_shot);
  fmt::print("anchor (OpenSSL key + CSR + device certificate, no SE, no protocol): {:.1f} kits/s\n",
             anchor);
  fmt::print("ratio ours/anchor: {:.3f}\n", ours / anchor);
  return 0;
}
