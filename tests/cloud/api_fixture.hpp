// The control-plane test fixture: an ApiServer over a fresh registry, called through
// ApiServer::handle with SigV4-signed requests (no network). Shared by api_*_test.cpp.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "aws/sigv4.hpp"
#include "cloud/api/server.hpp"
#include "cloud/local_ca.hpp"
#include "cloud/registry/registry.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud::api::testing {

using nlohmann::json;

struct Ca {
  crypto::PkeyPtr key;
  crypto::X509Ptr cert;
  std::string pem;
  std::string id;
};

inline Ca make_cert(const std::string& cn, bool is_ca, const Ca* issuer,
                    int64_t not_after_offset = 86400) {
  Ca out;
  out.key = *crypto::generate_p256_key();
  int64_t now = unix_now();
  out.cert = *issue_certificate({.subject = {{"CN", cn}},
                                 .is_ca = is_ca,
                                 .not_before = now - 60,
                                 .not_after = now + not_after_offset},
                                out.key.get(), issuer ? issuer->cert.get() : nullptr,
                                issuer ? issuer->key.get() : out.key.get());
  out.pem = *crypto::certificate_to_pem(out.cert.get());
  out.id = to_hex(crypto::sha256(*crypto::certificate_to_der(out.cert.get())));
  return out;
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("zt-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    registry_ = std::move(*registry::Registry::open(dir_ / "registry.db"));
    ASSERT_TRUE(registry_->add_access_key("AKIDTEST", "secret-key"));
    issuer_ = make_cert("issuer", true, nullptr, 86400 * 365);
    context_ = std::make_unique<ServiceContext>(ServiceContext{.registry = *registry_,
                                                               .account_id = "123456789012",
                                                               .region = "us-east-1",
                                                               .endpoint_prefix = "abc",
                                                               .issuer_cert = issuer_.cert.get(),
                                                               .issuer_key = issuer_.key.get()});
    server_ =
        std::make_unique<ApiServer>(io_, *context_, make_control_plane_router(), ServerOptions{});
  }
  void TearDown() override {
    server_.reset();
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }

  aws::HttpRequest request(std::string method, std::string target, std::string body = "",
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    aws::HttpRequest r{
        std::move(method), std::move(target), {{"Host", "127.0.0.1:4580"}}, std::move(body)};
    for (auto& h : headers) r.headers.push_back(std::move(h));
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }
  Reply call(std::string method, std::string target, std::string body = "",
             std::vector<std::pair<std::string, std::string>> headers = {},
             std::string service = "iot") {
    auto r = request(std::move(method), std::move(target), std::move(body), std::move(headers));
    EXPECT_TRUE(aws::sign_request(r, {"AKIDTEST", "secret-key", ""},
                                  {.region = "us-east-1", .service = service}));
    return server_->handle(r);
  }
  static std::string error_type(const Reply& reply) {
    for (const auto& [k, v] : reply.headers) {
      if (k == "x-amzn-ErrorType") return v;
    }
    return "";
  }
  // The id as the vendor's script extracts it: re.search('ID:([0-9a-zA-Z]+)', message).
  static std::string vendor_id_from_message(const Reply& reply) {
    std::smatch match;
    std::string message = json::parse(reply.body)["message"];
    if (!std::regex_search(message, match, std::regex("ID:([0-9a-zA-Z]+)"))) return "";
    return match[1];
  }
  std::string registration_code() {
    return json::parse(call("GET", "/registrationcode").body)["registrationCode"];
  }
  Reply register_ca(const Ca& ca, const std::string& verification_pem,
                    const std::string& query = "") {
    json body = {{"caCertificate", ca.pem}, {"verificationCertificate", verification_pem}};
    return call("POST", "/cacertificate" + query, body.dump());
  }

  std::filesystem::path dir_;
  std::unique_ptr<registry::Registry> registry_;
  Ca issuer_;
  std::unique_ptr<ServiceContext> context_;
  boost::asio::io_context io_;
  std::unique_ptr<ApiServer> server_;
};

}  // namespace zt::cloud::api::testing
