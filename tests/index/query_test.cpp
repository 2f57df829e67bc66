// Fleet indexing's query language: the parser's grammar and bounds, and the evaluator over indexed
// documents shaped as SearchIndex returns them.
#include <gtest/gtest.h>

#include "cloud/index/query.hpp"

namespace zt::cloud::index {
namespace {

using nlohmann::json;

json thermostat() {
  return json{{"thingName", "thermostat-1"},
              {"thingId", "6d8b2d4c-0000-4000-8000-000000000001"},
              {"thingTypeName", "Thermostat"},
              {"thingGroupNames", {"kitchen", "floor-1"}},
              {"attributes", {{"color", "Red"}, {"serial", "17"}, {"model.v", "x2"}}},
              {"shadow", json{{"reported", {{"temp", 71.5}, {"mode", "heat"}, {"fw", {{"v", 3}}}}},
                              {"desired", {{"temp", 70}}},
                              {"hasDelta", true},
                              {"version", 7},
                              {"name", {{"config", {{"reported", {{"rate", 5}}}}}}}}
                             .dump()},
              {"connectivity", {{"connected", true}, {"timestamp", 1700000000000}}},
              {"registryVersion", 3}};
}

bool query_matches(std::string_view text, const json& thing = thermostat()) {
  auto query = parse_query(text);
  EXPECT_TRUE(query.has_value()) << text << ": " << (query ? "" : query.error().message);
  return query && matches(*query, thing);
}

std::string parse_error(std::string_view text) {
  auto query = parse_query(text);
  EXPECT_FALSE(query.has_value()) << text;
  if (query) return "";
  EXPECT_EQ(query.error().code, Errc::invalid_argument);
  return query.error().message;
}

TEST(Query, FieldTermsMatchCaseInsensitively) {
  EXPECT_TRUE(query_matches("thingName:thermostat-1"));
  EXPECT_TRUE(query_matches("thingName:THERMOSTAT-1"));
  EXPECT_FALSE(query_matches("thingName:thermostat-2"));
  EXPECT_TRUE(query_matches("thingTypeName:Thermostat"));
  EXPECT_TRUE(query_matches("thingId:6d8b2d4c-0000-4000-8000-000000000001"));
  EXPECT_TRUE(query_matches("attributes.color:red"));
  EXPECT_TRUE(query_matches("attributes.model.v:x2"));  // attribute names may hold dots
  EXPECT_FALSE(query_matches("attributes.color:blue"));
  EXPECT_FALSE(query_matches("attributes.size:big"));
}

TEST(Query, ArraysMatchAnyElement) {
  EXPECT_TRUE(query_matches("thingGroupNames:kitchen"));
  EXPECT_TRUE(query_matches("thingGroupNames:floor-1"));
  EXPECT_FALSE(query_matches("thingGroupNames:garage"));
}

TEST(Query, Wildcards) {
  EXPECT_TRUE(query_matches("thingName:thermo*"));
  EXPECT_TRUE(query_matches("thingName:thermostat-?"));
  EXPECT_FALSE(query_matches("thingName:thermostat-??"));
  EXPECT_TRUE(query_matches("thingName:*stat-1"));
  EXPECT_TRUE(query_matches("*"));
  EXPECT_FALSE(query_matches("thingName:thermo\\*"));  // an escaped * is literal
  json starred = thermostat();
  starred["thingName"] = "thermo*";
  EXPECT_TRUE(query_matches("thingName:thermo\\*", starred));
}

TEST(Query, ShadowFields) {
  EXPECT_TRUE(query_matches("shadow.reported.mode:heat"));
  EXPECT_TRUE(query_matches("shadow.reported.temp:71.5"));
  EXPECT_TRUE(query_matches("shadow.reported.temp>71"));
  EXPECT_FALSE(query_matches("shadow.reported.temp>71.5"));
  EXPECT_TRUE(query_matches("shadow.reported.temp>=71.5"));
  EXPECT_TRUE(query_matches("shadow.desired.temp<=70"));
  EXPECT_FALSE(query_matches("shadow.desired.temp<70"));
  EXPECT_TRUE(query_matches("shadow.reported.fw.v:3"));
  EXPECT_TRUE(query_matches("shadow.hasDelta:true"));
  EXPECT_TRUE(query_matches("shadow.version:7"));
  EXPECT_TRUE(query_matches("shadow.name.config.reported.rate:5"));
  EXPECT_FALSE(query_matches("shadow.name.other.reported.rate:5"));
}

TEST(Query, ConnectivityAndRegistryVersion) {
  EXPECT_TRUE(query_matches("connectivity.connected:true"));
  EXPECT_FALSE(query_matches("connectivity.connected:false"));
  EXPECT_TRUE(query_matches("connectivity.timestamp>1600000000000"));
  EXPECT_TRUE(query_matches("registry.version:3"));
  EXPECT_FALSE(query_matches("connectivity.disconnectReason:*"));
}

TEST(Query, Ranges) {
  EXPECT_TRUE(query_matches("shadow.reported.temp:[70 TO 72]"));
  EXPECT_TRUE(query_matches("shadow.reported.temp:[71.5 TO 72]"));
  EXPECT_FALSE(query_matches("shadow.reported.temp:{71.5 TO 72]"));
  EXPECT_TRUE(query_matches("shadow.reported.temp:[* TO 100}"));
  EXPECT_FALSE(query_matches("shadow.reported.temp:[80 TO *]"));
  EXPECT_TRUE(query_matches("attributes.serial:[9 TO 20]"));  // numeric, not "17" < "9" as text
  EXPECT_TRUE(query_matches("thingName:[a TO u]"));
  EXPECT_FALSE(query_matches("thingName:[u TO z]"));
}

TEST(Query, BooleansGroupsAndImplicitAnd) {
  EXPECT_TRUE(query_matches("thingName:thermostat-1 AND attributes.color:red"));
  EXPECT_TRUE(query_matches("thingName:thermostat-1 attributes.color:red"));
  EXPECT_FALSE(query_matches("thingName:thermostat-1 attributes.color:blue"));
  EXPECT_TRUE(query_matches("thingName:nothing OR attributes.color:red"));
  EXPECT_TRUE(query_matches("NOT attributes.color:blue"));
  EXPECT_FALSE(query_matches("NOT attributes.color:red"));
  EXPECT_TRUE(query_matches("thingName:(thermo* AND -plasma)"));
  EXPECT_FALSE(query_matches("thingName:(thermo* AND -thermostat-1)"));
  EXPECT_TRUE(
      query_matches("(thingName:x OR thingName:thermostat-1) AND NOT (attributes.color:blue)"));
  // AND binds tighter than OR.
  EXPECT_TRUE(query_matches("thingName:x AND attributes.color:blue OR thingName:thermostat-1"));
}

TEST(Query, ExistsPhrasesAndBareTerms) {
  EXPECT_TRUE(query_matches("attributes.color:*"));
  EXPECT_FALSE(query_matches("attributes.size:*"));
  json spaced = thermostat();
  spaced["attributes"]["location"] = "Room 12";
  EXPECT_TRUE(query_matches("attributes.location:\"room 12\"", spaced));
  EXPECT_FALSE(
      query_matches("attributes.location:\"room 1*\"", spaced));  // phrases have no wildcards
  EXPECT_TRUE(query_matches("heat"));  // a bare term searches every field
  EXPECT_TRUE(query_matches("kitchen"));
  EXPECT_FALSE(query_matches("cooling"));
}

TEST(Query, FieldsAreListedOnce) {
  auto query = parse_query("thingName:a OR thingName:b shadow.reported.x:1");
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->fields(), (std::vector<std::string>{"thingName", "shadow.reported.x"}));
}

TEST(Query, SyntaxErrors) {
  for (std::string_view text :
       {"", "   ", "thingName:", "thingName:(a", "a)", "thingName:\"open", "AND thingName:a",
        "thingName:a OR", "thingName:[1 TO", "thingName:[1 2]", "thingName:a@b", "thingName:a;b",
        "thing*:a", "thingName:(attributes.x:1)", "NOT", "thingName>", "a\\",
        "thingName:[a* TO b]"}) {
    EXPECT_NE(parse_error(text).find("Syntax error in query string"), std::string::npos) << text;
  }
}

TEST(Query, Bounds) {
  std::string thirteen;
  for (int i = 0; i < 13; ++i) thirteen += "thingName:t" + std::to_string(i) + " OR ";
  thirteen += "thingName:x";
  EXPECT_NE(parse_error(thirteen).find("terms"), std::string::npos);
  std::string twelve;
  for (int i = 0; i < 11; ++i) twelve += "thingName:t" + std::to_string(i) + " OR ";
  twelve += "thingName:x";
  EXPECT_TRUE(parse_query(twelve).has_value());

  EXPECT_NE(parse_error("thingName:*a OR attributes.b:*c").find("leading wildcard"),
            std::string::npos);
  EXPECT_NE(parse_error("thingName:*a OR attributes.b:" + std::string(100, 'c')).find("100"),
            std::string::npos);

  std::string deep = std::string(10000, '(') + "thingName:a" + std::string(10000, ')');
  EXPECT_NE(parse_error(deep).find("longer"), std::string::npos);
  std::string nested = std::string(17, '(') + "thingName:a" + std::string(17, ')');
  EXPECT_NE(parse_error(nested).find("nested"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 200; ++i) nots += "NOT ";
  EXPECT_NE(parse_error(nots + "thingName:a").find("nested"), std::string::npos);
  EXPECT_NE(parse_error(std::string(2000, 'a')).find("longer"), std::string::npos);
}

TEST(Query, DocumentsOfTheWrongShapeMatchNothing) {
  auto query = parse_query("shadow.reported.temp>1");
  ASSERT_TRUE(query.has_value());
  EXPECT_FALSE(matches(*query, json::array()));
  EXPECT_FALSE(matches(*query, json{{"shadow", "{not json"}}));
  EXPECT_FALSE(matches(*query, json{{"shadow", 5}}));
  EXPECT_FALSE(
      matches(*query, json{{"shadow", json{{"reported", json{{"temp", json::array()}}}}.dump()}}));
}

}  // namespace
}  // namespace zt::cloud::index
