// The broker over real TLS on 127.0.0.1 (ephemeral port), driven by a blocking OpenSSL client that
// speaks through the mqtt codec: what a client sees for wills to reserved topics, a SUBSCRIBE
// refused for a QoS 2 filter on a persistent session, and backpressure against a client that sends
// PINGREQs without reading (issue 12); an Authenticator's deferred decision, which blocks off the
// network thread, and the count of connections in their handshake that places new ones (issue 19).
// The PKI comes from tools/make-test-pki.sh.
#include <signal.h>

#include <condition_variable>
#include <future>
#include <thread>

#include "tls_client.hpp"

namespace zt::cloud::broker {
namespace {

using namespace testing_support;

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

// Once authenticated, a connection gives OpenSSL's copies of the client's certificates back
// (TlsStream::release_peer_certificates swaps in a session without them): it must go on reading
// and writing on TLS 1.2 and 1.3, through TLS 1.3 key updates in both directions.
TEST_F(BrokerOverTls, AConnectionWithoutItsPeerCertificatesStillTalksBothWays) {
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version);
    auto subscriber = client(version);
    ASSERT_EQ(subscriber->version(), version);
    ASSERT_TRUE(subscriber->connect(connect_packet("idle-subscriber")));
    ASSERT_TRUE(subscriber->send(
        mqtt::Subscribe{.packet_id = 1, .subscriptions = {{.filter = "idle/t", .qos = 1}}}));
    auto suback = subscriber->next();
    ASSERT_TRUE(suback && std::holds_alternative<mqtt::Suback>(*suback));
    auto publisher = client(version);
    ASSERT_TRUE(publisher->connect(connect_packet("idle-publisher")));
    for (uint16_t round = 1; round <= 2; ++round) {
      if (version == TLS1_3_VERSION) {
        ASSERT_TRUE(subscriber->key_update());
        ASSERT_TRUE(publisher->key_update());
      }
      ASSERT_TRUE(subscriber->send(mqtt::Pingreq{}));
      auto pong = subscriber->next();
      ASSERT_TRUE(pong && std::holds_alternative<mqtt::Pingresp>(*pong));
      Bytes payload(3000, static_cast<uint8_t>('a' + round));
      ASSERT_TRUE(publisher->send(
          mqtt::Publish{.topic = "idle/t", .payload = payload, .qos = 1, .packet_id = round}));
      auto puback = publisher->next();
      ASSERT_TRUE(puback && std::holds_alternative<mqtt::Puback>(*puback));
      auto delivered = subscriber->next();
      ASSERT_TRUE(delivered && std::holds_alternative<mqtt::Publish>(*delivered));
      EXPECT_EQ(std::get<mqtt::Publish>(*delivered).payload, payload);
      auto& publish = std::get<mqtt::Publish>(*delivered);
      if (publish.qos == 1) {
        ASSERT_TRUE(subscriber->send(mqtt::Puback{.packet_id = publish.packet_id}));
      }
    }
  }
}

