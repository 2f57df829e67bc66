// bench/jitr: just-in-time registration end to end against a real `ztp cloud run` started here on
// 127.0.0.1 (ephemeral ports, state directory in a temp dir), with the factory PKI of `ztp ca`,
// the signer CA registered by `ztp ca register` (ACTIVE, auto-registration) and the JITR rule of
// `ztp cloud setup-jitr` → the built-in ZTLambdaJITR. Device certificates are issued in-process
// by the signer (pki::DeviceCertificateIssuer), a fresh one per registration.
//
// JITR latency of one device = from its first TCP connect (unknown certificate) to its first
// CONNACK accepted, the device reconnecting after each refusal either at once or after a short
// fixed interval (both printed). Registrations/s: many unknown devices doing the same
// concurrently. The anchor, measured in the same run: a mutual-TLS connect + CONNACK to Mosquitto
// 2.0 (Debian) started here with the same server certificate, the same client chains (device +
// signer) and the same load generator — the cost of the one connect a known device pays.
//
// A separate program from bench/broker: it needs the whole cloud (API, registry, rules, JITR
// function) rather than `ztp broker run`, a PKI made by `ztp ca`, and fresh certificates per
// sample; bench/broker measures the broker alone.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "bench_process.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "mqtt_load.hpp"
#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"

namespace fs = std::filesystem;
using namespace zt;
using namespace zt::bench;

namespace {

constexpr size_t kLoadThreads = 2;
constexpr size_t kConcurrentDevices = 8;
const auto kRetryInterval = std::chrono::milliseconds(10);
const auto kPerDeviceLimit = std::chrono::seconds(10);

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "bench_jitr: {}\n", what);
  std::exit(1);
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One device: its client id (thing name = hex SKI, as the JITR function names it) and TLS context
// with its certificate + the signer's (the chain a kit sends) and key.
struct Device {
  std::string client_id;
  std::unique_ptr<asio::ssl::context> tls;
};

std::vector<Device> issue_devices(const pki::DeviceCertificateIssuer& issuer,
                                  const std::string& signer_pem, const fs::path& server_ca,
                                  size_t count) {
  std::vector<Device> devices;
  auto subject = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  if (!subject) die(subject.error().message);
  for (size_t i = 0; i < count; ++i) {
    auto key = crypto::generate_p256_key();
    if (!key) die(key.error().message);
    crypto::CsrFields fields{.subject = subject->get(), .extensions = {}};
    auto csr = crypto::build_csr(fields, key->get());
    if (!csr) die(csr.error().message);
    auto certificate = issuer.issue(csr->get(), unix_now());
    if (!certificate) die(certificate.error().message);
    auto ski = crypto::subject_key_identifier(certificate->get());
    auto pem = crypto::certificate_to_pem(certificate->get());
    auto key_pem = crypto::private_key_to_pem(key->get());
    if (!ski || !pem || !key_pem) die("device certificate output");
    std::string chain = *pem + signer_pem;
    auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    tls->load_verify_file(server_ca.string());
    tls->use_certificate_chain(asio::buffer(chain));
    tls->use_private_key(asio::buffer(*key_pem), asio::ssl::context::pem);
    tls->set_verify_mode(asio::ssl::verify_peer);
    devices.push_back({to_hex(*ski), std::move(tls)});
  }
  return devices;
}

// One connect attempt: true when a CONNACK accepted it (then DISCONNECT).
asio::awaitable<bool> attempt(asio::io_context& context, Device& device, uint16_t port) {
  LoadClient client(context, *device.tls);
  bool accepted = false;
  try {
    co_await client.connect(port, device.client_id);
    co_await client.send(zt::mqtt::Disconnect{});
    accepted = true;
  } catch (const std::exception&) {
  }
  client.close();
  co_return accepted;
}

struct Sample {
  double ms = 0;
  size_t attempts = 0;
  bool done = false;
};

