// The broker over real TLS on 127.0.0.1 (ephemeral port), driven by a blocking OpenSSL client that
// speaks through the mqtt codec: what a client sees for wills to reserved topics, a SUBSCRIBE
// refused for a QoS 2 filter on a persistent session, and backpressure against a client that sends
// PINGREQs without reading (issue 12). The PKI comes from tools/make-test-pki.sh.
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "broker/broker.hpp"
#include "broker/trust.hpp"
#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"

namespace zt::cloud::broker {
namespace {

namespace fs = std::filesystem;

// One client connection; every call blocks (5 s receive timeout, `send_timeout` for writes).
class TlsClient {
 public:
  TlsClient(uint16_t port, const fs::path& pki) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, (pki / "root.crt").c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_use_certificate_chain_file(ctx_, (pki / "device-chain.crt").c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, (pki / "device.key").c_str(), SSL_FILETYPE_PEM);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    ok_ = ok_ && SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool ok() const { return ok_; }
  void set_send_timeout(int seconds) {
    timeval timeout{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  }
  bool write(ByteView bytes) {
    return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }
  bool send(const mqtt::Packet& packet) {
    auto bytes = mqtt::encode_packet(packet);
    return bytes && write(*bytes);
  }
  // The next packet, or nullopt when the server closed the connection (or nothing came in 5 s).
  std::optional<mqtt::Packet> next() {
    while (true) {
      auto packet = decoder_.next();
      if (!packet) return std::nullopt;
      if (*packet) return std::move(**packet);
      uint8_t buffer[16384];
      int count = SSL_read(ssl_, buffer, sizeof buffer);
      if (count <= 0) return std::nullopt;
      decoder_.feed(ByteView(buffer, static_cast<size_t>(count)));
    }
  }
  // CONNECT; the CONNACK, or nullopt when the server hung up instead.
  std::optional<mqtt::Connack> connect(mqtt::Connect connect) {
    connect.keep_alive = 60;
    if (!send(connect)) return std::nullopt;
    auto reply = next();
    if (!reply || !std::holds_alternative<mqtt::Connack>(*reply)) return std::nullopt;
    return std::get<mqtt::Connack>(*reply);
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
  mqtt::StreamDecoder decoder_;
};

class BrokerOverTls : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = fs::temp_directory_path() / ("zt-broker-connection-test-" + std::to_string(::getpid()));
    std::string command = "bash '" + std::string(ZT_SOURCE_DIR) + "/tools/make-test-pki.sh' '" +
                          pki_.string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }
  static void TearDownTestSuite() { fs::remove_all(pki_); }

  void SetUp() override {
    auto authenticator = PemFileAuthenticator::load(pki_ / "inter.crt");
    ASSERT_TRUE(authenticator) << authenticator.error().message;
    BrokerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.certificate_file = pki_ / "server.crt";
    config.key_file = pki_ / "server.key";
    config.threads = 1;
    config.limits.min_connect_interval = std::chrono::milliseconds(0);  // reconnects at once
    broker_ =
        std::make_unique<Broker>(config, *authenticator, std::make_shared<AllowAllAuthorizer>());
    ASSERT_TRUE(broker_->start());
  }
  void TearDown() override { broker_->stop(); }

  std::unique_ptr<TlsClient> client() {
    auto c = std::make_unique<TlsClient>(broker_->port(), pki_);
    EXPECT_TRUE(c->ok());
    return c;
  }

