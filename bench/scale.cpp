// bench/scale: N devices connected at once, mutually authenticated, each subscribed to its
// shadow's update/delta and update/accepted topics — against `ztp cloud run` (devices registered
// ACTIVE with the rows the built-in JITR function writes: certificate, thing, ZTPolicy_<id>
// allowing the thing's own shadow topics, both attached) and against Mosquitto 2.0 (Debian) with
// the same server certificate, client chains (device + signer) and load generator, in the same run.
//
// Steps of N (1k, 5k, 10k, 50k, 100k up to --max-devices, plus the largest N this box's open-file
// limit lets one broker process hold). The devices of a step are added to those of the previous
// step (one broker process for all steps, so RSS is measured on the same process as N grows). Per
// step: the connect-storm time (the time spent connecting all N, each device TCP connect → TLS
// handshake → CONNECT/CONNACK → SUBSCRIBE/SUBACK, kWindow devices in flight at once), connect p50
// and p99 (TCP connect → CONNACK, over all N), broker RSS per connection (VmRSS delta since before
// the first device / N, and the slope between steps), and the round trip of a shadow update to one
// device while all N are connected (what each side measures is printed: see round_trip()).
//
// The load generator is one epoll loop per thread on raw OpenSSL SSL objects
// (SSL_MODE_RELEASE_BUFFERS, so an idle client holds no record buffers), non-blocking sockets
// bound to source addresses spread over 127.0.0.0/8 before connecting (IP_BIND_ADDRESS_NO_PORT),
// so the ephemeral ports of one source address never run out.
//
// RLIMIT_NOFILE: the benchmark raises its soft limit to the hard limit (its children inherit it;
// `ztp cloud run` raises its own as well). A step needs N + kSpareDescriptors descriptors in
// the broker process and in the load generator; a step above that is not run, and the benchmark
// says so with the limit it needs — it is never capped silently.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "broker/tls_stream.hpp"
#include "broker/trust.hpp"
#include "cloud/jitr/jitr_function.hpp"
#include "cloud/registry/registry.hpp"
#include "cloud/state.hpp"
#include "common/connection_limits.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "connect_samples.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "issue_devices.hpp"
#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"
#include "pki/ca_directory.hpp"
#include "pki/device_issuer.hpp"

namespace fs = std::filesystem;
using namespace zt;
using namespace zt::bench;

