// DeleteThingType's five minutes after DeprecateThingType (developer guide, "Thing types"), with
// the ServiceContext's clock faked: refused at 4:59, accepted at 5:00; and refused while a thing
// still has the type.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_fixture.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;

// The API fixture with the ServiceContext's wall clock replaced by clock_.
class ThingTypesApiTest : public testing::ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    context_->now = [this] { return clock_; };
  }

  double clock_ = 1'800'000'000;
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
