#include "cloud/shadow/shadow.hpp"

#include <gtest/gtest.h>

namespace zt::cloud::shadow {
namespace {

constexpr int64_t kT1 = 1566483958;
constexpr int64_t kT2 = 1566549521;

UpdateResult must_update(Shadow& shadow, const std::string& payload, int64_t now = kT1) {
  auto outcome = shadow.update(payload, now);
  EXPECT_TRUE(outcome) << payload << " rejected: " << outcome.rejection.message;
  return outcome ? *outcome.value : UpdateResult{};
}

// reference §4.2: the real 2019 wire dump of an update and a later get.
TEST(Shadow, AcceptedAndGetMatchTheRealWireDump) {
  Shadow shadow;
  for (int i = 0; i < 4; ++i) must_update(shadow, R"({"state":{"reported":{"x":1}}})");
  must_update(shadow, R"({"state":{"reported":null}})");
  ASSERT_EQ(shadow.version(), 5);
  shadow.remove(kT1, "thing");
  // Re-created: the version keeps counting (§4.3).
  auto result = must_update(shadow, R"({"state":{"desired":{"prop1":"12"},"reported":{}}})");
  EXPECT_EQ(result.accepted, json::parse(R"({"state":{"desired":{"prop1":"12"},"reported":{}},
      "metadata":{"desired":{"prop1":{"timestamp":1566483958}},"reported":{}},"version":6,"timestamp":1566483958})"));
  auto got = shadow.get(kT2, "thing");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got.value, json::parse(R"({"state":{"desired":{"prop1":"12"},"delta":{"prop1":"12"}},
      "metadata":{"desired":{"prop1":{"timestamp":1566483958}}},"version":6,"timestamp":1566549521})"));
}

TEST(Shadow, DeltaIsPublishedWhenDesiredDiffersAndNotWhenReportedCatchesUp) {
  Shadow shadow;
  auto first =
      must_update(shadow, R"({"state":{"desired":{"led1":"on","led2":"off"}},"clientToken":"c1"})");
  ASSERT_TRUE(first.delta);
  EXPECT_EQ((*first.delta)["state"], json::parse(R"({"led1":"on","led2":"off"})"));
  EXPECT_EQ((*first.delta)["version"], 1);
  EXPECT_EQ((*first.delta)["clientToken"], "c1");
  EXPECT_EQ((*first.delta)["metadata"]["led1"]["timestamp"], kT1);

  auto caught_up =
      must_update(shadow, R"({"state":{"reported":{"led1":"on","led2":"off","button1":"up"}}})");
  EXPECT_FALSE(caught_up.delta);
  EXPECT_EQ(shadow.delta(), json::object());
  // desired is never cleared automatically (§4.3).
  EXPECT_EQ(shadow.desired()["led1"], "on");

  auto partial = must_update(shadow, R"({"state":{"desired":{"led1":"off"}}})");
  ASSERT_TRUE(partial.delta);
  EXPECT_EQ((*partial.delta)["state"], json::parse(R"({"led1":"off"})"));
}

TEST(Shadow, NestedDeltaKeepsThePathToTheRootAndArraysAreWholeValues) {
  EXPECT_EQ(compute_delta(json::parse(R"({"a":{"b":{"c":1,"d":2}},"e":[1,2],"f":3})"),
                          json::parse(R"({"a":{"b":{"c":1,"d":5}},"e":[1,2],"g":4})")),
            json::parse(R"({"a":{"b":{"d":2}},"f":3})"));
  EXPECT_EQ(compute_delta(json::parse(R"({"e":[1,2,3]})"), json::parse(R"({"e":[1,2]})")),
            json::parse(R"({"e":[1,2,3]})"));
  // Type mismatch: the whole desired value.
  EXPECT_EQ(compute_delta(json::parse(R"({"a":{"b":1}})"), json::parse(R"({"a":7})")),
            json::parse(R"({"a":{"b":1}})"));
}

TEST(Shadow, NullDeletesFieldsSectionsAndEmptiesTheDocument) {
  Shadow shadow;
  must_update(shadow, R"({"state":{"desired":{"a":{"b":1,"c":2},"d":3},"reported":{"x":1}}})");
  must_update(shadow, R"({"state":{"desired":{"a":{"b":null}}}})");
  EXPECT_EQ(shadow.desired(), json::parse(R"({"a":{"c":2},"d":3})"));
  must_update(shadow, R"({"state":{"desired":{"a":{"c":null}}}})");
  EXPECT_EQ(shadow.desired(), json::parse(R"({"d":3})"));  // emptied objects disappear
  must_update(shadow, R"({"state":{"desired":null}})");
  EXPECT_EQ(shadow.desired(), json::object());
  EXPECT_EQ(shadow.reported(), json::parse(R"({"x":1})"));
  must_update(shadow, R"({"state":null})");
  EXPECT_TRUE(shadow.exists());
  EXPECT_EQ(shadow.reported(), json::object());
  EXPECT_EQ(shadow.version(), 5);
  auto got = shadow.get(kT2, "thing");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got.value)["state"], json::object());
}