namespace {

constexpr size_t kDefaultMaxDevices = 100000;
constexpr size_t kSteps[] = {1000, 5000, 10000, 50000, 100000};
// Descriptors a step needs beyond its N connections, in the broker process (listeners, registry
// and its WAL, state files, the HTTP connections of the setup, epoll/eventfds, the operator's
// connection) and in the load generator: N + this must fit the hard RLIMIT_NOFILE.
constexpr size_t kSpareDescriptors = 256;
constexpr size_t kWindow = 64;  // devices connecting at once (TCP connect → SUBACK)
constexpr size_t kRoundTrips = 40;
constexpr size_t kDevicesPerSourceAddress = 1000;
const auto kStepLimit = std::chrono::seconds(300);
constexpr const char* kOperator = "bench-operator";

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// CPU seconds (user + system) the process has used: /proc/<pid>/stat fields 14 and 15.
double cpu_seconds(pid_t pid) {
  std::string stat = read_all(fmt::format("/proc/{}/stat", pid));
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string ssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (!code) return "connection closed";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// ---- devices --------------------------------------------------------------------------------

struct Identity {
  std::string name;  // client id = thing name (hex SKI, as JITR names it)
  crypto::X509Ptr certificate;
  crypto::PkeyPtr key;
};

Identity issue_identity(const pki::DeviceCertificateIssuer& issuer, const X509_NAME* subject,
                        std::string name = {}) {
  auto key = crypto::generate_p256_key();
  if (!key) die(key.error().message);
  auto csr = crypto::build_csr({.subject = subject, .extensions = {}}, key->get());
  if (!csr) die(csr.error().message);
  auto certificate = issuer.issue(csr->get(), unix_now());
  if (!certificate) die(certificate.error().message);
  if (name.empty()) {
    auto ski = crypto::subject_key_identifier(certificate->get());
    if (!ski) die(ski.error().message);
    name = to_hex(*ski);
  }
  return {std::move(name), std::move(*certificate), std::move(*key)};
}

// The registry rows of a JITR-registered device (jitr_function.cpp register_device): certificate
// ACTIVE, thing, ZTPolicy_<id> (the thing's own shadow topics), policy and thing attached. Written
// in transactions of 500 into the running cloud's registry (SQLite WAL; as `ztp cloud
// simulate-jitr` does). The operator gets a policy allowing it to publish any thing's shadow
// update.
void register_identities(cloud::CloudState& state, const std::string& ca_id,
                         const std::vector<Identity>& devices, const Identity& operator_identity) {
  auto& registry = *state.registry;
  std::string arn = "arn:aws:iot:" + state.region + ":" + state.account_id + ":";
  auto insert = [&](const Identity& identity, const std::string& policy_document,
                    bool thing) -> Status {
    ZT_TRY_ASSIGN(std::string id, cloud::broker::certificate_id(identity.certificate.get()));
    ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(identity.certificate.get()));
    ZT_TRY_ASSIGN(int64_t not_before, crypto::certificate_not_before(identity.certificate.get()));
    ZT_TRY_ASSIGN(int64_t not_after, crypto::certificate_not_after(identity.certificate.get()));
    double now = static_cast<double>(unix_now());
    ZT_TRY(registry.insert_certificate({.id = id,
                                        .pem = pem,
                                        .ca_id = ca_id,
                                        .status = cloud::registry::kActive,
                                        .creation_date = now,
                                        .last_modified = now,
                                        .generation_id = id.substr(0, 36),
                                        .not_before = not_before,
                                        .not_after = not_after}));
    std::string policy = std::string(cloud::jitr::kPolicyPrefix) + id;
    ZT_TRY(registry.insert_policy(policy, policy_document, now, id.substr(0, 36)));
    ZT_TRY(registry.attach_policy(policy, arn + "cert/" + id));
    if (thing) {
      ZT_TRY(registry.insert_thing({.name = identity.name, .id = id.substr(0, 36), .version = 1}));
      ZT_TRY(registry.attach_thing_principal(identity.name, arn + "cert/" + id,
                                             "NON_EXCLUSIVE_THING"));
    }
    return ok();
  };
  std::string operator_policy = fmt::format(
      R"({{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iot:Connect"],)"
      R"("Resource":["{0}client/{1}"]}},{{"Effect":"Allow","Action":["iot:Publish"],)"
      R"("Resource":["{0}topic/$aws/things/*/shadow/update"]}}]}})",
      arn, kOperator);
  auto done =
      registry.transaction([&] { return insert(operator_identity, operator_policy, false); });
  if (!done) die("registering the operator: " + done.error().message);
  for (size_t at = 0; at < devices.size(); at += 500) {
    done = registry.transaction([&]() -> Status {
      for (size_t i = at; i < std::min(devices.size(), at + 500); ++i) {
        ZT_TRY(insert(devices[i],
                      cloud::jitr::zero_touch_policy_document(state.region, state.account_id,
                                                              devices[i].name),
                      true));
      }
      return ok();
    });
    if (!done) die("registering devices: " + done.error().message);
  }
}

// ---- the load generator -----------------------------------------------------------------------

std::string delta_topic(const std::string& thing) {
  return "$aws/things/" + thing + "/shadow/update/delta";
}

enum class Phase : uint8_t { waiting, tcp, tls, connack, suback, ready, failed };

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  Phase phase = Phase::waiting;
  int64_t started = 0;
  Bytes out;  // an SSL_write to retry with the same bytes (no partial writes)
  mqtt::StreamDecoder decoder;
};

// One epoll loop per thread; device i belongs to thread i % threads. Devices [0, target) are
// connected, at most kWindow / threads in flight per thread.
class Fleet {
 public:
  Fleet(const std::vector<Identity>& identities, SSL_CTX* tls, uint16_t port, size_t threads)
      : identities_(identities),
        tls_(tls),
        port_(port),
        conns_(identities.size()),
        connack_ms_(identities.size(), -1) {
    for (size_t t = 0; t < threads; ++t) loops_.push_back(std::make_unique<Loop>(t));
    for (auto& loop : loops_) loop->thread = std::thread([this, l = loop.get()] { run(*l); });
  }
  ~Fleet() {
    stop_ = true;
    for (auto& loop : loops_) loop->thread.join();
    for (auto& conn : conns_) {
      if (conn.ssl) SSL_free(conn.ssl);
      if (conn.fd >= 0) ::close(conn.fd);
    }
  }

  // Connects devices [connected, n), waits until each is subscribed or failed (or the limit).
  // Returns the seconds it took.
  double grow_to(size_t n) {
    auto start = Clock::now();
    target_ = n;
    while (settled() < n && Clock::now() - start < kStepLimit)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
  size_t settled() const { return ready_ + failed_; }
  size_t ready() const { return ready_; }
  size_t failed() const { return failed_; }
  size_t dropped() const { return dropped_; }
  std::string first_failure() {
    std::lock_guard lock(failure_mutex_);
    return first_failure_;
  }
  // TCP connect → CONNACK of devices [0, n), milliseconds, sorted.
  std::vector<double> connack_ms(size_t n) const {
    std::vector<double> out;
    for (size_t i = 0; i < n; ++i)
      if (connack_ms_[i] >= 0) out.push_back(connack_ms_[i]);
    std::sort(out.begin(), out.end());
    return out;
  }

  // The round trip's receiving end: device `index`'s next PUBLISH on its delta topic.
  void await_delta(size_t index) {
    delta_at_ = 0;
    awaited_ = index;
  }
  int64_t delta_at() const { return delta_at_; }

 private:
  struct Loop {
    explicit Loop(size_t t) : index(t), epoll(epoll_create1(EPOLL_CLOEXEC)) {}
    ~Loop() { ::close(epoll); }
    size_t index;
    int epoll;
    size_t next = 0;  // next device of this loop to start: index + k * threads
    size_t in_flight = 0;
    std::thread thread;
  };

  void run(Loop& loop) {
    std::array<epoll_event, 256> events{};
    std::array<uint8_t, 16384> buffer{};
    size_t threads = loops_.size();
    if (loop.next == 0) loop.next = loop.index;
    while (!stop_) {
      while (loop.in_flight < kWindow / threads && loop.next < target_) {
        start(loop, loop.next);
        loop.next += threads;
      }
      int count = epoll_wait(loop.epoll, events.data(), static_cast<int>(events.size()), 5);
      for (int e = 0; e < count; ++e) drive(loop, events[e].data.u64, buffer);
    }
  }

  void fail(Loop& loop, size_t i, const std::string& why) {
    Conn& conn = conns_[i];
    bool was_ready = conn.phase == Phase::ready;
    if (conn.phase == Phase::failed) return;
    conn.phase = Phase::failed;
    if (conn.fd >= 0) {
      epoll_ctl(loop.epoll, EPOLL_CTL_DEL, conn.fd, nullptr);
      ::close(conn.fd);
      conn.fd = -1;
    }
    if (was_ready) {
      ++dropped_;
      return;
    }
    --loop.in_flight;
    ++failed_;
    std::lock_guard lock(failure_mutex_);
    if (first_failure_.empty()) first_failure_ = identities_[i].name + ": " + why;
  }

  void start(Loop& loop, size_t i) {
    Conn& conn = conns_[i];
    ++loop.in_flight;
    conn.started = now_ns();
    conn.phase = Phase::tcp;
    conn.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (conn.fd < 0) return fail(loop, i, fmt::format("socket: {}", strerror(errno)));
    int one = 1;
    setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Source 127.100.x.y, kDevicesPerSourceAddress devices each; the port is chosen at connect
    // for the 4-tuple (IP_BIND_ADDRESS_NO_PORT), not at bind.
    setsockopt(conn.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    size_t source = i / kDevicesPerSourceAddress;
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl((127u << 24) | (100u << 16) |
                                 static_cast<uint32_t>((source / 250) << 8 | (source % 250 + 1)));
    if (::bind(conn.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
      return fail(loop, i, fmt::format("bind: {}", strerror(errno)));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(conn.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 &&
        errno != EINPROGRESS)
      return fail(loop, i, fmt::format("connect: {}", strerror(errno)));
    // Edge-triggered: every event drives the device until OpenSSL or the socket says EAGAIN.
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = i;
    if (epoll_ctl(loop.epoll, EPOLL_CTL_ADD, conn.fd, &event) != 0)
      return fail(loop, i, fmt::format("epoll_ctl: {}", strerror(errno)));
  }

  // Sends conn.out (or retries it); false when the connection failed.
  bool flush(Loop& loop, size_t i) {
    Conn& conn = conns_[i];
    if (conn.out.empty()) return true;
    int n = SSL_write(conn.ssl, conn.out.data(), static_cast<int>(conn.out.size()));
    if (n > 0) {
      conn.out.clear();
      return true;
    }
    int error = SSL_get_error(conn.ssl, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return true;
    fail(loop, i, "write: " + ssl_error());
    return false;
  }

  void drive(Loop& loop, size_t i, std::array<uint8_t, 16384>& buffer) {
    Conn& conn = conns_[i];
    if (conn.phase == Phase::tcp) {
      int error = 0;
      socklen_t size = sizeof error;
      getsockopt(conn.fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error) return fail(loop, i, fmt::format("connect: {}", strerror(error)));
      conn.ssl = SSL_new(tls_);
      SSL_set_fd(conn.ssl, conn.fd);
      SSL_use_certificate(conn.ssl, identities_[i].certificate.get());
      SSL_use_PrivateKey(conn.ssl, identities_[i].key.get());
      SSL_set_connect_state(conn.ssl);
      conn.phase = Phase::tls;
    }
    if (conn.phase == Phase::tls) {
      int result = SSL_do_handshake(conn.ssl);
      if (result != 1) {
        int error = SSL_get_error(conn.ssl, result);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
        return fail(loop, i, "handshake: " + ssl_error());
      }
      mqtt::Connect connect;
      connect.keep_alive = 1200;  // AWS IoT's maximum: no PINGREQ during the run
      connect.client_id = identities_[i].name;
      (void)mqtt::encode_packet(connect, conn.out);
      conn.phase = Phase::connack;
    }
    if (!flush(loop, i)) return;
    while (true) {
      int n = SSL_read(conn.ssl, buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) {
        int error = SSL_get_error(conn.ssl, n);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
        return fail(loop, i, "read: " + ssl_error());
      }
      conn.decoder.feed(ByteView(buffer.data(), static_cast<size_t>(n)));
      while (true) {
        auto next = conn.decoder.next();
        if (!next) return fail(loop, i, "decode: " + next.error().message);
        if (!*next) break;
        if (!handle(loop, i, **next)) return;
      }
      if (!flush(loop, i)) return;
    }
    if (conn.phase == Phase::ready) conn.decoder.release_buffer(0);
  }

  bool handle(Loop& loop, size_t i, mqtt::Packet& packet) {
    Conn& conn = conns_[i];
    if (conn.phase == Phase::connack) {
      auto* connack = std::get_if<mqtt::Connack>(&packet);
      if (!connack || connack->return_code != mqtt::ConnectReturnCode::accepted) {
        fail(loop, i, "CONNACK refused");
        return false;
      }
      connack_ms_[i] = static_cast<double>(now_ns() - conn.started) / 1e6;
      mqtt::Subscribe subscribe;
      subscribe.packet_id = 1;
      subscribe.subscriptions.push_back(mqtt::Subscription{delta_topic(identities_[i].name), 0});
      subscribe.subscriptions.push_back(
          mqtt::Subscription{"$aws/things/" + identities_[i].name + "/shadow/update/accepted", 0});
      (void)mqtt::encode_packet(subscribe, conn.out);
      conn.phase = Phase::suback;
      return true;
    }
    if (conn.phase == Phase::suback) {
      auto* suback = std::get_if<mqtt::Suback>(&packet);
      if (!suback || std::count(suback->return_codes.begin(), suback->return_codes.end(),
                                mqtt::kSubackFailure) != 0) {
        fail(loop, i, "SUBSCRIBE refused");
        return false;
      }
      conn.phase = Phase::ready;
      --loop.in_flight;
      ++ready_;
      return true;
    }
    if (auto* publish = std::get_if<mqtt::Publish>(&packet)) {
      if (awaited_ == i && publish->topic == delta_topic(identities_[i].name)) delta_at_ = now_ns();
    }
    return true;
  }

  const std::vector<Identity>& identities_;
  SSL_CTX* tls_;
  uint16_t port_;
  std::vector<Conn> conns_;
  std::vector<double> connack_ms_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<size_t> target_{0}, ready_{0}, failed_{0}, dropped_{0};
  std::atomic<size_t> awaited_{SIZE_MAX};
  std::atomic<int64_t> delta_at_{0};
  std::atomic<bool> stop_{false};
  std::mutex failure_mutex_;
  std::string first_failure_;
};

// The operator: one blocking mutual-TLS MQTT client that publishes the updates.
class Operator {
 public:
  Operator(SSL_CTX* tls, const Identity& identity, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
      die(fmt::format("operator connect: {}", strerror(errno)));
    ssl_ = SSL_new(tls);
    SSL_set_fd(ssl_, fd_);
    SSL_use_certificate(ssl_, identity.certificate.get());
    SSL_use_PrivateKey(ssl_, identity.key.get());
    if (SSL_connect(ssl_) != 1) die("operator handshake: " + ssl_error());
    mqtt::Connect connect;
    connect.keep_alive = 1200;
    connect.client_id = kOperator;
    write(*mqtt::encode_packet(connect));
    mqtt::StreamDecoder decoder;
    std::array<uint8_t, 4096> buffer{};
    while (true) {
      auto next = decoder.next();
      if (next && *next) {
        auto* connack = std::get_if<mqtt::Connack>(&**next);
        if (!connack || connack->return_code != mqtt::ConnectReturnCode::accepted)
          die("operator: CONNACK refused");
        break;
      }
      int n = SSL_read(ssl_, buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) die("operator: no CONNACK: " + ssl_error());
      decoder.feed(ByteView(buffer.data(), static_cast<size_t>(n)));
    }
  }
  ~Operator() {
    SSL_free(ssl_);
    ::close(fd_);
  }
  void publish(const std::string& topic, const std::string& payload) {
    Bytes wire;
    (void)mqtt::encode_publish(topic, as_bytes(payload), 0, false, false, 0, wire);
    write(wire);
  }

 private:
  void write(const Bytes& wire) {
    if (SSL_write(ssl_, wire.data(), static_cast<int>(wire.size())) <= 0)
      die("operator write: " + ssl_error());
  }
  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

// ---- one broker through all steps ---------------------------------------------------------------

struct StepResult {
  size_t n = 0;
  size_t connected = 0, failed = 0, dropped = 0;
  double storm_s = 0;
  double p50_ms = 0, p99_ms = 0;
  double kib_per_connection = 0, kib_slope = 0;
  double cpu_ms_per_connect = 0;  // broker CPU over the step's new devices
  double rt_p50_ms = 0, rt_max_ms = 0;
  size_t rt_lost = 0;
  std::string failure{};
};

double at(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(q * static_cast<double>(sorted.size())))];
}

// `topic_of(thing)` and `payload_of(k)`: what the operator publishes for the k-th round trip; it
// ends when the device receives a PUBLISH on its delta topic.
template <class Topic, class Payload>
std::vector<StepResult> run_steps(const std::string& name, pid_t broker, uint16_t port,
                                  SSL_CTX* tls, const std::vector<Identity>& devices,
                                  const Identity& operator_identity,
                                  const std::vector<size_t>& steps, Topic topic_of,
                                  Payload payload_of) {
  std::vector<StepResult> results;
  Operator op(tls, operator_identity, port);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long base = rss_kib(broker);
  Fleet fleet(devices, tls, port, kLoadThreads);
  double storm = 0;
  long previous_rss = base;
  size_t previous_n = 0;
  for (size_t n : steps) {
    StepResult r{.n = n};
    double cpu_before = cpu_seconds(broker);
    storm += fleet.grow_to(n);
    double cpu = cpu_seconds(broker) - cpu_before;
    r.storm_s = storm;
    r.connected = fleet.ready();
    r.failed = fleet.failed();
    r.failure = fleet.first_failure();
    if (r.connected > previous_n)
      r.cpu_ms_per_connect = cpu * 1000 / static_cast<double>(r.connected - previous_n);
    auto ms = fleet.connack_ms(n);
    r.p50_ms = at(ms, 0.50);
    r.p99_ms = at(ms, 0.99);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // let connect-time work settle
    long rss = rss_kib(broker);
    r.kib_per_connection =
        r.connected ? static_cast<double>(rss - base) / static_cast<double>(r.connected) : 0;
    r.kib_slope = static_cast<double>(rss - previous_rss) /
                  static_cast<double>(std::max<size_t>(1, r.connected - previous_n));
    previous_rss = rss;
    previous_n = r.connected;
    std::vector<double> trips;
    for (size_t k = 0; k < kRoundTrips && r.connected; ++k) {
      size_t device = (k * 7919) % n;
      fleet.await_delta(device);
      int64_t sent = now_ns();
      op.publish(topic_of(devices[device].name), payload_of(k));
      auto limit = Clock::now() + std::chrono::seconds(5);
      while (!fleet.delta_at() && Clock::now() < limit)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (fleet.delta_at())
        trips.push_back(static_cast<double>(fleet.delta_at() - sent) / 1e6);
      else
        ++r.rt_lost;
      // AWS's 100 publishes/s per connection (our broker enforces it on the operator).
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::sort(trips.begin(), trips.end());
    r.rt_p50_ms = at(trips, 0.5);
    r.rt_max_ms = trips.empty() ? 0 : trips.back();
    r.dropped = fleet.dropped();
    fmt::print(stderr, "  {} N={}: {} connected in {:.1f} s, {:.2f} KiB/connection\n", name, n,
               r.connected, r.storm_s, r.kib_per_connection);
    results.push_back(r);
    if (r.connected < n) break;  // the next step would build on a broken one
  }
  return results;
}

// The floor under both brokers' figure: heap (mallinfo2, in use) that OpenSSL itself keeps per idle
// server connection after a mutual handshake, with the broker's settings (TLS 1.2–1.3, client
// certificate required, no tickets, SSL_MODE_RELEASE_BUFFERS), its server certificate and the
// devices' chains. `count` handshakes over socket pairs in this thread; the client ends are freed,
// the server ends kept until measured. `released`: after each handshake the server end gives the
// client's certificates back as the broker does once it has authenticated the device
// (broker::verify_chain, take_verified_chain, release_peer_certificates), else kept as OpenSSL
// leaves them (as Mosquitto does).
double openssl_kib_per_idle_connection(const fs::path& dir, SSL_CTX* client,
                                       const std::vector<Identity>& devices, size_t count,
                                       bool released) {
  SSL_CTX* server = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(server, TLS1_2_VERSION);
  SSL_CTX_set_options(server, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(server, 0);
  SSL_CTX_set_mode(server, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(server, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (released) SSL_CTX_set_cert_verify_callback(server, cloud::broker::verify_chain, nullptr);
  if (SSL_CTX_use_certificate_chain_file(server, (dir / "state/server.crt").c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(server, (dir / "state/server.key").c_str(), SSL_FILETYPE_PEM) !=
          1 ||
      SSL_CTX_load_verify_locations(server, (dir / "pki/root-ca.crt").c_str(), nullptr) != 1)
    die("OpenSSL floor: " + ssl_error());
  std::vector<std::pair<SSL*, int>> kept;
  size_t before = 0;
  count = std::min(count, devices.size() - 1);
  for (size_t i = 0; i <= count; ++i) {  // the first one warms OpenSSL's caches up, uncounted
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
      die(fmt::format("socketpair: {}", strerror(errno)));
    SSL* accepted = SSL_new(server);
    SSL_set_fd(accepted, pair[0]);
    SSL_set_accept_state(accepted);
    SSL* connecting = SSL_new(client);
    SSL_set_fd(connecting, pair[1]);
    SSL_use_certificate(connecting, devices[i].certificate.get());
    SSL_use_PrivateKey(connecting, devices[i].key.get());
    SSL_set_connect_state(connecting);
    int a = 0, c = 0;
    for (int step = 0; step < 50 && (a != 1 || c != 1); ++step) {
      if (c != 1) c = SSL_do_handshake(connecting);
      if (a != 1) a = SSL_do_handshake(accepted);
    }
    if (a != 1 || c != 1) die("OpenSSL floor: handshake: " + ssl_error());
    char none[1];
    SSL_read(accepted, none, 0);  // let each side take what the other sent after the handshake
    SSL_read(connecting, none, 0);
    if (released) {
      cloud::broker::take_verified_chain(accepted);  // what the Authenticator reads, then frees
      cloud::broker::release_peer_certificates(accepted);
    }
    SSL_free(connecting);
    ::close(pair[1]);
    if (i == 0) {
      SSL_free(accepted);
      ::close(pair[0]);
      before = mallinfo2().uordblks + mallinfo2().hblkhd;
      continue;
    }
    kept.emplace_back(accepted, pair[0]);
  }
  size_t after = mallinfo2().uordblks + mallinfo2().hblkhd;
  for (auto& [ssl, fd] : kept) {
    SSL_free(ssl);
    ::close(fd);
  }
  SSL_CTX_free(server);
  return static_cast<double>(after - before) / 1024.0 / static_cast<double>(kept.size());
}

SSL_CTX* client_context(const fs::path& server_ca, const fs::path& signer_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (SSL_CTX_load_verify_locations(ctx, server_ca.c_str(), nullptr) != 1)
    die("loading " + server_ca.string());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Every device sends device + signer (as the kit does): the signer as the context's extra chain.
  auto signer = crypto::load_certificate(signer_file);
  if (!signer) die(signer.error().message);
  SSL_CTX_add_extra_chain_cert(ctx, signer->release());
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return ctx;
}

size_t hard_open_file_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_max == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(limit.rlim_max);
}

}  // namespace

int main(int argc, char** argv) {
  bench_name = "bench_scale";
  size_t max_devices = kDefaultMaxDevices;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--max-devices" && i + 1 < argc) {
      max_devices = std::stoul(argv[++i]);
    } else {
      fmt::print(stderr, "usage: bench_scale [--max-devices N]   (default {})\n",
                 kDefaultMaxDevices);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  // Before anything opens a descriptor; children (ztp, mosquitto) inherit the raised soft limit.
  size_t soft = raise_open_file_limit();
  size_t hard = hard_open_file_limit();
  size_t fits = soft > kSpareDescriptors ? (soft - kSpareDescriptors) / 100 * 100 : 0;

  std::vector<size_t> steps, refused;
  for (size_t n : kSteps) {
    if (n > max_devices) continue;
    (n <= fits ? steps : refused).push_back(n);
  }
  // The largest N one process may hold here, when the listed steps stop short of it.
  size_t largest = std::min(max_devices, fits);
  if (largest > 0 && (steps.empty() || largest > steps.back())) steps.push_back(largest);
  if (max_devices > fits && std::find(refused.begin(), refused.end(), max_devices) == refused.end())
    refused.push_back(max_devices);
  if (steps.empty()) die("no step fits the open-file limit");
  const size_t n = steps.back();

  fs::path self = fs::canonical("/proc/self/exe");
  fs::path ztp = getenv("ZTP") ? fs::path(getenv("ZTP")) : self.parent_path() / "ztp";
  fs::path dir = fs::temp_directory_path() / fmt::format("zt-bench-scale-{}", getpid());
  auto signer = make_signer(ztp, dir);
  auto* issuer = &signer.issuer;
  auto ca_id = cloud::broker::certificate_id(signer.ca.certificate.get());
  if (!ca_id) die(ca_id.error().message);

  auto issued_at = Clock::now();
  auto subject = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  if (!subject) die(subject.error().message);
  std::vector<Identity> devices;
  devices.reserve(n);
  for (size_t i = 0; i < n; ++i) devices.push_back(issue_identity(*issuer, subject->get()));
  Identity operator_identity = issue_identity(*issuer, subject->get(), kOperator);
  double issue_s = std::chrono::duration<double>(Clock::now() - issued_at).count();

  // Ours: `ztp cloud run`, the signer registered (`ztp ca register`), the devices in its registry.
  // The MQTT cap is the descriptors left after kSpareDescriptors (its default keeps a quarter
  // for HTTP, which this run does not need).
  LocalCloud cloud =
      start_local_cloud(ztp, dir,
                        std::vector<std::string>{"--mqtt-max-connections",
                                                 std::to_string(soft - kSpareDescriptors + 64),
                                                 "--http-max-connections", "64"});
  std::string env =
      fmt::format("AWS_SHARED_CREDENTIALS_FILE={0}/credentials AWS_CONFIG_FILE={0}/config",
                  (dir / "state").string());
  run_or_die(fmt::format("{} {} ca register --dir {} --endpoint-url http://127.0.0.1:{} >{}", env,
                         ztp.string(), (dir / "pki").string(), cloud.http,
                         (dir / "register.out").string()));
  auto registered_at = Clock::now();
  {
    auto state = cloud::open_cloud_state(dir / "state", "us-east-1");
    if (!state) die(state.error().message);
    register_identities(*state, *ca_id, devices, operator_identity);
  }
  double register_s = std::chrono::duration<double>(Clock::now() - registered_at).count();
  std::string cloud_limits;
  for (std::istringstream lines(read_all(dir / "cloud.out")); std::getline(lines, cloud_limits);)
    if (cloud_limits.rfind("limits ", 0) == 0) break;

  SSL_CTX* ours_tls = client_context(dir / "state/server-ca.crt", dir / "pki/signer-ca.crt");
  double openssl_floor = openssl_kib_per_idle_connection(dir, ours_tls, devices, 1000, false);
  double openssl_released = openssl_kib_per_idle_connection(dir, ours_tls, devices, 1000, true);
  auto ours = run_steps(
      "zerotouch", cloud.process.pid, cloud.process.port, ours_tls, devices, operator_identity,
      steps, [](const std::string& thing) { return "$aws/things/" + thing + "/shadow/update"; },
      [](size_t k) { return fmt::format(R"({{"state":{{"desired":{{"seq":{}}}}}}})", k); });
  stop(cloud.process);

  // Mosquitto: same server certificate, the root + signer as its CA file, no limit on connections.
  ChildProcess mosquitto =
      start_mosquitto(dir, read_all(dir / "pki/root-ca.crt") + read_all(dir / "pki/signer-ca.crt"),
                      "max_connections -1\n");
  auto theirs = run_steps(
      "mosquitto", mosquitto.pid, mosquitto.port, ours_tls, devices, operator_identity, steps,
      [](const std::string& thing) { return delta_topic(thing); },
      [](size_t k) { return fmt::format(R"({{"state":{{"seq":{}}}}})", k); });
  stop(mosquitto);
  SSL_CTX_free(ours_tls);
  std::string log = read_all(dir / "cloud.err");
  if (!getenv("BENCH_KEEP")) fs::remove_all(dir);

  fmt::print(
      "bench_scale: {} devices (mutual TLS P-256, device + signer chain, MQTT 3.1.1, each "
      "subscribed to its shadow's update/delta and update/accepted, QoS 0), {} connecting at once "
      "from {} load threads (epoll, raw OpenSSL), sources over 127.100.0.0/16, {} cores\n",
      n, kWindow, kLoadThreads, std::thread::hardware_concurrency());
  fmt::print("  RLIMIT_NOFILE soft {} hard {} (raised; children inherit it): {} devices fit\n",
             soft, hard, fits);
  fmt::print("  devices issued in {:.1f} s, registered (certificate, thing, policy) in {:.1f} s\n",
             issue_s, register_s);
  fmt::print("  ztp cloud run: {}\n", cloud_limits);
  std::string settings = mosquitto_config(dir, 0) + "max_connections -1\n";
  if (auto at = settings.find("listener 0 "); at != std::string::npos)
    settings.replace(at, 10, "listener <port>");
  for (size_t at = 0, end; (end = settings.find('\n', at)) != std::string::npos; at = end + 1)
    fmt::print("  mosquitto.conf: {}\n", settings.substr(at, end - at));
  fmt::print(
      "  round trip, ours: operator PUBLISH $aws/things/<t>/shadow/update (desired) → shadow "
      "service (durable write) → the device receives .../update/delta\n"
      "  round trip, mosquitto: operator PUBLISH $aws/things/<t>/shadow/update/delta → the device "
      "receives it (forwarding only: Mosquitto has no shadows)\n");
  fmt::print(
      "  CPU ms/c: the broker process's CPU time (/proc/<pid>/stat) while the step's new devices "
      "connected, over their number (less sensitive to a shared machine than conn/s)\n");
  fmt::print("{:>7} {:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "N", "broker",
             "connected", "storm s", "conn/s", "CPU ms/c", "p50 ms", "p99 ms", "KiB/conn",
             "KiB slope", "RT p50 ms");
  auto row = [](const char* name, const StepResult& r) {
    fmt::print(
        "{:>7} {:<10} {:>9} {:>9.1f} {:>9.0f} {:>9.2f} {:>9.1f} {:>9.1f} {:>9.2f} {:>9.2f} "
        "{:>9.2f}\n",
        r.n, name, r.connected, r.storm_s,
        r.storm_s > 0 ? static_cast<double>(r.connected) / r.storm_s : 0, r.cpu_ms_per_connect,
        r.p50_ms, r.p99_ms, r.kib_per_connection, r.kib_slope, r.rt_p50_ms);
    if (r.failed || r.dropped || r.rt_lost)
      fmt::print(
          "        ({} failed, {} dropped after connecting, {} round trips lost; first "
          "failure: {})\n",
          r.failed, r.dropped, r.rt_lost, r.failure);
  };
  for (size_t i = 0; i < std::max(ours.size(), theirs.size()); ++i) {
    if (i < ours.size()) row("zerotouch", ours[i]);
    if (i < theirs.size()) row("mosquitto", theirs[i]);
    if (i < ours.size() && i < theirs.size() && theirs[i].storm_s > 0 && ours[i].storm_s > 0)
      fmt::print(
          "{:>7} {:<10} storm time mosquitto/ours {:.2f}, KiB/conn ours/mosquitto {:.2f}, "
          "RT max ours {:.1f} ms, mosquitto {:.1f} ms\n",
          "", "ratio", theirs[i].storm_s / ours[i].storm_s,
          theirs[i].kib_per_connection > 0
              ? ours[i].kib_per_connection / theirs[i].kib_per_connection
              : 0,
          ours[i].rt_max_ms, theirs[i].rt_max_ms);
  }
  for (size_t n_refused : refused) {
    fmt::print(
        "{:>7} not run: holding {} connections needs RLIMIT_NOFILE >= {} in the broker process "
        "and in the load generator; this box's hard limit is {} (raising it needs "
        "CAP_SYS_RESOURCE, e.g. LimitNOFILE= in a unit or `ulimit -Hn` as root)\n",
        n_refused, n_refused, n_refused + kSpareDescriptors, hard);
  }
  fmt::print(
      "  bound: {} itself keeps {:.1f} KiB of heap per idle mutual-TLS server connection (1,000 "
      "handshakes in process with the broker's settings, server certificate and client chains; "
      "SSL_MODE_RELEASE_BUFFERS): the floor under Mosquitto's KiB/conn; {:.1f} KiB once the "
      "client's certificates are given back after the handshake, as our broker does: the floor "
      "under ours\n",
      OpenSSL_version(OPENSSL_VERSION), openssl_floor, openssl_released);
  for (const auto& r : ours)
    if (r.kib_per_connection > 12)
      fmt::print("  ours at N={}: {:.2f} KiB per idle connection, above the 12 KiB target\n", r.n,
                 r.kib_per_connection);
  if (log.find("error") != std::string::npos || log.find("failed") != std::string::npos)
    fmt::print("(cloud log has errors: BENCH_KEEP=1 keeps {})\n", dir.string());
  return 0;
}
