// A blocking OpenSSL MQTT client that speaks through the mqtt codec (3.1.1 or 5), and a fixture
// that runs the broker over real TLS on 127.0.0.1 (ephemeral port) with the PKI of
// tools/make-test-pki.sh. Shared by the broker's process-level tests.
#pragma once

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "broker/broker.hpp"
#include "broker/trust.hpp"
#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"

namespace zt::cloud::broker::testing_support {

namespace fs = std::filesystem;

// A TCP connection to 127.0.0.1:`port` (its descriptor), or -1.
inline int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0)
    return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// One client connection; every call blocks (5 s receive timeout, `send_timeout` for writes).
class TlsClient {
 public:
  // `max_version`: e.g. TLS1_2_VERSION to speak TLS 1.2 (0: the highest both support);
  // `device`: the PKI's device files (<device>-chain.crt, <device>.key); `ciphers`: the TLS 1.2
  // cipher list ("": OpenSSL's default).
  TlsClient(uint16_t port, const fs::path& pki, int max_version = 0,
            const std::string& device = "device", const std::string& ciphers = "") {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_, max_version);
    if (!ciphers.empty()) SSL_CTX_set_cipher_list(ctx_, ciphers.c_str());
    SSL_CTX_load_verify_locations(ctx_, (pki / "root.crt").c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_use_certificate_chain_file(ctx_, (pki / (device + "-chain.crt")).c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, (pki / (device + ".key")).c_str(), SSL_FILETYPE_PEM);
    fd_ = connect_loopback(port);
    ok_ = fd_ >= 0;
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
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
  int version() const { return SSL_version(ssl_); }
  std::string cipher() const { return SSL_get_cipher_name(ssl_); }
  // TLS 1.3: new traffic keys, the server asked to update its own too (RFC 8446 §4.6.3); the
  // KeyUpdate goes out with the next write.
  bool key_update() { return SSL_key_update(ssl_, SSL_KEY_UPDATE_REQUESTED) == 1; }
  void set_send_timeout(int seconds) {
    timeval timeout{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  }
  bool write(ByteView bytes) {
    return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }
  bool send(const mqtt::Packet& packet) {
    auto bytes = mqtt::encode_packet(packet, decoder_.protocol_level());
    return bytes && write(*bytes);
  }
  // MQTT 5 from now on (call before connect() for a version 5 session).
  void use_mqtt5() { decoder_.set_protocol_level(mqtt::kProtocolLevel5); }
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
    if (decoder_.protocol_level() == mqtt::kProtocolLevel5)
      connect.protocol_level = mqtt::kProtocolLevel5;
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

class BrokerOverTls : public ::testing::Test {
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
    tune(config);
    broker_ = std::make_unique<Broker>(config, wrap(*authenticator), authorizer());
    ASSERT_TRUE(broker_->start());
  }
  void TearDown() override { broker_->stop(); }
  virtual void tune(BrokerConfig& /*config*/) {}
  // The authenticator the broker uses, around the PKI's (a test's own decisions).
  virtual std::shared_ptr<Authenticator> wrap(std::shared_ptr<Authenticator> pki) { return pki; }
  virtual std::shared_ptr<Authorizer> authorizer() {
    return std::make_shared<AllowAllAuthorizer>();
  }

  std::unique_ptr<TlsClient> client(int max_version = 0, const std::string& device = "device") {
    auto c = std::make_unique<TlsClient>(broker_->port(), pki_, max_version, device);
    EXPECT_TRUE(c->ok());
    return c;
  }

  static inline fs::path pki_;
  std::unique_ptr<Broker> broker_;
};

inline mqtt::Connect connect_packet(std::string client_id, bool clean = true,
                                    std::optional<mqtt::Will> will = std::nullopt) {
  mqtt::Connect connect;
  connect.client_id = std::move(client_id);
  connect.clean_session = clean;
  connect.will = std::move(will);
  return connect;
}

}  // namespace zt::cloud::broker::testing_support