// Issue 17: an object an update sets to {} is kept in its section, in the delta and in GET; only
// objects emptied by null removals disappear. Merging {} into an existing object changes nothing.
TEST(Shadow, AnObjectSetToEmptyIsKeptAndShowsInTheDelta) {
  Shadow shadow;
  auto first = must_update(shadow, R"({"state":{"desired":{"cfg":{},"n":1},"reported":{"n":1}}})");
  EXPECT_EQ(shadow.desired(), json::parse(R"({"cfg":{},"n":1})"));
  ASSERT_TRUE(first.delta);
  EXPECT_EQ((*first.delta)["state"], json::parse(R"({"cfg":{}})"));
  auto got = shadow.get(kT2, "thing");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got.value)["state"]["delta"], json::parse(R"({"cfg":{}})"));
  EXPECT_EQ((*got.value)["state"]["desired"]["cfg"], json::object());
  must_update(shadow, R"({"state":{"reported":{"cfg":{}}}})");
  EXPECT_EQ(shadow.reported(), json::parse(R"({"cfg":{},"n":1})"));
  EXPECT_EQ(shadow.delta(), json::object());  // {} matches {}
  must_update(shadow, R"({"state":{"desired":{"cfg":{"a":1}}}})");
  must_update(shadow, R"({"state":{"desired":{"cfg":{}}}})");  // merges nothing
  EXPECT_EQ(shadow.desired(), json::parse(R"({"cfg":{"a":1},"n":1})"));
  must_update(shadow, R"({"state":{"desired":{"cfg":{"a":null}}}})");  // emptied by null
  EXPECT_EQ(shadow.desired(), json::parse(R"({"n":1})"));
}

// Issue 17: the reply to {"state": null} carries metadata.timestamp.
TEST(Shadow, StateNullReplyCarriesTheMetadataTimestamp) {
  Shadow shadow;
  must_update(shadow, R"({"state":{"reported":{"x":1}}})");
  auto cleared = must_update(shadow, R"({"state":null})", kT2);
  EXPECT_TRUE(cleared.accepted["state"].is_null());
  EXPECT_EQ(cleared.accepted["metadata"], json::parse(R"({"timestamp":1566549521})"));
}

TEST(Shadow, MetadataMirrorsArraysAndNestedObjects) {
  Shadow shadow;
  auto result =
      must_update(shadow, R"({"state":{"reported":{"ColorRGB":[255,0,{"a":1}],"n":{"m":true}}}})");
  EXPECT_EQ(
      result.accepted["metadata"]["reported"],
      json::parse(
          R"({"ColorRGB":[{"timestamp":1566483958},{"timestamp":1566483958},{"a":{"timestamp":1566483958}}],
                             "n":{"m":{"timestamp":1566483958}}})"));
}

TEST(Shadow, VersionConflictsAndOptimisticLocking) {
  Shadow shadow;
  must_update(shadow, R"({"state":{"reported":{"a":1}}})");
  must_update(shadow, R"({"state":{"reported":{"a":2}},"version":1})");
  auto stale = shadow.update(R"({"state":{"reported":{"a":3}},"version":1})", kT1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.rejection.code, 409);
  EXPECT_EQ(stale.rejection.message, "Version conflict");
  EXPECT_EQ(shadow.reported()["a"], 2);  // nothing applied
  EXPECT_EQ(shadow.version(), 2);
}

struct BadRequest {
  const char* payload;
  int code;
  const char* message;
};

class ShadowRejects : public testing::TestWithParam<BadRequest> {};

TEST_P(ShadowRejects, WithTheDocumentedCodeAndMessage) {
  Shadow shadow;
  must_update(shadow, R"({"state":{"reported":{"keep":1}}})");
  auto outcome = shadow.update(GetParam().payload, kT2);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.rejection.code, GetParam().code);
  EXPECT_EQ(outcome.rejection.message, GetParam().message);
  EXPECT_EQ(shadow.version(), 1);
  EXPECT_EQ(shadow.reported(), json::parse(R"({"keep":1})"));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ShadowRejects,
    testing::Values(
        BadRequest{"{not json", 400, "Invalid JSON"}, BadRequest{"[1,2]", 400, "Invalid JSON"},
        BadRequest{R"({"desired":{}})", 400, "Missing required node: state"},
        BadRequest{R"({"state":5})", 400, "State node must be an object"},
        BadRequest{R"({"state":{"delta":{"a":1}}})", 400,
                   "State contains an invalid node: 'delta'"},
        BadRequest{R"({"state":{"desired":"on"}})", 400, "Desired node must be an object"},
        BadRequest{R"({"state":{"reported":[1]}})", 400, "Reported node must be an object"},
        BadRequest{R"({"state":{"reported":{}},"version":"1"})", 400, "Invalid version"},
        BadRequest{R"({"state":{"reported":{}},"clientToken":7})", 400, "Invalid clientToken"},
        BadRequest{R"({"state":{"reported":{"a":[1,null]}}})", 400,
                   "Invalid JSON: arrays may not contain null"},
        BadRequest{
            R"({"state":{"reported":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}}})",
            400, "JSON contains too many levels of nesting; maximum is 8"},
        BadRequest{R"({"state":{"reported":{}},"version":9})", 409, "Version conflict"}));

