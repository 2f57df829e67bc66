// What bench/jitr and bench/provisioning share: devices as TLS client contexts, one connect
// attempt, "connect until a CONNACK accepts" (a device's first connect → its first accepted
// CONNACK), sequential latency and concurrent rate over a set of devices, p50/p99, and Mosquitto
// as the mutual-TLS anchor. A header beside the programs (each bench is one program).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench_process.hpp"
#include "mqtt_load.hpp"

namespace zt::bench {

namespace fs = std::filesystem;

constexpr size_t kLoadThreads = 2;
constexpr size_t kConcurrentDevices = 8;
const auto kRetryInterval = std::chrono::milliseconds(10);
const auto kPerDeviceLimit = std::chrono::seconds(10);

// The program's name for its error messages ("bench_jitr").
inline const char* bench_name = "bench";
[[noreturn]] inline void die(const std::string& what) {
  fmt::print(stderr, "{}: {}\n", bench_name, what);
  std::exit(1);
}

inline std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One device: its client id and TLS context with its certificate chain and key; server_name:
// the SNI it sends ("" for none).
struct Device {
  std::string client_id;
  std::unique_ptr<asio::ssl::context> tls;
  std::string server_name{};
};

// One connect attempt: true when a CONNACK accepted it (then DISCONNECT).
inline asio::awaitable<bool> attempt(asio::io_context& context, Device& device, uint16_t port) {
  LoadClient client(context, *device.tls);
  client.set_server_name(device.server_name);
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
inline asio::awaitable<Sample> until_connected(asio::io_context& context, Device& device,
                                               uint16_t port,
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
  size_t failed = 0, done = 0;
  double server_cpu_ms = 0;  // the server's CPU per accepted device (with_cpu)
  double client_cpu_ms = 0;  // this process's (the load generator's) CPU per accepted device
};

inline Summary summarize(const std::vector<Sample>& samples, double seconds) {
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
  s.done = ms.size();
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
inline Summary latency(std::vector<Device>& devices, uint16_t port,
                       std::chrono::milliseconds retry) {
  auto [samples, seconds] =
      run_devices(devices.size(), 1, [&](asio::io_context& context, size_t i) {
        return until_connected(context, devices[i], port, retry);
      });
  return summarize(samples, seconds);
}
inline Summary rate(std::vector<Device>& devices, uint16_t port) {
  auto [samples, seconds] =
      run_devices(devices.size(), kConcurrentDevices, [&](asio::io_context& context, size_t i) {
        return until_connected(context, devices[i], port, std::chrono::milliseconds(0));
      });
  return summarize(samples, seconds);
}

// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks): a
// server's CPU per operation is steadier than wall-clock rates on a shared machine.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat(std::istreambuf_iterator<char>(in), {});
  auto end_of_name = stat.rfind(')');  // the command name may hold spaces
  if (end_of_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(end_of_name + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state; 14 utime, 15 stime
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// `measure()` and the CPU milliseconds `pid` spent per accepted device meanwhile, and this
// process's (the load generator shares the machine's cores with the server).
template <class Measure>
Summary with_cpu(pid_t pid, Measure measure) {
  double before = cpu_seconds(pid);
  double self_before = cpu_seconds(getpid());
  Summary summary = measure();
  double used = cpu_seconds(pid) - before;
  double self_used = cpu_seconds(getpid()) - self_before;
  size_t done = summary.per_second > 0 ? summary.done : 0;
  summary.server_cpu_ms = done ? 1000 * used / static_cast<double>(done) : 0;
  summary.client_cpu_ms = done ? 1000 * self_used / static_cast<double>(done) : 0;
  return summary;
}

inline void run_or_die(const std::string& command) {
  if (std::system(command.c_str()) != 0) die("failed: " + command);
}

// Mosquitto with the cloud's server certificate and `anchors` (PEM) as its client CA file; its
// configuration is printed by the caller (mosquitto_config).
inline std::string mosquitto_config(const fs::path& dir, uint16_t port) {
  return fmt::format(
      "per_listener_settings false\nallow_anonymous true\npersistence false\nlog_dest none\n"
      "set_tcp_nodelay true\n{}"
      "listener {} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
      geteuid() == 0 ? "user root\n" : "", port, (dir / "anchors.crt").string(),
      (dir / "state/server.crt").string(), (dir / "state/server.key").string());
}
// `extra`: more mosquitto.conf lines (bench_scale: max_connections -1).
inline ChildProcess start_mosquitto(const fs::path& dir, const std::string& anchors,
                                    const std::string& extra = {}) {
  ChildProcess server{.name = "mosquitto", .port = free_port()};
  // Same server certificate and key as the cloud's endpoint; clients verified to the root through
  // the signer they send (Mosquitto has no partial-chain anchors, so the root is the anchor).
  // TCP_NODELAY as our broker sets it: without it Mosquitto's CONNACK waits on delayed ACKs
  // (~40 ms per connect), which would flatter our ratio.
  std::ofstream(dir / "anchors.crt") << anchors;
  std::ofstream(dir / "mosquitto.conf") << mosquitto_config(dir, server.port) << extra;
  server.pid = spawn({"mosquitto", "-c", (dir / "mosquitto.conf").string()});
  for (int i = 0; i < 200 && !port_open(server.port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return server;
}

inline void note_failures(const char* what, const Summary& s) {
  if (s.failed) fmt::print("  ({}: {} devices never got a CONNACK)\n", what, s.failed);
}

// `ztp cloud run` on 127.0.0.1 with ephemeral ports and its state in <dir>/state, started and
// waited for until it listens (BENCH_LOG=info|debug: its log level; its stderr is <dir>/cloud.err).
// process.port is the MQTT port. `extra`: more `cloud run` options (bench_scale: connection caps).
struct LocalCloud {
  ChildProcess process;
  uint16_t http = 0;
};

// `log_level` "" = BENCH_LOG or warn; `extra` = more `ztp cloud run` options.
inline LocalCloud start_local_cloud(const fs::path& ztp, const fs::path& dir,
                                    const std::vector<std::string>& extra = {},
                                    std::string log_level = {}) {
  LocalCloud cloud{.process = {.name = "zerotouch"}};
  std::string level =
      !log_level.empty() ? log_level : (getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "warn");
  std::vector<std::string> argv{ztp.string(),
                                "--log-level",
                                level,
                                "cloud",
                                "run",
                                "--state-dir",
                                (dir / "state").string(),
                                "--http",
                                "127.0.0.1:0",
                                "--mqtt",
                                "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  cloud.process.pid = spawn(argv, (dir / "cloud.out").string(), (dir / "cloud.err").string());
  std::string out;
  for (int i = 0; i < 1000 && out.find("listening mqtts=") == std::string::npos; ++i) {
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
  cloud.http = port_after("listening http=");
  cloud.process.port = port_after("listening mqtts=");
  return cloud;
}

}  // namespace zt::bench
