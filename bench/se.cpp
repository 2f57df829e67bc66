// Secure element throughput: commands per second for Sign (Nonce + Sign external), GenKey and ECDH,
// through the in-process transport and through the Unix-socket transport (a SocketServer thread
// in this process, state persisted to a file as `ztp se serve` does). Anchor: the same operation
// straight on OpenSSL (sign a digest with an EVP_PKEY, generate a P-256 key, parse the peer's raw
// X||Y and derive an ECDH secret), measured in the same run; ratio = ours / OpenSSL.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "secure_element/device.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/state_file.hpp"
#include "secure_element/unix_socket.hpp"

namespace {

using namespace zt;
using namespace zt::se;

double rate(int iterations, const std::function<bool()>& operation) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    if (!operation()) {
      fmt::print(stderr, "operation failed\n");
      std::exit(1);
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return iterations / elapsed.count();
}

void report(const char* what, const char* transport, double ours, double anchor) {
  fmt::print("{:<8} {:<12} {:>9.0f} cmd/s   OpenSSL {:>9.0f} op/s   ratio {:.2f}\n", what,
             transport, ours, anchor, ours / anchor);
}

}  // namespace

int main() {
  const auto dir =
      std::filesystem::temp_directory_path() / ("zt-bench-se-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto digest = crypto::sha256(as_bytes("benchmark"));
  auto peer = crypto::generate_p256_key().value();
  const auto peer_public = crypto::public_key_raw(peer.get()).value();

  // Anchors.
  auto key = crypto::generate_p256_key().value();
  const double openssl_sign =
      rate(3000, [&] { return crypto::ecdsa_sign_digest_raw(key.get(), digest).has_value(); });
  const double openssl_genkey = rate(1000, [&] { return crypto::generate_p256_key().has_value(); });
  // The chip receives the peer's key as raw X||Y on every ECDH, so the anchor parses it too.
  const double openssl_ecdh = rate(3000, [&] {
    auto parsed = crypto::public_key_from_raw(peer_public);
    return parsed && crypto::ecdh_shared_secret(key.get(), parsed->get()).has_value();
  });

  auto run_suite = [&](Device& device, const char* transport, int genkey_iterations) {
    report("Sign", transport, rate(3000, [&] { return device.sign_digest(0, digest).has_value(); }),
           openssl_sign);
    report("GenKey", transport,
           rate(genkey_iterations, [&] { return device.genkey(2).has_value(); }), openssl_genkey);
    report("ECDH", transport, rate(3000, [&] { return device.ecdh(2, peer_public).has_value(); }),
           openssl_ecdh);
  };

  // In-process, memory only (no state file): the emulator's own cost.
  {
    auto emulator = std::make_shared<Emulator>(blank_chip());
    Device device(std::make_unique<InProcessTransport>(emulator));
    if (!provision(device)) return 1;
    run_suite(device, "in-process", 1000);
  }
  // In-process with the state file: GenKey changes non-volatile memory, so every call is an
  // atomic file replace with fsync.
  {
    const auto path = dir / "inprocess.json";
    auto emulator =
        std::make_shared<Emulator>(load_or_create_state(path).value(),
                                   [path](const ChipState& s) { return save_state(path, s); });
    Device device(std::make_unique<InProcessTransport>(emulator));
    if (!provision(device)) return 1;
    report("GenKey", "in-proc+file", rate(200, [&] { return device.genkey(2).has_value(); }),
           openssl_genkey);
  }
  // Unix socket to a server thread with a state file, as `ztp se serve`.
  {
    const auto path = dir / "socket.json";
    auto emulator =
        std::make_shared<Emulator>(load_or_create_state(path).value(),
                                   [path](const ChipState& s) { return save_state(path, s); });
    auto server = SocketServer::listen(emulator, dir / "se.sock").value();
    std::atomic<bool> stop{false};
    std::thread serving([&] { (void)server->run(stop); });
    {
      Device device(UnixSocketTransport::connect(dir / "se.sock").value());
      if (!provision(device)) return 1;
      run_suite(device, "unix-socket", 200);
    }
    stop = true;
    serving.join();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
