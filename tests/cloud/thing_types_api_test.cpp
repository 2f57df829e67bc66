// DeleteThingType's five minutes after DeprecateThingType (developer guide, "Thing types"), with
// the ServiceContext's clock faked: refused at 4:59, accepted at 5:00; and refused while a thing
// still has the type.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "aws/sigv4.hpp"
#include "cloud/api/server.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

class ThingTypesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("zt-thing-types-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    registry_ = std::move(*registry::Registry::open(dir_ / "registry.db"));
    ASSERT_TRUE(registry_->add_access_key("AKIDTEST", "secret-key"));
    context_ = std::make_unique<ServiceContext>(ServiceContext{.registry = *registry_,
                                                               .account_id = "123456789012",
                                                               .region = "us-east-1",
                                                               .endpoint_prefix = "abc"});
    context_->now = [this] { return clock_; };
    server_ =
        std::make_unique<ApiServer>(io_, *context_, make_control_plane_router(), ServerOptions{});
  }
  void TearDown() override {
    server_.reset();
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }
  Reply call(std::string method, std::string target, std::string body = "") {
    aws::HttpRequest r{
        std::move(method), std::move(target), {{"Host", "127.0.0.1:4580"}}, std::move(body)};
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    EXPECT_TRUE(aws::sign_request(r, {"AKIDTEST", "secret-key", ""},
                                  {.region = "us-east-1", .service = "iot"}));
    return server_->handle(r);
  }
  static std::string error_type(const Reply& reply) {
    for (const auto& [k, v] : reply.headers) {
      if (k == "x-amzn-ErrorType") return v;
    }
    return "";
  }

  double clock_ = 1'800'000'000;
  std::filesystem::path dir_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<ServiceContext> context_;
  boost::asio::io_context io_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ThingTypesApiTest, DeleteWaitsFiveMinutesAfterDeprecation) {
  ASSERT_EQ(call("POST", "/thing-types/valve").status, 200);
  Reply early = call("DELETE", "/thing-types/valve");
  EXPECT_EQ(early.status, 400);
  EXPECT_EQ(error_type(early), "InvalidRequestException");
  ASSERT_EQ(call("POST", "/thing-types/valve/deprecate", "{}").status, 200);
  auto described = json::parse(call("GET", "/thing-types/valve").body);
  EXPECT_EQ(described["thingTypeMetadata"]["deprecationDate"], clock_);
  clock_ += 299;
  EXPECT_EQ(error_type(call("DELETE", "/thing-types/valve")), "InvalidRequestException");
  clock_ += 1;
  EXPECT_EQ(call("DELETE", "/thing-types/valve").status, 200);
  EXPECT_EQ(error_type(call("GET", "/thing-types/valve")), "ResourceNotFoundException");
}

TEST_F(ThingTypesApiTest, UndoDeprecateRestartsTheWaitAndThingsKeepTheirType) {
  ASSERT_EQ(call("POST", "/thing-types/cam").status, 200);
  ASSERT_EQ(call("POST", "/things/cam1", R"({"thingTypeName":"cam"})").status, 200);
  ASSERT_EQ(call("POST", "/thing-types/cam/deprecate", "{}").status, 200);
  clock_ += 600;
  // Still the type of cam1: refused.
  EXPECT_EQ(error_type(call("DELETE", "/thing-types/cam")), "InvalidRequestException");
  ASSERT_EQ(call("DELETE", "/things/cam1").status, 200);
  ASSERT_EQ(call("POST", "/thing-types/cam/deprecate", R"({"undoDeprecate":true})").status, 200);
  EXPECT_EQ(error_type(call("DELETE", "/thing-types/cam")), "InvalidRequestException");
  ASSERT_EQ(call("POST", "/thing-types/cam/deprecate", "{}").status, 200);
  clock_ += 300;
  EXPECT_EQ(call("DELETE", "/thing-types/cam").status, 200);
}

}  // namespace
}  // namespace zt::cloud::api
