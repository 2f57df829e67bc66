// Durable shadow updates over MQTT (issue 19, goal 5): `ztp cloud run` with 1,000 things; 250
// mutually authenticated MQTT 3.1.1 connections (bench/mqtt_load.hpp's LoadClient) of 4 things
// each publish reported-state updates (QoS 0) to $aws/things/<t>/shadow/update, 20 per thing per
// second (AWS's limits: 20 updates/s per thing, 100 publishes/s per connection; 20,000/s offered),
// and count $aws/things/<t>/shadow/update/accepted (and /rejected). An /accepted leaves the cloud
// only after the update's commit is fdatasync'ed (group commit: concurrent updates share the fsync,
// registry.hpp), so accepted/s is durable updates/s. AWS limits a thing to 20 shadow updates/s (the
// cloud answers more with 429 /rejected), so 1,000 things bound the figure at 20,000/s whatever the
// server.
//
// Fsyncs: the server is started once to create the things, then restarted for the measurement, so
// only the updates' syncs are counted: its registry logs its WAL commits and fdatasyncs at exit
// (counted by the registry; `strace -f --seccomp-bpf -c -e trace=fsync,fdatasync` did not see the
// sync thread's calls here, and strace without seccomp-bpf stops the server at every syscall).
// Checkpoints' own syncs (two per 1,000 WAL pages) are not in the count. The disk's own bound: 4
// KiB write + fdatasync pairs per second on a file in the same directory, measured in the same run.
//
// Anchor: the same SQLite shadows table (the registry's schema and its document shape), written
// by one thread with the updates batched 64 to a transaction under synchronous=FULL in WAL mode:
// what a hand-tuned batch writer gets from the same storage, with no network, TLS, MQTT, JSON
// merging or replies. The ratio is what the whole durable MQTT path costs over bare storage.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <utility>  // before Boost 1.74 asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "aws/config.hpp"
#include "aws/iot_client.hpp"
#include "cloud/registry/sqlite.hpp"
#include "connect_samples.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace zt::bench;

