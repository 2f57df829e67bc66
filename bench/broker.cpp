// bench/broker: our broker (`ztp broker run`) against Mosquitto 2.0 (Debian), both started here on
// 127.0.0.1 with the same mutual-TLS setup (same server certificate, client certificate required,
// same root anchor, clients send device + intermediate). Same load generator for both, speaking
// MQTT 3.1.1 and, for the MQTT 5 rows, MQTT 5 (topic aliases on the fan-in). Prints ours,
// Mosquitto's and the ratio. Bounded: every scenario has a deadline.
#include <fmt/format.h>
// The ENGINE API is deprecated in OpenSSL 3.0 and is the only switch to its legacy key decoding
// (use_legacy_ec_key_decoding below).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/engine.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "bench_process.hpp"
#include "mqtt_load.hpp"

namespace fs = std::filesystem;
using namespace zt::bench;

namespace {

constexpr size_t kLoadThreads = 2;
constexpr size_t kPayloadBytes = 64;
// Per-subscriber queue limit, the same on both brokers and large enough that fan-in at full speed
// loses nothing (with the default 1000 both drop once publishers outrun the subscriber).
constexpr size_t kMaxQueued = 100000;

struct Server {
  std::string name;
  pid_t pid = -1;
  uint16_t port = 0;
};

pid_t spawn(const std::vector<std::string>& argv, int stdout_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the benchmark
    if (stdout_fd >= 0) dup2(stdout_fd, 1);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void stop(Server& server) {
  if (server.pid <= 0) return;
  kill(server.pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(server.pid, nullptr, WNOHANG) == server.pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(server.pid, SIGKILL);
  waitpid(server.pid, nullptr, 0);
}

Server start_ours(const fs::path& ztp, const fs::path& pki) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  Server server{.name = "zerotouch"};
  server.pid = spawn({ztp.string(), "broker", "run", "--cert", (pki / "server.crt").string(),
                      "--key", (pki / "server.key").string(), "--ca", (pki / "root.crt").string(),
                      "--listen", "127.0.0.1:0", "--max-queued", std::to_string(kMaxQueued),
                      // Mosquitto has no per-connection publish quota; AWS's 100/s would make
                      // this a benchmark of the quota.
                      "--no-rate-limits"},
                     fds[1]);
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  auto colon = line.rfind(':');
  if (line.rfind("listening mqtts=", 0) != 0 || colon == std::string::npos)
    throw std::runtime_error("ztp did not start: " + line);
  server.port = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  return server;
}

// The anchor as its users tune it for this job: the same limits as ours where Mosquitto has them
// (100 in flight, kMaxQueued queued per client) and set_tcp_nodelay, without which every small
// packet (CONNACK, PUBACK) waits on Nagle and delayed ACKs (mosquitto.conf(5)). Printed by main().
std::string mosquitto_settings() {
  return fmt::format(
      "per_listener_settings false\nallow_anonymous true\npersistence false\nlog_dest none\n"
      "set_tcp_nodelay true\nmax_inflight_messages 100\nmax_queued_messages {}\n",
      kMaxQueued);
}

Server start_mosquitto(const fs::path& dir, const fs::path& pki) {
  Server server{.name = "mosquitto", .port = free_port()};
  std::ofstream(dir / "mosquitto.conf")
      << mosquitto_settings()
      << fmt::format(
             "{}listener {} 127.0.0.1\ncafile {}\ncertfile {}\n"
             "keyfile {}\nrequire_certificate true\n",
             geteuid() == 0 ? "user root\n" : "", server.port, (pki / "root.crt").string(),
             (pki / "server.crt").string(), (pki / "server.key").string());
  server.pid = spawn({"mosquitto", "-c", (dir / "mosquitto.conf").string()}, -1);
  for (int i = 0; i < 200 && !port_open(server.port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return server;
}

// OpenSSL 3.0 parses the public key of every certificate it receives (d2i_X509: the server's
// certificate in each handshake) through an OSSL_DECODER context it builds anew each time, ~1.3 M
// instructions per certificate: a fifth of the load generator's CPU per connect against ours, two
// fifths against Mosquitto (2 certificates). X509_PUBKEY's decoding takes OpenSSL's legacy EC
// decoder instead when an ENGINE is registered for EC keys (crypto/x509/x_pubkey.c,
// x509_pubkey_decode); this one hands back OpenSSL's own built-in EC method, so the signatures of
// the server's certificate and CertificateVerify are checked by the same ECDSA code, only the key
// is no longer decoded through a decoder context. The ENGINE takes every EC EVP_PKEY_CTX the
// process creates, provider keys' too (crypto/evp/pmeth_lib.c, int_ctx_new looks it up by key
// type): their operations then run through the legacy method on an exported copy of the key, and
// provider-only calls fail (X509_sign's AlgorithmIdentifier query, EVP_PKEY_fromdata: "command not
// supported"). A process that only makes TLS handshakes, like this load generator once its PKI is
// made, is unaffected; ztp, which signs certificates and builds keys, does not do this
// (docs/benchmarks.md). Only the load generator does this; both brokers run Debian's OpenSSL
// unchanged.
void use_legacy_ec_key_decoding() {
  static ENGINE* engine = [] {
    static const int kNids[] = {EVP_PKEY_EC};
    ENGINE* e = ENGINE_new();
    auto methods = [](ENGINE*, EVP_PKEY_METHOD** method, const int** nids, int nid) -> int {
      if (method == nullptr) {
        *nids = kNids;
        return 1;
      }
      *method =
          nid == EVP_PKEY_EC ? const_cast<EVP_PKEY_METHOD*>(EVP_PKEY_meth_find(nid)) : nullptr;
      return *method != nullptr;
    };
    if (e == nullptr || ENGINE_set_id(e, "zt-bench-ec") != 1 ||
        ENGINE_set_name(e, "built-in EC key method, for the load generator") != 1 ||
        ENGINE_set_pkey_meths(e, methods) != 1 || ENGINE_set_default_pkey_meths(e) != 1)
      throw std::runtime_error("registering the EC engine failed");
    return e;
  }();
  (void)engine;
}

asio::ssl::context client_tls(const fs::path& pki) {
  use_legacy_ec_key_decoding();
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file((pki / "root.crt").string());
  tls.use_certificate_chain_file((pki / "device-chain.crt").string());
  tls.use_private_key_file((pki / "device.key").string(), asio::ssl::context::pem);
  tls.set_verify_mode(asio::ssl::verify_peer);
  return tls;
}

// Runs `body` on a fresh io_context with kLoadThreads threads, for at most `limit`.
template <class Body>
void run_load(asio::io_context& context, std::chrono::seconds limit, Body&& body) {
  body(context);
  // run() until the work is done; a guard thread stops it at the limit (io_context::run_for polls
  // in a way that adds latency with several threads).
  std::atomic<bool> done{false};
  std::thread guard([&] {
    auto end = Clock::now() + limit;
    while (!done && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    context.stop();
  });
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kLoadThreads; ++i) threads.emplace_back([&] { context.run(); });
  for (auto& thread : threads) thread.join();
  done = true;
  guard.join();
}

using zt::mqtt::kProtocolLevel311;
using zt::mqtt::kProtocolLevel5;

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat (proc(5): fields 14, 15).
double cpu_seconds(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds this process (the load generator, all its threads) has used.
double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct ConnectFigures {
  double per_second = 0;
  double server_us = 0;  // broker CPU per connect
  double load_us = 0;    // load generator CPU per connect
};

ConnectFigures connects_per_second(const Server& server, asio::ssl::context& tls,
                                   uint8_t level = kProtocolLevel311) {
  // Clients connecting at once (each connects, says CONNECT/DISCONNECT, and starts again);
  // BENCH_CONNECT_CLIENTS overrides the 8.
  const size_t kWorkers =
      getenv("BENCH_CONNECT_CLIENTS") ? std::stoul(getenv("BENCH_CONNECT_CLIENTS")) : 8;
  const auto duration = std::chrono::seconds(3);
  std::atomic<size_t> done{0};
  std::atomic<size_t> failed{0};
  double server_cpu = cpu_seconds(server.pid), load_cpu = own_cpu_seconds();
  auto start = Clock::now();
  auto end = start + duration;
  asio::io_context load;
  run_load(load, duration + std::chrono::seconds(5), [&](asio::io_context& context) {
    for (size_t w = 0; w < kWorkers; ++w) {
      asio::co_spawn(
          context,
          [&, w]() -> asio::awaitable<void> {
            for (size_t i = 0; Clock::now() < end; ++i) {
              LoadClient client(context, tls, level);
              try {
                co_await client.connect(server.port, fmt::format("conn-{}-{}", w, i));
                co_await client.send(zt::mqtt::Disconnect{});
                ++done;
              } catch (const std::exception&) {
                ++failed;
              }
              client.close();
            }
          },
          asio::detached);
    }
  });
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) fmt::print("  ({}: {} connects failed)\n", server.name, failed.load());
  ConnectFigures f;
  if (done == 0) return f;
  auto n = static_cast<double>(done);
  f.per_second = n / seconds;
  f.server_us = (cpu_seconds(server.pid) - server_cpu) * 1e6 / n;
  f.load_us = (own_cpu_seconds() - load_cpu) * 1e6 / n;
  return f;
}

// One connect, for the negotiated TLS parameters.
std::string tls_parameters(const Server& server, asio::ssl::context& tls) {
  asio::io_context context;
  LoadClient client(context, tls);
  std::string parameters = "(connect failed)";
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        try {
          co_await client.connect(server.port, "tls-parameters");
          parameters = client.tls_parameters();
          co_await client.send(zt::mqtt::Disconnect{});
        } catch (const std::exception& e) {
          parameters = fmt::format("(connect failed: {})", e.what());
        }
      },
      asio::detached);
  context.run_for(std::chrono::seconds(10));
  client.close();
  return parameters;
}

// N publishers → M subscribers, `count` messages per publisher. Returns deliveries per second
// (time from the first publish to the last delivery) and reports losses. MQTT 5 (`level`): every
// client speaks it and publishers send by topic alias after their first message.
double throughput(const Server& server, asio::ssl::context& tls, size_t publishers,
                  size_t subscribers, size_t count, uint8_t qos, const char* label,
                  uint8_t level = kProtocolLevel311) {
  const bool topic_alias = level == kProtocolLevel5;
  asio::io_context load;  // declared first: the clients' sockets must go before it
  std::vector<std::unique_ptr<LoadClient>> pubs, subs;
  std::vector<std::unique_ptr<Receiver>> receivers;
  const bool fan_in = subscribers == 1;
  const size_t expected = fan_in ? publishers * count : count;
  Clock::time_point start;
  run_load(load, std::chrono::seconds(20), [&](asio::io_context& context) {
    for (size_t i = 0; i < publishers; ++i)
      pubs.push_back(std::make_unique<LoadClient>(context, tls, level));
    for (size_t i = 0; i < subscribers; ++i) {
      subs.push_back(std::make_unique<LoadClient>(context, tls, level));
      receivers.push_back(std::make_unique<Receiver>());
    }
    asio::co_spawn(
        context,
        [&]() -> asio::awaitable<void> {
          try {
            for (size_t i = 0; i < subscribers; ++i) {
              co_await subs[i]->connect(server.port, fmt::format("sub-{}", i));
              co_await subs[i]->subscribe(fan_in ? "bench/in/+" : "bench/out", qos);
            }
            for (size_t i = 0; i < publishers; ++i)
              co_await pubs[i]->connect(server.port, fmt::format("pub-{}", i));
          } catch (const std::exception& e) {
            fmt::print("  ({}: set-up failed: {})\n", server.name, e.what());
            co_return;
          }
          start = Clock::now();
          auto deadline = start + std::chrono::seconds(15);
          for (size_t i = 0; i < subscribers; ++i) {
            asio::co_spawn(subs[i]->executor(), receivers[i]->run(*subs[i], expected, deadline),
                           asio::detached);
          }
          for (size_t i = 0; i < publishers; ++i) {
            auto topic = fan_in ? fmt::format("bench/in/{}", i) : std::string("bench/out");
            asio::co_spawn(
                pubs[i]->executor(),
                publish_messages(*pubs[i], topic, count, qos, kPayloadBytes, 50, topic_alias),
                asio::detached);
          }
        },
        asio::detached);
  });
  size_t delivered = 0;
  Clock::time_point last = start;
  for (const auto& receiver : receivers) {
    delivered += receiver->received;
    last = std::max(last, receiver->last);
  }
  for (auto& client : pubs) client->close();
  for (auto& client : subs) client->close();
  size_t wanted = expected * subscribers;
  if (delivered < wanted)
    fmt::print("  ({} {}: {} of {} delivered)\n", server.name, label, delivered, wanted);
  double seconds = std::chrono::duration<double>(last - start).count();
  return seconds > 0 ? static_cast<double>(delivered) / seconds : 0;
}

// RSS growth of the broker process per idle mutual-TLS MQTT connection.
double kib_per_idle_connection(const Server& server, asio::ssl::context& tls) {
  constexpr size_t kConnections = 500;
  asio::io_context context;
  std::vector<std::unique_ptr<LoadClient>> clients;
  std::atomic<size_t> connected{0};
  long before = rss_kib(server.pid);
  for (size_t i = 0; i < kConnections; ++i)
    clients.push_back(std::make_unique<LoadClient>(context, tls));
  for (size_t w = 0; w < 8; ++w) {
    asio::co_spawn(
        context,
        [&, w]() -> asio::awaitable<void> {
          for (size_t i = w; i < kConnections; i += 8) {
            try {
              co_await clients[i]->connect(server.port, fmt::format("idle-{}", i));
              ++connected;
            } catch (const std::exception&) {
            }
          }
        },
        asio::detached);
  }
  run_load(context, std::chrono::seconds(20), [](asio::io_context&) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long after = rss_kib(server.pid);
  for (auto& client : clients) client->close();
  if (connected < kConnections)
    fmt::print("  ({}: {} of {} idle connections)\n", server.name, connected.load(), kConnections);
  return connected ? static_cast<double>(after - before) / static_cast<double>(connected) : 0;
}

// BENCH_ONLY=<name> runs only that scenario (connects, qos0-in, qos1-in, qos0-out, qos1-out,
// memory, v5-connects, v5-qos1-in); a value that names none runs those containing it ("v5" both
// MQTT 5 ones, "qos" the publish ones), for investigating one figure.
bool selected(const char* name) {
  static constexpr std::string_view kNames[] = {"connects", "qos0-in", "qos1-in",     "qos0-out",
                                                "qos1-out", "memory",  "v5-connects", "v5-qos1-in"};
  const char* only = getenv("BENCH_ONLY");
  if (!only) return true;
  if (std::find(std::begin(kNames), std::end(kNames), std::string_view(only)) != std::end(kNames))
    return name == std::string_view(only);
  return std::string_view(name).find(only) != std::string_view::npos;
}

// One figure measured `repeat` times on each broker, the two alternating so both see the same
// background load; printed as the median with the spread (min-max).
struct Series {
  std::vector<double> ours, theirs;
};

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path self = fs::canonical("/proc/self/exe");
  fs::path ztp = getenv("ZTP") ? fs::path(getenv("ZTP")) : self.parent_path() / "ztp";
  fs::path source =
      getenv("ZT_SOURCE_DIR") ? fs::path(getenv("ZT_SOURCE_DIR")) : fs::path(ZT_SOURCE_DIR);
  size_t repeat = getenv("BENCH_REPEAT") ? std::stoul(getenv("BENCH_REPEAT")) : 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::stoul(argv[++i]);
    } else {
      fmt::print(stderr,
                 "usage: bench_broker [--repeat K]   (K runs of each figure per broker, "
                 "alternating; prints the median and the spread)\n");
      return 2;
    }
  }
  repeat = std::clamp<size_t>(repeat, 1, 50);
  signal(SIGPIPE, SIG_IGN);
  fs::path dir = fs::temp_directory_path() / fmt::format("zt-bench-broker-{}", getpid());
  fs::create_directories(dir);
  if (std::system(fmt::format("bash {} {} >/dev/null", (source / "tools/make-test-pki.sh").string(),
                              (dir / "pki").string())
                      .c_str()) != 0) {
    fmt::print(stderr, "bench_broker: making the test PKI failed\n");
    return 1;
  }
  auto tls = client_tls(dir / "pki");
  Server ours = start_ours(ztp, dir / "pki");
  Server theirs = start_mosquitto(dir, dir / "pki");
  std::string ours_tls = tls_parameters(ours, tls), theirs_tls = tls_parameters(theirs, tls);