TEST(Shadow, LimitsOnTokenAndStateSize) {
  Shadow shadow;
  std::string token(65, 't');
  auto outcome = shadow.update(R"({"state":{"reported":{}},"clientToken":")" + token + "\"}", kT1);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.rejection.message, "Invalid clientToken");
  std::string big(8 * 1024, 'x');
  outcome = shadow.update(R"({"state":{"reported":{"big":")" + big + "\"}}}", kT1);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.rejection.code, 413);
  EXPECT_FALSE(shadow.exists());
}

// Issue 12: a 128 KB update nested 65,000 levels deep overflowed the service worker's stack.
// The parse stops at kMaxJsonDepth; the client sees the shadow's nesting rejection.
TEST(Shadow, DeeplyNestedUpdatesAreRejectedWhileParsing) {
  Shadow shadow;
  // 60,000 levels in 120 KB: within the 128 KB payload limit, so the depth is what refuses it.
  std::string deep = std::string(60000, '[') + std::string(60000, ']');
  auto outcome = shadow.update(R"({"state":{"reported":{"a":)" + deep + "}}}", kT1);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.rejection.code, 400);
  EXPECT_EQ(outcome.rejection.message, "JSON contains too many levels of nesting; maximum is 8");
  EXPECT_FALSE(shadow.exists());
}

TEST(Shadow, GetAndDeleteOfAMissingShadowAre404AndDeleteReportsTheVersion) {
  Shadow shadow;
  auto got = shadow.get(kT1, "Limits");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.rejection.code, 404);
  EXPECT_EQ(got.rejection.message, "No shadow exists with name: 'Limits'");
  EXPECT_EQ(
      got.rejection.to_json(kT1, std::string("tok")),
      json::parse(
          R"({"code":404,"message":"No shadow exists with name: 'Limits'","timestamp":1566483958,
                             "clientToken":"tok"})"));
  must_update(shadow, R"({"state":{"reported":{"a":1}}})");
  must_update(shadow, R"({"state":{"reported":{"a":2}}})");
  auto removed = shadow.remove(kT2, "Limits");
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed.value, json::parse(R"({"version":2,"timestamp":1566549521})"));
  EXPECT_FALSE(shadow.get(kT2, "Limits"));
  EXPECT_FALSE(shadow.remove(kT2, "Limits"));
}

TEST(Shadow, DocumentsCarryPreviousAndCurrent) {
  Shadow shadow;
  must_update(shadow, R"({"state":{"reported":{"a":1}}})");
  auto result = must_update(shadow, R"({"state":{"reported":{"a":2}},"clientToken":"x"})", kT2);
  EXPECT_EQ(result.documents["previous"]["state"], json::parse(R"({"reported":{"a":1}})"));
  EXPECT_EQ(result.documents["previous"]["version"], 1);
  EXPECT_EQ(result.documents["current"]["state"], json::parse(R"({"reported":{"a":2}})"));
  EXPECT_EQ(result.documents["current"]["metadata"]["reported"]["a"]["timestamp"], kT2);
  EXPECT_EQ(result.documents["current"]["version"], 2);
  EXPECT_EQ(result.documents["clientToken"], "x");
}

TEST(Shadow, StorageRoundTrip) {
  Shadow shadow;
  must_update(shadow, R"({"state":{"desired":{"led1":"on"},"reported":{"led1":"off"}}})");
  auto restored = Shadow::from_storage(shadow.to_storage());
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->to_storage(), shadow.to_storage());
  EXPECT_EQ(restored->delta(), json::parse(R"({"led1":"on"})"));
  EXPECT_FALSE(Shadow::from_storage(json::parse(R"({"exists":true})")));
}

TEST(ShadowTopics, ParseClassicAndNamedRequestTopics) {
  auto classic = parse_request_topic("$aws/things/abc123/shadow/update");
  ASSERT_TRUE(classic);
  EXPECT_EQ(classic->thing, "abc123");
  EXPECT_EQ(classic->shadow_name, "");
  EXPECT_EQ(classic->operation, "update");
  auto named = parse_request_topic("$aws/things/t-1/shadow/name/cfg:1/get");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->shadow_name, "cfg:1");
  EXPECT_EQ(named->operation, "get");
  EXPECT_FALSE(parse_request_topic("$aws/things/t/shadow/update/accepted"));
  EXPECT_FALSE(parse_request_topic("$aws/things/t/shadow/name/n"));
  EXPECT_FALSE(parse_request_topic("$aws/things/bad name/shadow/get"));
  EXPECT_FALSE(parse_request_topic("things/t/shadow/get"));
  EXPECT_EQ(shadow_topic_prefix("t", ""), "$aws/things/t/shadow");
  EXPECT_EQ(shadow_topic_prefix("t", "n"), "$aws/things/t/shadow/name/n");
}

}  // namespace
}  // namespace zt::cloud::shadow
