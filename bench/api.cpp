// Control-plane throughput: SigV4-signed requests per second over keep-alive connections with
// p50/p99 latency, for a read (DescribeCertificate) and a durable write (CreateThing: each 200
// leaves only after its transaction's commit is fdatasync'ed; concurrent writes share the fsync,
// group commit, registry.hpp), with 4 and 64 clients. For the writes it prints the WAL
// fdatasyncs per request (the registry's own counter of the syncs its sync thread makes; the
// checkpoints' syncs, two per 1,000 WAL pages, are not in it) and, as the physical bound, the
// disk's own rate of 4 KiB write + fdatasync on a file in the same directory, measured in the same
// run.
// Anchor, measured in the same run with the same clients (same signing, same connections): a
// minimal Boost.Beast coroutine server that answers every request with a fixed 200 "{}". The
// ratio is what our routing + SigV4 verification + registry work costs over bare HTTP.
#include <fmt/format.h>

#include <utility>  // std::exchange for boost/asio/awaitable.hpp (1.74)

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include <filesystem>
#include <thread>

#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"
#include "bench_process.hpp"
#include "cloud/local_cloud.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

asio::awaitable<void> anchor_session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  while (true) {
    http::request<http::string_body> request;
    co_await http::async_read(stream, buffer, request,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "application/json");
    response.body() = "{}";
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
}

asio::awaitable<void> anchor_accept(tcp::acceptor& acceptor, asio::io_context& io) {
  while (acceptor.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(
        asio::make_strand(io), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    auto executor = socket.get_executor();
    asio::co_spawn(executor, anchor_session(std::move(socket)), asio::detached);
  }
}

struct Figures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int failures = 0;
};

template <class MakeRequest>
Figures run_load(uint16_t port, int connections, int requests, MakeRequest make) {
  std::vector<std::vector<double>> latencies(connections);
  std::atomic<int> next{0}, failures{0};
  auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&, c] {
      zt::aws::HttpClient client(zt::aws::Url{"http", "127.0.0.1", std::to_string(port), ""});
      while (true) {
        int i = next++;
        if (i >= requests) break;
        zt::aws::HttpRequest request = make(i);
        request.headers.insert(request.headers.begin(),
                               {"Host", "127.0.0.1:" + std::to_string(port)});
        (void)zt::aws::sign_request(request, {"AKIDBENCH", "bench-secret", ""},
                                    {.region = "us-east-1", .service = "iot"});
        auto t0 = Clock::now();
        auto response = client.send(request);
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!response || response->status != 200) ++failures;
      }
    });
  }
  for (auto& t : clients) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Figures f;
  f.per_second = requests / seconds;
  f.p50_ms = all[all.size() / 2];
  f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  f.failures = failures;
  return f;
}

void report(const char* name, const Figures& ours, const Figures& anchor) {
  fmt::print("{:<20} ours   {:>9.0f} req/s  p50 {:>6.3f} ms  p99 {:>6.3f} ms  failures {}\n", name,
             ours.per_second, ours.p50_ms, ours.p99_ms, ours.failures);
  fmt::print("{:<20} anchor {:>9.0f} req/s  p50 {:>6.3f} ms  p99 {:>6.3f} ms  failures {}\n", "",
             anchor.per_second, anchor.p50_ms, anchor.p99_ms, anchor.failures);
  fmt::print("{:<20} ratio ours/anchor = {:.2f}\n", "", ours.per_second / anchor.per_second);
}

}  // namespace

int main(int argc, char** argv) {
  int requests = argc > 1 ? std::atoi(argv[1]) : 4000;
  int writes = argc > 2 ? std::atoi(argv[2]) : 4000;
  int connections = 4;
  int many = 64;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  auto dir =
      std::filesystem::temp_directory_path() / ("zt-bench-api-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // The control plane as `ztp cloud run --mqtt off` serves it, on an ephemeral port.
  auto cloud = zt::cloud::LocalCloud::open(
      {.state_dir = dir / "state", .threads = threads, .mqtt = std::nullopt});
  if (!cloud) {
    fmt::print(stderr, "bench_api: {}\n", cloud.error().message);
    return 1;
  }
  auto& registry = (*cloud)->registry();
  (void)registry.add_access_key("AKIDBENCH", "bench-secret");
  std::string cert_id(64, 'a');
  (void)registry.insert_certificate(
      {.id = cert_id, .pem = "-----BEGIN CERTIFICATE-----\n", .status = "ACTIVE"});
  if (auto started = (*cloud)->start(); !started) {
    fmt::print(stderr, "bench_api: {}\n", started.error().message);
    return 1;
  }
  uint16_t ours = (*cloud)->http_endpoint().port();
  // The anchor runs on as many threads of its own.
  asio::io_context io(static_cast<int>(threads));
  tcp::acceptor anchor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint16_t anchor_port = anchor.local_endpoint().port();
  asio::co_spawn(io, anchor_accept(anchor, io), asio::detached);
  std::vector<std::thread> pool;
  auto guard = asio::make_work_guard(io);
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back([&] { io.run(); });

  fmt::print(
      "bench_api: {} server threads, keep-alive client connections, synchronous=FULL semantics "
      "(group commit: a 200 leaves after its commit's WAL fdatasync)\n",
      threads);
  fmt::print("anchor: bare Boost.Beast coroutine server, {} threads, fixed 200 \"{{}}\"\n",
             threads);
  auto describe = [&](int) {
    return zt::aws::HttpRequest{"GET", "/certificates/" + cert_id, {}, ""};
  };
  Figures read = run_load(ours, connections, requests, describe);
  Figures read_anchor = run_load(anchor_port, connections, requests, describe);
  report("DescribeCertificate", read, read_anchor);

  int failures = read.failures;
  int offset = 0;
  for (int clients : {connections, many}) {
    auto create = [&, base = offset](int i) {
      return zt::aws::HttpRequest{"POST",
                                  "/things/bench-" + std::to_string(base + i),
                                  {{"Content-Type", "application/json"}},
                                  R"({"attributePayload":{"attributes":{"k":"v"}}})"};
    };
    uint64_t syncs = registry.wal_syncs();
    Figures write = run_load(ours, clients, writes, create);
    uint64_t used = registry.wal_syncs() - syncs;
    Figures write_anchor = run_load(anchor_port, clients, writes, create);
    offset += writes;
    failures += write.failures;
    std::string name = fmt::format("CreateThing x{}", clients);
    report(name.c_str(), write, write_anchor);
    fmt::print("{:<20} WAL fdatasyncs {} for {} writes: {:.3f} per request\n", "", used, writes,
               static_cast<double>(used) / writes);
  }
  double disk = zt::bench::disk_fsyncs_per_second(dir);
  fmt::print("disk bound: {:.0f} write+fdatasync/s on this directory (one thread, 4 KiB)\n", disk);

  (*cloud)->stop();
  anchor.close();
  guard.reset();
  io.stop();
  for (auto& t : pool) t.join();
  cloud->reset();
  std::filesystem::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