// Connects until accepted (or kPerDeviceLimit): the JITR path for an unknown device, one connect
// for a known one. `retry_after` = 0: reconnect at once.
asio::awaitable<Sample> until_connected(asio::io_context& context, Device& device, uint16_t port,
                                        std::chrono::milliseconds retry_after) {
  Sample sample;
  auto start = Clock::now();
  asio::steady_timer timer(context);
  while (Clock::now() - start < kPerDeviceLimit) {
    ++sample.attempts;
    if (co_await attempt(context, device, port)) {
      sample.done = true;
      break;
    }
    if (retry_after.count() > 0) {
      timer.expires_after(retry_after);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }
  sample.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  co_return sample;
}

// Runs coroutines made by `make(context, index)` for indices [0, count) on `workers` concurrent
// lanes over kLoadThreads threads. Returns the samples and the wall time in seconds.
template <class Make>
std::pair<std::vector<Sample>, double> run_devices(size_t count, size_t workers, Make make) {
  asio::io_context context;
  std::vector<Sample> samples(count);
  std::atomic<size_t> next{0};
  auto start = Clock::now();
  for (size_t w = 0; w < workers; ++w) {
    asio::co_spawn(
        context,
        [&]() -> asio::awaitable<void> {
          for (size_t i = next++; i < count; i = next++) samples[i] = co_await make(context, i);
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (size_t t = 0; t < (workers > 1 ? kLoadThreads : 1); ++t)
    threads.emplace_back([&] { context.run(); });
  for (auto& thread : threads) thread.join();
  return {std::move(samples), std::chrono::duration<double>(Clock::now() - start).count()};
}

struct Summary {
  double p50 = 0, p99 = 0, mean_attempts = 0, per_second = 0;
  size_t failed = 0;
};

Summary summarize(const std::vector<Sample>& samples, double seconds) {
  Summary s;
  std::vector<double> ms;
  size_t attempts = 0;
  for (const auto& sample : samples) {
    if (!sample.done) {
      ++s.failed;
      continue;
    }
    ms.push_back(sample.ms);
    attempts += sample.attempts;
  }
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.mean_attempts = static_cast<double>(attempts) / static_cast<double>(ms.size());
  s.per_second = static_cast<double>(ms.size()) / seconds;
  return s;
}

// Sequential latency (one device at a time) and concurrent rate over `devices`.
Summary latency(std::vector<Device>& devices, uint16_t port, std::chrono::milliseconds retry) {
  auto [samples, seconds] =
      run_devices(devices.size(), 1, [&](asio::io_context& context, size_t i) {
        return until_connected(context, devices[i], port, retry);
      });
  return summarize(samples, seconds);
}
Summary rate(std::vector<Device>& devices, uint16_t port) {
  auto [samples, seconds] =
      run_devices(devices.size(), kConcurrentDevices, [&](asio::io_context& context, size_t i) {
        return until_connected(context, devices[i], port, std::chrono::milliseconds(0));
      });
  return summarize(samples, seconds);
}

void run_or_die(const std::string& command) {
  if (std::system(command.c_str()) != 0) die("failed: " + command);
}

ChildProcess start_cloud(const fs::path& ztp, const fs::path& dir) {
  ChildProcess cloud{.name = "zerotouch"};
  // BENCH_LOG=info|debug: the cloud's log level (its stderr is kept with BENCH_KEEP=1).
  std::string level = getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "warn";
  cloud.pid = spawn({ztp.string(), "--log-level", level, "cloud", "run", "--state-dir",
                     (dir / "state").string(), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0"},
                    (dir / "cloud.out").string(), (dir / "cloud.err").string());
  std::string out;
  for (int i = 0; i < 500 && out.find("listening mqtts=") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out = read_all(dir / "cloud.out");
  }
  auto port_after = [&](const std::string& key) -> uint16_t {
    auto at = out.find(key);
    if (at == std::string::npos)
      die("ztp cloud run did not start: " + out + read_all(dir / "cloud.err"));
    auto line = out.substr(at, out.find('\n', at) - at);
    return static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  };
  uint16_t http = port_after("listening http=");
  cloud.port = port_after("listening mqtts=");
  // The signer CA registered as the seed does (ACTIVE, auto-registration) and the JITR rule.
  std::string env =
      fmt::format("AWS_SHARED_CREDENTIALS_FILE={0}/credentials AWS_CONFIG_FILE={0}/config",
                  (dir / "state").string());
  run_or_die(fmt::format("{} {} ca register --dir {} --endpoint-url http://127.0.0.1:{} >{}", env,
                         ztp.string(), (dir / "pki").string(), http,
                         (dir / "register.out").string()));
  run_or_die(fmt::format("{} cloud setup-jitr --state-dir {} >/dev/null", ztp.string(),
                         (dir / "state").string()));
  return cloud;
}

ChildProcess start_mosquitto(const fs::path& dir) {
  ChildProcess server{.name = "mosquitto", .port = free_port()};
  // Same server certificate and key as the cloud's endpoint; clients verified to the root through
  // the signer they send (Mosquitto has no partial-chain anchors, so the root is the anchor).
  // TCP_NODELAY as our broker sets it: without it Mosquitto's CONNACK waits on delayed ACKs
  // (~40 ms per connect), which would flatter our ratio.
  std::ofstream(dir / "anchors.crt")
      << read_all(dir / "pki/root-ca.crt") << read_all(dir / "pki/signer-ca.crt");
  std::ofstream(dir / "mosquitto.conf") << fmt::format(
      "per_listener_settings false\nallow_anonymous true\npersistence false\nlog_dest none\n"
      "set_tcp_nodelay true\n{}"
      "listener {} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
      geteuid() == 0 ? "user root\n" : "", server.port, (dir / "anchors.crt").string(),
      (dir / "state/server.crt").string(), (dir / "state/server.key").string());
  server.pid = spawn({"mosquitto", "-c", (dir / "mosquitto.conf").string()});
  for (int i = 0; i < 200 && !port_open(server.port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return server;
}

void note_failures(const char* what, const Summary& s) {
  if (s.failed) fmt::print("  ({}: {} devices never got a CONNACK)\n", what, s.failed);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::stoul(argv[1]) : 200;  // devices per latency figure
  signal(SIGPIPE, SIG_IGN);
  fs::path self = fs::canonical("/proc/self/exe");
  fs::path ztp = getenv("ZTP") ? fs::path(getenv("ZTP")) : self.parent_path() / "ztp";
  fs::path dir = fs::temp_directory_path() / fmt::format("zt-bench-jitr-{}", getpid());
  fs::create_directories(dir / "pki");
  for (const char* step : {"create-root", "create-signer-csr", "create-signer"})
    run_or_die(
        fmt::format("{} ca {} --dir {} >/dev/null", ztp.string(), step, (dir / "pki").string()));
  auto signer = pki::load_signer_ca(dir / "pki");
  if (!signer) die(signer.error().message);
  auto issuer = pki::DeviceCertificateIssuer::create(signer->certificate.get(), signer->key.get());
  if (!issuer) die(issuer.error().message);
  std::string signer_pem = read_all(dir / "pki/signer-ca.crt");

  ChildProcess cloud = start_cloud(ztp, dir);
  fs::path server_ca = dir / "state/server-ca.crt";
  auto immediate_devices = issue_devices(*issuer, signer_pem, server_ca, n);
  auto interval_devices = issue_devices(*issuer, signer_pem, server_ca, n);
  auto rate_devices = issue_devices(*issuer, signer_pem, server_ca, 2 * n);

  Summary immediate = latency(immediate_devices, cloud.port, std::chrono::milliseconds(0));
  Summary interval = latency(interval_devices, cloud.port, kRetryInterval);
  Summary registrations = rate(rate_devices, cloud.port);
  // The same devices again, now registered: our plain connect, for the breakdown.
  Summary known = latency(immediate_devices, cloud.port, std::chrono::milliseconds(0));
  Summary known_rate = rate(rate_devices, cloud.port);
  stop(cloud);

  ChildProcess mosquitto = start_mosquitto(dir);
  Summary anchor = latency(immediate_devices, mosquitto.port, std::chrono::milliseconds(0));
  Summary anchor_rate = rate(rate_devices, mosquitto.port);
  stop(mosquitto);

  std::string log = read_all(dir / "cloud.err");
  if (!getenv("BENCH_KEEP")) fs::remove_all(dir);

  note_failures("JITR, immediate retry", immediate);
  note_failures("JITR, fixed retry interval", interval);
  note_failures("JITR registrations", registrations);
  note_failures("known devices", known);
  note_failures("mosquitto", anchor);
  fmt::print(
      "bench_jitr: ztp cloud run on 127.0.0.1, mutual TLS (device + signer chain), {} devices per "
      "latency figure (one at a time), {} concurrent for rates, {} cores\n",
      n, kConcurrentDevices, std::thread::hardware_concurrency());
  fmt::print("{:<52} {:>9} {:>9} {:>9}\n", "metric", "p50 ms", "p99 ms", "attempts");
  auto row = [](const std::string& name, const Summary& s) {
    fmt::print("{:<52} {:>9.2f} {:>9.2f} {:>9.2f}\n", name, s.p50, s.p99, s.mean_attempts);
  };
  row("JITR first connect -> CONNACK, immediate retry", immediate);
  row(fmt::format("JITR first connect -> CONNACK, retry after {} ms", kRetryInterval.count()),
      interval);
  row("ours: connect+CONNACK of a registered device", known);
  row("anchor: mosquitto mTLS connect+CONNACK", anchor);
  fmt::print(
      "JITR p50 / mosquitto connect p50: immediate {:.2f}x, interval {:.2f}x (target: JITR "
      "p50 < 20 ms: {})\n",
      immediate.p50 / anchor.p50, interval.p50 / anchor.p50,
      immediate.p50 < 20 ? "met" : "NOT met");
  fmt::print("{:<52} {:>9} {:>9} {:>9}\n", "rate (8 concurrent devices)", "ours /s", "anchor /s",
             "ratio");
  fmt::print("{:<52} {:>9.0f} {:>9.0f} {:>9.2f}\n",
             "JITR registrations/s vs mosquitto mTLS connects/s", registrations.per_second,
             anchor_rate.per_second, registrations.per_second / anchor_rate.per_second);
  fmt::print("{:<52} {:>9.0f} {:>9.0f} {:>9.2f}\n", "registered-device connects/s vs mosquitto",
             known_rate.per_second, anchor_rate.per_second,
             known_rate.per_second / anchor_rate.per_second);
  if (log.find("error") != std::string::npos || log.find("failed") != std::string::npos)
    fmt::print("(cloud log has errors: BENCH_KEEP=1 keeps {})\n", dir.string());
  return 0;
}
