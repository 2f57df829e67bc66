// The web console through ApiServer::handle (the hook before SigV4), no network: static files,
// login with the local keys, login links (SigV4-signed, one-time), the session and CSRF guards,
// kit attachment and the device API's input checks.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "aws/sigv4.hpp"
#include "cli/kit_link.hpp"
#include "cloud/api/server.hpp"
#include "cloud/console/server.hpp"
#include "cloud/registry/registry.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "support/temp_dir.hpp"

namespace zt::cloud::console {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::optional<std::string> header_of(const api::Reply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "web/assets");
    std::ofstream(dir_ / "web/index.html") << "<!doctype html><title>console</title>";
    std::ofstream(dir_ / "web/assets/app.js") << "console.log(1)";
    std::ofstream(dir_ / "registry-copy.txt") << "not served";
    registry_ = std::move(*registry::Registry::open(dir_ / "registry.db"));
    ASSERT_TRUE(registry_->add_access_key("AKIDCONSOLE", "console-secret"));
    ASSERT_TRUE(registry_->insert_thing({.name = "thing1", .id = "id1", .attributes = "{}"}));
    context_ =
        std::make_unique<api::ServiceContext>(api::ServiceContext{.registry = *registry_,
                                                                  .account_id = "123456789012",
                                                                  .region = "us-east-1",
                                                                  .endpoint_prefix = "test"});
    server_ = std::make_unique<api::ApiServer>(io_, *context_, api::make_control_plane_router(),
                                               api::ServerOptions{});
    console_ = std::make_shared<ConsoleServer>(
        *context_, nullptr,
        ConsoleOptions{.web_dir = dir_ / "web",
                       .kit_link = std::make_shared<cli::EmulatedKitLink>()});
    server_->set_hook(console_);
  }
  void TearDown() override {
    server_.reset();
    console_.reset();
    registry_.reset();
  }

  api::Reply call(std::string method, std::string target, std::string body = "",
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    aws::HttpRequest r{
        std::move(method), std::move(target), {{"Host", "127.0.0.1:4580"}}, std::move(body)};
    for (auto& h : headers) r.headers.push_back(std::move(h));
    return server_->handle(r);
  }
  api::Reply signed_call(std::string method, std::string target, std::string body,
                         const std::string& secret = "console-secret") {
    aws::HttpRequest r{
        std::move(method), std::move(target), {{"Host", "127.0.0.1:4580"}}, std::move(body)};
    EXPECT_TRUE(aws::sign_request(r, {"AKIDCONSOLE", secret, ""},
                                  {.region = "us-east-1", .service = "iot"}));
    return server_->handle(r);
  }
  // Logs in; returns the Cookie header value.
  std::string login() {
    auto reply = call("POST", "/console/api/login",
                      R"({"accessKeyId":"AKIDCONSOLE","secretAccessKey":"console-secret"})",
                      {{"X-ZT-Console", "1"}});
    EXPECT_EQ(reply.status, 200) << reply.body;
    auto cookie = header_of(reply, "Set-Cookie");
    EXPECT_TRUE(cookie);
    return cookie ? cookie->substr(0, cookie->find(';')) : "";
  }

  zt::testing::TempDir temp_{"console"};
  const fs::path& dir_ = temp_.path();
  boost::asio::io_context io_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<api::ServiceContext> context_;
  std::unique_ptr<api::ApiServer> server_;
  std::shared_ptr<ConsoleServer> console_;
};

