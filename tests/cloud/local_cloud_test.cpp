// LocalCloud in-process on ephemeral ports: a SigV4-signed call through the aws client, an MQTT
// CONNECT over mutual TLS with a certificate the cloud issued, and a stop (with a device still
// connected) that leaves neither a listening port nor a thread behind.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <functional>

#include "aws/iot_client.hpp"
#include "cloud/local_cloud.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"

namespace zt::cloud {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using nlohmann::json;

size_t thread_count() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/task")) ++count;
  return count;
}

// Whether a listener can take `port` on 127.0.0.1 now (SO_REUSEADDR, as servers bind).
bool port_is_free(uint16_t port) {
  asio::io_context io;
  tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(endpoint.protocol(), ec);
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  return !ec;
}

// CONNECT over mutual TLS (the server verified against the state's server CA); the CONNACK, or
// nullopt when the broker hung up instead. `while_connected` runs after the CONNACK, before the
// client hangs up.
std::optional<mqtt::Connack> mqtt_connect(uint16_t port, const fs::path& server_ca,
                                          const std::string& certificate_pem,
                                          const std::string& private_key_pem,
                                          const std::string& client_id,
                                          const std::function<void()>& while_connected = {}) {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file(server_ca.string());
  tls.set_verify_mode(asio::ssl::verify_peer);
  tls.use_certificate_chain(asio::buffer(certificate_pem));
  tls.use_private_key(asio::buffer(private_key_pem), asio::ssl::context::pem);
  asio::ssl::stream<tcp::socket> stream(io, tls);
  boost::system::error_code ec;
  stream.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return std::nullopt;
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return std::nullopt;
  mqtt::Connect connect;
  connect.client_id = client_id;
  connect.keep_alive = 60;
  auto bytes = mqtt::encode_packet(connect);
  if (!bytes || !asio::write(stream, asio::buffer(*bytes), ec)) return std::nullopt;
  mqtt::StreamDecoder decoder;
  while (true) {
    auto packet = decoder.next();
    if (!packet) return std::nullopt;
    if (*packet) {
      if (!std::holds_alternative<mqtt::Connack>(**packet)) return std::nullopt;
      if (while_connected) while_connected();
      return std::get<mqtt::Connack>(**packet);
    }
    uint8_t buffer[4096];
    size_t count = stream.read_some(asio::buffer(buffer), ec);
    if (ec) return std::nullopt;
    decoder.feed(ByteView(buffer, count));
  }
}

TEST(LocalCloud, AnswersASignedCallAndAnMqttConnectThenStopsCleanly) {
  fs::path dir = fs::temp_directory_path() / ("zt-local-cloud-" + to_hex(crypto::random_bytes(6)));
  size_t threads_before = thread_count();
  uint16_t http_port = 0;
  uint16_t mqtt_port = 0;
  {
    auto opened =
        LocalCloud::open({.state_dir = dir,
                          .threads = 2,
                          .mqtt = service::CloudServiceOptions{.mqtt_port = 0, .threads = 1},
                          .console = {.web_dir = dir}});
    ASSERT_TRUE(opened) << opened.error().message;
    LocalCloud& cloud = **opened;
    ASSERT_TRUE(cloud.start());
    http_port = cloud.http_endpoint().port();
    ASSERT_TRUE(cloud.mqtt_port());
    mqtt_port = *cloud.mqtt_port();
    EXPECT_NE(http_port, 0);
    EXPECT_NE(mqtt_port, 0);
    EXPECT_FALSE(port_is_free(http_port));
    EXPECT_FALSE(port_is_free(mqtt_port));

    // The control plane, signed with the account's key pair as any AWS client signs.
    const CloudState& state = cloud.state();
    aws::IotClient client({.credentials = {state.access_key_id, state.secret_access_key, ""},
                           .region = state.region,
                           .endpoint_url = cloud.api_url(),
                           .profile = ""});
    auto endpoint = client.describe_endpoint("iot:Data-ATS");
    ASSERT_TRUE(endpoint) << endpoint.error().message;
    EXPECT_EQ(*endpoint, state.endpoint_address());
    auto keys = client.call("POST", "/keys-and-certificate", "setAsActive=true");
    ASSERT_TRUE(keys) << keys.error().message;
    json policy = {{"policyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                                      R"("Action":"iot:Connect","Resource":"*"}]})"}};
    ASSERT_TRUE(client.call("POST", "/policies/ConnectOnly", {}, &policy));
    json target = {{"target", (*keys)["certificateArn"]}};
    ASSERT_TRUE(client.call("PUT", "/target-policies/ConnectOnly", {}, &target));

    // The data plane: the certificate the cloud issued connects; the broker accepts it.
    auto connack = mqtt_connect(
        mqtt_port, state.dir / "server-ca.crt", (*keys)["certificatePem"].get<std::string>(),
        (*keys)["keyPair"]["PrivateKey"].get<std::string>(), "local-cloud-test");
    ASSERT_TRUE(connack);
    EXPECT_EQ(connack->return_code, mqtt::ConnectReturnCode::accepted);

    // The cloud stops while a device is still connected (as `ztp cloud run` does on SIGTERM with
    // a fleet online): it still gives back its ports and threads.
    auto second = mqtt_connect(mqtt_port, state.dir / "server-ca.crt",
                               (*keys)["certificatePem"].get<std::string>(),
                               (*keys)["keyPair"]["PrivateKey"].get<std::string>(),
                               "local-cloud-test-2", [&] { cloud.stop(); });
    ASSERT_TRUE(second);
    EXPECT_EQ(second->return_code, mqtt::ConnectReturnCode::accepted);
    EXPECT_TRUE(port_is_free(http_port));
    EXPECT_TRUE(port_is_free(mqtt_port));
  }
  EXPECT_EQ(thread_count(), threads_before);
  fs::remove_all(dir);
}

TEST(LocalCloud, ControlPlaneOnlyHasNoBroker) {
  fs::path dir = fs::temp_directory_path() / ("zt-local-cloud-" + to_hex(crypto::random_bytes(6)));
  {
    auto opened =
        LocalCloud::open({.state_dir = dir, .threads = 1, .mqtt = std::nullopt, .console = {}});
    ASSERT_TRUE(opened) << opened.error().message;
    ASSERT_TRUE((*opened)->start());
    EXPECT_EQ((*opened)->service(), nullptr);
    EXPECT_FALSE((*opened)->mqtt_port());
    EXPECT_EQ((*opened)->api_url(),
              "http://127.0.0.1:" + std::to_string((*opened)->http_endpoint().port()));
  }  // the destructor stops it
  fs::remove_all(dir);
}

TEST(LocalCloud, RefusesAnInvalidEndpointDomain) {
  fs::path dir = fs::temp_directory_path() / ("zt-local-cloud-" + to_hex(crypto::random_bytes(6)));
  auto opened = LocalCloud::open({.state_dir = dir, .endpoint_domain = "not a domain"});
  EXPECT_FALSE(opened);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zt::cloud