// The broker's contexts decode certificates in crypto::tls_library_context(), which keeps only what
// a handshake needs: a device with an RSA certificate (AWS IoT accepts RSA and ECC) connects over
// TLS 1.3 and over TLS 1.2 with a CBC suite, whose record MAC is an HMAC key of that context; a
// device whose certificate another CA signed is still refused.
TEST_F(BrokerOverTls, AnRsaDeviceConnectsOverTls13AndOverTls12WithACbcSuite) {
  struct Case {
    int version;
    std::string ciphers;
  };
  for (const auto& [version, ciphers] :
       {Case{TLS1_3_VERSION, ""}, Case{TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA256"}}) {
    SCOPED_TRACE(version);
    TlsClient device(broker_->port(), pki_, version, "rsa-device", ciphers);
    ASSERT_TRUE(device.ok());
    EXPECT_EQ(device.version(), version);
    if (!ciphers.empty()) {
      EXPECT_EQ(device.cipher(), ciphers);
    }
    auto connack = device.connect(connect_packet("rsa-device"));
    ASSERT_TRUE(connack);
    EXPECT_EQ(connack->return_code, mqtt::ConnectReturnCode::accepted);
    ASSERT_TRUE(device.send(
        mqtt::Publish{.topic = "rsa/t", .payload = Bytes(100, 'r'), .qos = 1, .packet_id = 7}));
    auto puback = device.next();
    ASSERT_TRUE(puback && std::holds_alternative<mqtt::Puback>(*puback));
  }
  TlsClient rogue(broker_->port(), pki_, 0, "rogue-device");
  auto refused = rogue.ok() ? rogue.connect(connect_packet("rogue")) : std::nullopt;
  EXPECT_FALSE(refused);
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

// A client that hangs up while the broker still has output for it: OpenSSL's write(2) then raises
// SIGPIPE, whose default action killed a whole test process (seen under ASan). Constructing a
// Broker ignores SIGPIPE in a program that left it at its default, keeps a program's own handler,
// and the broker goes on serving after the hang-up.
void count_sigpipe(int) {}

TEST_F(BrokerOverTls, AClientThatHangsUpMidWriteDoesNotKillTheProcess) {
  auto disposition = [] {
    struct sigaction current {};
    ::sigaction(SIGPIPE, nullptr, &current);
    return current.sa_handler;
  };
  auto make_broker = [] {
    return std::make_unique<Broker>(BrokerConfig{}, std::shared_ptr<Authenticator>{},
                                    std::make_shared<AllowAllAuthorizer>());
  };
  ::signal(SIGPIPE, count_sigpipe);
  make_broker();
  EXPECT_EQ(disposition(), &count_sigpipe);  // the program's handler stays
  ::signal(SIGPIPE, SIG_DFL);
  make_broker();
  EXPECT_EQ(disposition(), SIG_IGN);

  {
    auto c = client();
    ASSERT_TRUE(c->connect(connect_packet("hangs-up")));
    Bytes pings(1 << 16);
    for (size_t i = 0; i < pings.size(); i += 2) pings[i] = 0xC0, pings[i + 1] = 0x00;
    for (int i = 0; i < 16; ++i) ASSERT_TRUE(c->write(pings));
  }  // closed with PINGRESPs unread: the broker's next writes meet a reset connection
  auto other = client();
  ASSERT_TRUE(other->connect(connect_packet("still-served")));
  ASSERT_TRUE(other->send(mqtt::Pingreq{}));
  auto answer = other->next();
  EXPECT_TRUE(answer && std::holds_alternative<mqtt::Pingresp>(*answer));
}

// The PKI's decisions, except that the RSA device's is deferred and waits behind a gate the test
// opens: a registration that blocks on its fsync, as the cloud's JITR does.
class GatedAuthenticator : public Authenticator {
 public:
  explicit GatedAuthenticator(std::shared_ptr<Authenticator> inner) : inner_(std::move(inner)) {}
  crypto::UniquePtr<X509_STORE> trust_store() override { return inner_->trust_store(); }
  AuthDecision authenticate(const PeerCertificate& peer) override {
    AuthDecision decision = inner_->authenticate(peer);
    if (EVP_PKEY_get_base_id(X509_get0_pubkey(peer.certificate.get())) != EVP_PKEY_RSA)
      return decision;
    network_thread_ = std::this_thread::get_id();
    return AuthDecision{.outcome = AuthOutcome::deferred, .deferred = [this, decision] {
                          std::unique_lock lock(mutex_);
                          deferred_thread_ = std::this_thread::get_id();
                          entered_ = true;
                          changed_.notify_all();
                          changed_.wait_for(lock, std::chrono::seconds(10), [&] { return open_; });
                          return decision;
                        }};
  }
  bool wait_entered() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return entered_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool ran_elsewhere() {
    std::lock_guard lock(mutex_);
    return deferred_thread_ != std::thread::id{} && deferred_thread_ != network_thread_;
  }

 private:
  std::shared_ptr<Authenticator> inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool open_ = false;
  std::thread::id network_thread_, deferred_thread_;
};

class BrokerWithDeferredDecisions : public BrokerOverTls {
 protected:
  std::shared_ptr<Authenticator> wrap(std::shared_ptr<Authenticator> pki) override {
    gate_ = std::make_shared<GatedAuthenticator>(std::move(pki));
    return gate_;
  }
  std::shared_ptr<GatedAuthenticator> gate_;
};

TEST_F(BrokerWithDeferredDecisions, ADeferredDecisionDoesNotHoldUpOtherHandshakes) {
  // One network thread (the fixture's): had the blocked decision run on it, no other device could
  // finish a handshake until the gate opened.
  auto waiting = client(0, "rsa-device");
  std::future<std::optional<mqtt::Connack>> first = std::async(std::launch::async, [&] {
    return waiting->connect(connect_packet("waits-for-its-decision"));
  });
  ASSERT_TRUE(gate_->wait_entered());
  auto other = client();
  auto connack = other->connect(connect_packet("decided-at-once"));
  ASSERT_TRUE(connack);
  EXPECT_EQ(connack->return_code, mqtt::ConnectReturnCode::accepted);
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);

  gate_->open();
  auto decided = first.get();
  ASSERT_TRUE(decided);
  EXPECT_EQ(decided->return_code, mqtt::ConnectReturnCode::accepted);
  EXPECT_TRUE(gate_->ran_elsewhere());
}

TEST_F(BrokerOverTls, CountsConnectionsInTheirHandshakeUntilConnectOnly) {
  auto settles = [&](size_t expected) {
    for (int i = 0; i < 500 && broker_->connections_in_handshake() != expected; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return broker_->connections_in_handshake() == expected;
  };
  // A TCP connection that never starts its handshake counts until it goes.
  int silent = connect_loopback(broker_->port());
  ASSERT_GE(silent, 0);
  EXPECT_TRUE(settles(1));
  {
    auto connected = client();
    ASSERT_TRUE(connected->connect(connect_packet("past-its-connect")));
    EXPECT_TRUE(settles(1));  // a connected client no longer counts
    // An untrusted chain: the server fails the handshake (TLS 1.3: after the client's Finished).
    TlsClient rogue(broker_->port(), pki_, 0, "rogue-device");
    EXPECT_FALSE(rogue.connect(connect_packet("rogue")));
  }
  ::close(silent);
  EXPECT_TRUE(settles(0));
}

}  // namespace
}  // namespace zt::cloud::broker