  static inline fs::path pki_;
  std::unique_ptr<Broker> broker_;
};

mqtt::Connect connect_packet(std::string client_id, bool clean = true,
                             std::optional<mqtt::Will> will = std::nullopt) {
  mqtt::Connect connect;
  connect.client_id = std::move(client_id);
  connect.clean_session = clean;
  connect.will = std::move(will);
  return connect;
}

TEST_F(BrokerOverTls, AWillToAReservedTopicRefusesTheConnectWithoutConnack) {
  for (auto [topic, retain] : {std::pair{"$aws/events/presence/connected/x", false},
                               std::pair{"$aws/things/t/shadow/update/documents", false},
                               std::pair{"$aws/things/t/shadow/update", true}}) {
    auto c = client();
    auto connack = c->connect(connect_packet(
        "will-1", true, mqtt::Will{.topic = topic, .payload = {'x'}, .qos = 0, .retain = retain}));
    EXPECT_FALSE(connack) << topic << " retain " << retain;
  }
  // A request topic without RETAIN is a will clients may leave.
  auto c = client();
  EXPECT_TRUE(c->connect(connect_packet(
      "will-2", true, mqtt::Will{.topic = "$aws/things/t/shadow/update", .payload = {'x'}})));
}

TEST_F(BrokerOverTls, ARefusedSubscribeAppliesNoneOfItsFilters) {
  {
    auto c = client();
    ASSERT_TRUE(c->connect(connect_packet("persistent", false)));
    ASSERT_TRUE(c->send(mqtt::Subscribe{
        .packet_id = 1,
        .subscriptions = {{.filter = "t/a", .qos = 1}, {.filter = "t/b", .qos = 2}}}));
    EXPECT_FALSE(c->next());  // aws-iot.md §6.2: no SUBACK, the connection ends
  }
  auto c = client();
  auto connack = c->connect(connect_packet("persistent", false));
  ASSERT_TRUE(connack);
  EXPECT_TRUE(connack->session_present);
  ASSERT_TRUE(
      c->send(mqtt::Subscribe{.packet_id = 2, .subscriptions = {{.filter = "t/c", .qos = 1}}}));
  auto suback = c->next();
  ASSERT_TRUE(suback && std::holds_alternative<mqtt::Suback>(*suback));
  // Published in this order, delivered in order (MQTT 3.1.1 §4.6): had t/a been subscribed, its
  // message would come first.
  auto publisher = client();
  ASSERT_TRUE(publisher->connect(connect_packet("publisher")));
  for (const char* topic : {"t/a", "t/c"}) {
    ASSERT_TRUE(
        publisher->send(mqtt::Publish{.topic = topic, .payload = {'1'}, .qos = 1, .packet_id = 9}));
    ASSERT_TRUE(publisher->next());  // PUBACK
  }
  auto delivered = c->next();
  ASSERT_TRUE(delivered && std::holds_alternative<mqtt::Publish>(*delivered));
  EXPECT_EQ(std::get<mqtt::Publish>(*delivered).topic, "t/c");
}

TEST_F(BrokerOverTls, AClientThatDoesNotReadIsNotReadEither) {
  auto c = client();
  ASSERT_TRUE(c->connect(connect_packet("pinger")));
  // One TLS record of PINGREQs per write: a write that times out leaves an incomplete record the
  // broker cannot decrypt, so every PINGREQ it handled is in a completed write.
  Bytes record(16384);
  for (size_t i = 0; i < record.size(); i += 2) record[i] = 0xC0, record[i + 1] = 0x00;
  c->set_send_timeout(2);
  constexpr size_t kLimit = 128u << 20;
  size_t written = 0;
  while (written < kLimit && c->write(record)) written += record.size();
  // Without backpressure the broker reads all 128 MiB and queues as many PINGRESP bytes.
  EXPECT_LT(written, kLimit);
  EXPECT_GT(written, 1u << 20);  // it did read past the 1 MiB of unsent output first
  // Reading resumes as the client reads: every PINGREQ written gets its PINGRESP.
  size_t pings = written / 2;
  for (size_t i = 0; i < pings; ++i) {
    auto packet = c->next();
    ASSERT_TRUE(packet && std::holds_alternative<mqtt::Pingresp>(*packet)) << i << " of " << pings;
  }
}

}  // namespace
}  // namespace zt::cloud::broker