TEST_F(ConsoleServerTest, ServesTheShellAndAssetsWithoutLoginButNothingElse) {
  auto index = call("GET", "/console/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>console</title>");
  EXPECT_EQ(header_of(index, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(header_of(index, "Content-Security-Policy"));
  auto js = call("GET", "/console/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(header_of(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(call("GET", "/console").status, 302);
  for (const char* bad :
       {"/console/assets/../../registry-copy.txt", "/console/assets/%2e%2e/x",
        "/console/../registry-copy.txt", "/console/registry.db", "/console/assets/missing.js"}) {
    EXPECT_EQ(call("GET", bad).status, 404) << bad;
  }
  EXPECT_EQ(call("POST", "/console/").status, 405);
}

TEST_F(ConsoleServerTest, ApiNeedsASessionAndLoginNeedsTheLocalKeys) {
  EXPECT_EQ(call("GET", "/console/api/devices/thing1").status, 401);
  EXPECT_EQ(call("GET", "/console/api/stream?thing=thing1").status, 401);
  EXPECT_EQ(call("GET", "/console/api/devices/thing1", "",
                 {{"Cookie", "zt_console=" + std::string(64, 'a')}})
                .status,
            401);
  auto wrong =
      call("POST", "/console/api/login",
           R"({"accessKeyId":"AKIDCONSOLE","secretAccessKey":"wrong"})", {{"X-ZT-Console", "1"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_FALSE(header_of(wrong, "Set-Cookie"));
  EXPECT_NE(json::parse(wrong.body)["message"].get<std::string>().find("wrong"), std::string::npos);
  EXPECT_EQ(call("POST", "/console/api/login",
                 R"({"accessKeyId":"NOSUCHKEY","secretAccessKey":"console-secret"})",
                 {{"X-ZT-Console", "1"}})
                .status,
            401);
  EXPECT_EQ(call("POST", "/console/api/login", "{}", {{"X-ZT-Console", "1"}}).status, 400);
  // Login is state-changing too: without the CSRF header a cross-site form cannot log a victim in.
  EXPECT_EQ(call("POST", "/console/api/login",
                 R"({"accessKeyId":"AKIDCONSOLE","secretAccessKey":"console-secret"})")
                .status,
            403);

  std::string cookie = login();
  auto device = call("GET", "/console/api/devices/thing1", "", {{"Cookie", cookie}});
  EXPECT_EQ(device.status, 200) << device.body;
  auto body = json::parse(device.body);
  EXPECT_EQ(body["thingName"], "thing1");
  EXPECT_EQ(body["connected"], false);
  EXPECT_TRUE(body["kit"].is_null());
  EXPECT_EQ(call("GET", "/console/api/devices/nosuch", "", {{"Cookie", cookie}}).status, 404);
  EXPECT_EQ(call("GET", "/console/api/nosuch", "", {{"Cookie", cookie}}).status, 404);

  // Logout ends the session.
  EXPECT_EQ(
      call("POST", "/console/api/logout", "", {{"Cookie", cookie}, {"X-ZT-Console", "1"}}).status,
      200);
  EXPECT_EQ(call("GET", "/console/api/devices/thing1", "", {{"Cookie", cookie}}).status, 401);
}

TEST_F(ConsoleServerTest, StateChangesNeedTheCsrfHeader) {
  std::string cookie = login();
  auto refused =
      call("POST", "/console/api/devices/thing1/desired", R"({"led2":"on"})", {{"Cookie", cookie}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("X-ZT-Console"), std::string::npos);
  EXPECT_EQ(
      call("POST", "/console/api/devices/thing1/press", R"({"button":3})", {{"Cookie", cookie}})
          .status,
      403);
  // With the header the request reaches the handler: no data plane in this test → 503; bad
  // bodies → 400 before that.
  std::vector<std::pair<std::string, std::string>> headers{{"Cookie", cookie},
                                                           {"X-ZT-Console", "1"}};
  EXPECT_EQ(call("POST", "/console/api/devices/thing1/desired", R"({"led2":"on"})", headers).status,
            503);
  EXPECT_EQ(call("POST", "/console/api/devices/thing1/press", R"({"button":7})", headers).status,
            400);
  EXPECT_EQ(call("POST", "/console/api/devices/thing1/press", R"({"button":3})", headers).status,
            404);  // no kit attached
}

TEST_F(ConsoleServerTest, LoginLinksAreSigV4SignedAndOneTime) {
  EXPECT_EQ(call("POST", "/console/api/login-links", "{}").status, 403);  // unsigned
  EXPECT_EQ(signed_call("POST", "/console/api/login-links", "{}", "bad-secret").status, 403);
  auto created =
      signed_call("POST", "/console/api/login-links", R"({"next":"/console/#/device/thing1"})");
  ASSERT_EQ(created.status, 200) << created.body;
  auto link = json::parse(created.body);
  std::string token = link["token"];
  EXPECT_EQ(link["url"], "http://127.0.0.1:4580/console/login?token=" + token +
                             "&next=/console/%23/device/thing1");
  EXPECT_EQ(signed_call("POST", "/console/api/login-links", R"({"next":"https://evil/"})").status,
            400);

  auto redeemed = call("GET", "/console/login?token=" + token + "&next=/console/%23/device/thing1");
  EXPECT_EQ(redeemed.status, 302);
  EXPECT_EQ(header_of(redeemed, "Location"), "/console/#/device/thing1");
  auto cookie = header_of(redeemed, "Set-Cookie");
  ASSERT_TRUE(cookie);
  std::string session = cookie->substr(0, cookie->find(';'));
  EXPECT_EQ(call("GET", "/console/api/devices/thing1", "", {{"Cookie", session}}).status, 200);
  // Second use, or a made-up token: refused, no cookie.
  auto again = call("GET", "/console/login?token=" + token);
  EXPECT_EQ(again.status, 401);
  EXPECT_FALSE(header_of(again, "Set-Cookie"));
  EXPECT_EQ(call("GET", "/console/login?token=" + std::string(64, '0')).status, 401);
  // An unsafe next falls back to the console's root.
  token = json::parse(signed_call("POST", "/console/api/login-links", "{}").body)["token"];
  auto fallback = call("GET", "/console/login?token=" + token + "&next=https://evil.example/");
  EXPECT_EQ(header_of(fallback, "Location"), "/console/");
}

TEST_F(ConsoleServerTest, KitsAreAttachedBySignedCallsOnly) {
  json kit = {{"thingName", "thing1"}, {"controlSocket", (dir_ / "kit/control.sock").string()}};
  EXPECT_EQ(call("POST", "/console/api/kits", kit.dump()).status, 403);
  EXPECT_EQ(signed_call("POST", "/console/api/kits", R"({"thingName":"thing1"})").status, 400);
  EXPECT_EQ(signed_call("POST", "/console/api/kits",
                        R"({"thingName":"thing1","controlSocket":"relative/control.sock"})")
                .status,
            400);
  EXPECT_EQ(signed_call("POST", "/console/api/kits", kit.dump()).status, 200);
  std::string cookie = login();
  auto device =
      json::parse(call("GET", "/console/api/devices/thing1", "", {{"Cookie", cookie}}).body);
  EXPECT_EQ(device["kit"]["controlSocket"], kit["controlSocket"]);
  // The kit is not running: the board call says so instead of hanging.
  auto board = call("GET", "/console/api/devices/thing1/board", "", {{"Cookie", cookie}});
  EXPECT_EQ(board.status, 502);
  EXPECT_NE(board.body.find("control socket"), std::string::npos);
}

TEST_F(ConsoleServerTest, WithoutAKitLinkKitsAreAttachedButNotReached) {
  // The console does not know the kit: `ztp cloud run` passes the link (cli/kit_link.hpp).
  console_ =
      std::make_shared<ConsoleServer>(*context_, nullptr, ConsoleOptions{.web_dir = dir_ / "web"});
  server_->set_hook(console_);
  json kit = {{"thingName", "thing1"}, {"controlSocket", (dir_ / "kit/control.sock").string()}};
  EXPECT_EQ(signed_call("POST", "/console/api/kits", kit.dump()).status, 200);
  std::string cookie = login();
  auto board = call("GET", "/console/api/devices/thing1/board", "", {{"Cookie", cookie}});
  EXPECT_EQ(board.status, 502);
  EXPECT_NE(board.body.find("no link to kits"), std::string::npos);
  auto press = call("POST", "/console/api/devices/thing1/press", R"({"button":1})",
                    {{"Cookie", cookie}, {"X-ZT-Console", "1"}});
  EXPECT_EQ(press.status, 502);
}

TEST_F(ConsoleServerTest, ControlPlanePathsStillNeedSigV4) {
  EXPECT_EQ(call("GET", "/things").status, 403);
  EXPECT_EQ(signed_call("GET", "/things", "").status, 200);
}

}  // namespace
}  // namespace zt::cloud::console