namespace {

constexpr int kThings = 1000;
constexpr int kConnections = 250;
constexpr int kUpdatesPerThingPerSecond = 20;  // AWS's limit per thing

// Its registry's counters are read from its info-level log (registry_syncs) on the measuring run.
zt::bench::LocalCloud start_cloud(const fs::path& ztp, const fs::path& dir, bool counted) {
  return start_local_cloud(ztp, dir, {}, counted ? "info" : "warn");
}

// The WAL fdatasyncs and commits the server's registry reports at exit (its log, info level).
std::pair<long, long> registry_syncs(const fs::path& log) {
  std::string text = read_all(log);
  auto at = text.rfind("registry: closed after ");
  if (at == std::string::npos) return {-1, -1};
  long commits = 0, syncs = 0;
  std::sscanf(text.c_str() + at, "registry: closed after %ld WAL commits and %ld WAL fdatasyncs",
              &commits, &syncs);
  return {commits, syncs};
}

struct Counts {
  std::atomic<long> accepted{0}, rejected{0};
};

// One connection: subscribes to its things' update/accepted and /rejected topics, then updates each
// of its things 20 times a second (AWS's per-thing limit; 4 things: 80 publishes/s, under AWS's 100
// per connection) until `stop`, while a second coroutine counts the answers.
asio::awaitable<void> device(LoadClient& client, uint16_t port, int index, Counts& counts,
                             std::atomic<bool>& stop, std::atomic<int>& ready) {
  co_await client.connect(port, fmt::format("bench-shadow-{}", index));
  int per = kThings / kConnections;
  std::vector<std::string> things;
  for (int t = 0; t < per; ++t) {
    things.push_back(fmt::format("shadow-{:04d}", index * per + t));
    // Not update/+: /documents would double what the load generator reads.
    co_await client.subscribe(fmt::format("$aws/things/{}/shadow/update/accepted", things.back()),
                              0);
    co_await client.subscribe(fmt::format("$aws/things/{}/shadow/update/rejected", things.back()),
                              0);
  }
  ++ready;
  asio::co_spawn(
      client.executor(),
      [&client, &counts]() -> asio::awaitable<void> {
        while (true) {
          auto packet = co_await client.read_packet();
          auto* publish = std::get_if<zt::mqtt::Publish>(&packet);
          if (!publish) continue;
          std::string_view topic = publish->topic;
          if (topic.ends_with("/accepted")) ++counts.accepted;
          if (topic.ends_with("/rejected")) ++counts.rejected;
        }
      },
      asio::detached);
  asio::steady_timer timer(client.executor());
  auto next = Clock::now();
  long sequence = 0;
  while (!stop) {
    zt::Bytes wire;
    for (const std::string& thing : things) {
      std::string payload = fmt::format(R"({{"state":{{"reported":{{"seq":{}}}}}}})", sequence);
      (void)zt::mqtt::encode_publish(
          fmt::format("$aws/things/{}/shadow/update", thing),
          zt::ByteView(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()), 0, false,
          false, 0, wire);
    }
    ++sequence;
    co_await client.send_bytes(wire);
    next += std::chrono::milliseconds(1000 / kUpdatesPerThingPerSecond);
    timer.expires_at(next);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// The anchor: the shadows table, batches of 64 updates per synchronous=FULL transaction.
double anchor_updates_per_second(const fs::path& dir, double seconds) {
  auto db = zt::cloud::registry::Database::open(dir / "anchor.db");
  if (!db) die(db.error().message);
  (void)db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  (void)db->exec(
      "CREATE TABLE shadows (thing_name TEXT NOT NULL, shadow_name TEXT NOT NULL, document TEXT "
      "NOT NULL, PRIMARY KEY (thing_name, shadow_name))");
  long updates = 0;
  auto start = Clock::now();
  while (Clock::now() - start < std::chrono::duration<double>(seconds)) {
    (void)db->exec("BEGIN IMMEDIATE");
    auto st = db->prepare(
        "INSERT INTO shadows VALUES(?1, '', ?2) ON CONFLICT(thing_name, shadow_name) DO UPDATE "
        "SET document = excluded.document");
    if (!st) die(st.error().message);
    for (int i = 0; i < 64; ++i, ++updates) {
      nlohmann::json document = {
          {"state", {{"reported", {{"seq", updates}}}}},
          {"metadata", {{"reported", {{"seq", {{"timestamp", 1700000000}}}}}}},
          {"version", updates / kThings + 1},
          {"exists", true}};
      st->bind(1, fmt::format("shadow-{:04d}", updates % kThings)).bind(2, document.dump());
      (void)st->run();
      // Prepared per row, as the registry prepares each of its statements.
      st = db->prepare(
          "INSERT INTO shadows VALUES(?1, '', ?2) ON CONFLICT(thing_name, shadow_name) DO UPDATE "
          "SET document = excluded.document");
    }
    (void)db->exec("COMMIT");
  }
  return updates / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  bench_name = "bench_shadow";
  double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  fs::path ztp = fs::path(argv[0]).parent_path() / "ztp";
  fs::path dir = fs::temp_directory_path() / fmt::format("zt-bench-shadow-{}", getpid());
  fs::create_directories(dir);

  // Setup run: the policy, one device certificate for every connection, 1,000 things.
  LocalCloud cloud = start_cloud(ztp, dir, false);
  setenv("AWS_SHARED_CREDENTIALS_FILE", (dir / "state/credentials").c_str(), 1);
  setenv("AWS_CONFIG_FILE", (dir / "state/config").c_str(), 1);
  auto config = zt::aws::load_client_config(
      {std::nullopt, std::string("us-east-1"), fmt::format("http://127.0.0.1:{}", cloud.http)});
  if (!config) die(config.error().message);
  zt::aws::IotClient iot(*config);
  nlohmann::json policy = {
      {"policyDocument",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]})"}};
  if (auto made = iot.call("POST", "/policies/ShadowAll", {}, &policy); !made)
    die(made.error().message);
  auto keys = iot.call("POST", "/keys-and-certificate", "setAsActive=true");
  if (!keys) die(keys.error().message);
  std::ofstream(dir / "device.crt") << (*keys)["certificatePem"].get<std::string>();
  std::ofstream(dir / "device.key") << (*keys)["keyPair"]["PrivateKey"].get<std::string>();
  fs::permissions(dir / "device.key", fs::perms::owner_read | fs::perms::owner_write);
  nlohmann::json target = {{"target", (*keys)["certificateArn"]}};
  if (auto attached = iot.call("PUT", "/target-policies/ShadowAll", {}, &target); !attached)
    die(attached.error().message);
  for (int t = 0; t < kThings; ++t) {
    if (auto made = iot.call("POST", fmt::format("/things/shadow-{:04d}", t)); !made)
      die(made.error().message);
  }
  stop(cloud.process);

  // Measuring run: its registry reports its WAL commits and fdatasyncs at exit.
  cloud = start_cloud(ztp, dir, true);
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file((dir / "state/server-ca.crt").string());
  tls.use_certificate_chain_file((dir / "device.crt").string());
  tls.use_private_key_file((dir / "device.key").string(), asio::ssl::context::pem);
  tls.set_verify_mode(asio::ssl::verify_peer);
  asio::io_context io;
  std::vector<std::unique_ptr<LoadClient>> clients;
  Counts counts;
  std::atomic<bool> stopping{false};
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  for (int c = 0; c < kConnections; ++c) {
    clients.push_back(std::make_unique<LoadClient>(io, tls));
    asio::co_spawn(clients.back()->executor(),
                   device(*clients.back(), cloud.process.port, c, counts, stopping, ready),
                   [&](std::exception_ptr e) {
                     if (e) ++failed;
                   });
  }
  // The clients are strands: two threads, so the load generator is not what bounds the figure.
  std::thread runner([&] { io.run(); });
  std::thread runner2([&] { io.run(); });
  while (ready < kConnections && failed == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (failed) die("a device could not connect or subscribe: " + read_all(dir / "cloud.err"));
  long accepted0 = counts.accepted, rejected0 = counts.rejected;
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  long accepted = counts.accepted - accepted0, rejected = counts.rejected - rejected0;
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stopping = true;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the last answers drain
  for (auto& client : clients) client->close();
  runner.join();
  runner2.join();
  long accepted_all = counts.accepted;
  // SIGTERM, and time to work off its queue and close the registry (which logs its counts).
  kill(cloud.process.pid, SIGTERM);
  for (int i = 0; i < 1500 && waitpid(cloud.process.pid, nullptr, WNOHANG) != cloud.process.pid;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop(cloud.process);
  auto [commits, syncs] = registry_syncs(dir / "cloud.err");

  double disk = disk_fsyncs_per_second(dir);
  double anchor = anchor_updates_per_second(dir, 2.0);
  double ours = accepted / elapsed;
  fmt::print(
      "bench_shadow: {} things, {} MQTT 3.1.1 connections over mutual TLS (P-256), QoS 0 updates "
      "of reported state, {} per thing per second offered ({}/s), {:.1f} s\n",
      kThings, kConnections, kUpdatesPerThingPerSecond, kThings * kUpdatesPerThingPerSecond,
      elapsed);
  fmt::print("ours   {:>9.0f} durable updates/s (/accepted), {} /rejected ({:.0f}/s)\n", ours,
             rejected, rejected / elapsed);
  // The server works off its queue after the clients stop: its counts cover every update it
  // received, of which `accepted_all` were answered while the clients listened.
  fmt::print(
      "       server (its registry's counters, whole measuring run): {} WAL commits (shadow "
      "updates and presence records), {} WAL fdatasyncs: {:.3f} fdatasyncs per commit; {} "
      "updates answered /accepted while the clients listened\n",
      commits, syncs, commits > 0 ? static_cast<double>(syncs) / commits : 0.0, accepted_all);
  fmt::print(
      "anchor {:>9.0f} updates/s: the same SQLite shadows table, one thread, 64 updates per "
      "transaction, journal_mode=WAL synchronous=FULL (one fsync per 64)\n",
      anchor);
  fmt::print("ratio ours/anchor = {:.2f}\n", ours / anchor);
  fmt::print("disk bound: {:.0f} write+fdatasync/s on this directory (one thread, 4 KiB)\n", disk);
  fmt::print("AWS's limit of 20 updates/s per thing bounds {} things at {} updates/s\n", kThings,
             kThings * 20);
  if (!getenv("BENCH_KEEP")) fs::remove_all(dir);
  return 0;
}