  struct Row {
    const char* key;
    const char* label;
    std::function<double(const Server&)> run;
  };
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> cpu;  // per broker
  auto connects = [&](const char* key, uint8_t level) {
    return [&, key, level](const Server& server) {
      auto f = connects_per_second(server, tls, level);
      auto& [server_us, load_us] = cpu[fmt::format("{} {}", key, server.name)];
      server_us.push_back(f.server_us);
      load_us.push_back(f.load_us);
      return f.per_second;
    };
  };
  auto flow = [&](size_t publishers, size_t subscribers, size_t count, uint8_t qos,
                  const char* label, uint8_t level = kProtocolLevel311) {
    return [&, publishers, subscribers, count, qos, label, level](const Server& server) {
      return throughput(server, tls, publishers, subscribers, count, qos, label, level);
    };
  };
  std::vector<Row> rows = {
      {"connects", "mTLS connects/s", connects("connects", kProtocolLevel311)},
      {"qos0-in", "QoS0 fan-in 8->1 msg/s", flow(8, 1, 10000, 0, "QoS 0 fan-in")},
      {"qos1-in", "QoS1 fan-in 8->1 msg/s", flow(8, 1, 4000, 1, "QoS 1 fan-in")},
      {"qos0-out", "QoS0 fan-out 1->8 deliveries/s", flow(1, 8, 10000, 0, "QoS 0 fan-out")},
      {"qos1-out", "QoS1 fan-out 1->8 deliveries/s", flow(1, 8, 4000, 1, "QoS 1 fan-out")},
      {"v5-connects", "MQTT 5 mTLS connects/s", connects("v5-connects", kProtocolLevel5)},
      {"v5-qos1-in", "MQTT 5 QoS1 fan-in 8->1, alias msg/s",
       flow(8, 1, 4000, 1, "MQTT 5 QoS 1 fan-in", kProtocolLevel5)},
  };
  std::vector<Series> series(rows.size());
  for (size_t r = 0; r < repeat; ++r) {
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!selected(rows[i].key)) continue;
      series[i].ours.push_back(rows[i].run(ours));
      series[i].theirs.push_back(rows[i].run(theirs));
    }
  }
  // Memory last and once: the growth of RSS over 500 idle connections, on freshly started brokers.
  // After the throughput scenarios the heap holds what they freed (glibc and tcmalloc keep it
  // resident) and new connections reuse it without raising RSS: a --repeat run measured 0.5 KiB.
  double ours_kib = 0, theirs_kib = 0;
  if (selected("memory")) {
    stop(ours);
    stop(theirs);
    ours = start_ours(ztp, dir / "pki");
    theirs = start_mosquitto(dir, dir / "pki");
    ours_kib = kib_per_idle_connection(ours, tls);
    theirs_kib = kib_per_idle_connection(theirs, tls);
  }
  stop(ours);
  stop(theirs);
  fs::remove_all(dir);

  fmt::print(
      "bench_broker: 127.0.0.1, TLS client certificates required, {} load threads, {} B payloads, "
      "{} cores, {} run(s) per figure{}\n",
      kLoadThreads, kPayloadBytes, std::thread::hardware_concurrency(), repeat,
      repeat > 1 ? " (median; spread = min-max)" : "");
  std::string settings = mosquitto_settings();
  for (size_t at = 0, end; (end = settings.find('\n', at)) != std::string::npos; at = end + 1)
    fmt::print("  mosquitto.conf: {}\n", settings.substr(at, end - at));
  fmt::print(
      "  mosquitto.conf: listener <port> 127.0.0.1, cafile/certfile/keyfile, "
      "require_certificate true\n");
  fmt::print("  negotiated with zerotouch: {}\n  negotiated with mosquitto: {}\n", ours_tls,
             theirs_tls);
  fmt::print("{:<38} {:>10} {:>10} {:>7}{}\n", "metric", "zerotouch", "mosquitto", "ratio",
             repeat > 1 ? "   spread zerotouch | mosquitto | ratio" : "");
  auto spread = [](const std::vector<double>& v) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return fmt::format("{:.0f}-{:.0f}", *lo, *hi);
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Series& s = series[i];
    double a = median(s.ours), b = median(s.theirs);
    fmt::print("{:<38} {:>10.0f} {:>10.0f} {:>7.2f}", rows[i].label, a, b, b > 0 ? a / b : 0);
    if (repeat > 1 && !s.ours.empty()) {
      std::vector<double> ratios;
      for (size_t r = 0; r < s.ours.size(); ++r)
        ratios.push_back(s.theirs[r] > 0 ? s.ours[r] / s.theirs[r] : 0);
      auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
      fmt::print("   {} | {} | {:.2f}-{:.2f}", spread(s.ours), spread(s.theirs), *lo, *hi);
    }
    fmt::print("\n");
  }
  fmt::print("{:<38} {:>10.1f} {:>10.1f} {:>7.2f}  (lower is better; ratio = mosquitto/ours)\n",
             "KiB RSS per idle TLS connection", ours_kib, theirs_kib,
             ours_kib > 0 ? theirs_kib / ours_kib : 0);
  // Where a connect's CPU goes: the broker's share and the load generator's (same machine). They
  // bound the figures: a broker on `cores` threads cannot pass cores / its CPU per connect, and
  // with the load generator on the same cores not cores / (its + the load generator's); Mosquitto
  // has one thread, so 1 / its CPU per connect bounds it as well.
  const double cores = std::thread::hardware_concurrency();
  for (const char* key : {"connects", "v5-connects"}) {
    auto a = cpu.find(fmt::format("{} zerotouch", key));
    auto b = cpu.find(fmt::format("{} mosquitto", key));
    if (a == cpu.end() || b == cpu.end()) continue;
    double ours_us = median(a->second.first), theirs_us = median(b->second.first);
    double load_ours = median(a->second.second), load_theirs = median(b->second.second);
    if (ours_us <= 0 || theirs_us <= 0) continue;
    fmt::print(
        "CPU us per connect ({}): zerotouch {:.0f}, mosquitto {:.0f}; load generator {:.0f} "
        "(against zerotouch) / {:.0f} (against mosquitto)\n",
        key, ours_us, theirs_us, load_ours, load_theirs);
    double ours_bound = cores * 1e6 / (ours_us + load_ours);
    double theirs_bound =
        std::min(1e6 / theirs_us, cores * 1e6 / (theirs_us + load_theirs));  // one thread
    fmt::print(
        "  CPU bound ({}): zerotouch {:.0f}/s ({:.0f} cores / broker + load generator; {:.0f}/s "
        "if the load ran elsewhere), mosquitto {:.0f}/s (one thread); ratio at the bound {:.2f}\n",
        key, ours_bound, cores, cores * 1e6 / ours_us, theirs_bound, ours_bound / theirs_bound);
  }
  return 0;
}
