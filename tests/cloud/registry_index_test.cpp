// Registry::indexed_thing, search_things and visit_indexed_things: documents built under the
// indexing configuration (registry fields always; shadow, named shadows and connectivity when
// indexed), SQL-narrowed searches that agree with the query, keyset paging over matches.
#include <gtest/gtest.h>

#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

using nlohmann::json;

class RegistryIndexTest : public testing::RegistryFixture {
 protected:
  void configure(const char* mode, bool connectivity, std::vector<std::string> named = {}) {
    index::IndexingConfiguration configuration;
    configuration.thing_indexing_mode = mode;
    configuration.thing_connectivity_indexing_mode = connectivity ? "STATUS" : "OFF";
    configuration.named_shadow_indexing_mode = named.empty() ? "OFF" : "ON";
    configuration.named_shadow_names = std::move(named);
    ASSERT_TRUE(registry_->set_indexing_configuration(configuration));
  }
  void add_thing(const std::string& name, json attributes, std::optional<int> temp = {}) {
    ASSERT_TRUE(registry_->insert_thing(
        {.name = name, .id = "id-" + name, .attributes = attributes.dump()}));
    if (temp) put_shadow(name, "", json{{"temp", *temp}});
  }
  void put_shadow(const std::string& thing, const std::string& shadow, json reported) {
    json stored = {{"exists", true},
                   {"version", 4},
                   {"desired", json::object()},
                   {"reported", reported},
                   {"metadata", json::object()}};
    ASSERT_TRUE(registry_->put_shadow(thing, shadow, stored.dump()));
  }
  std::vector<std::string> search(const char* text, int limit = 100, std::string after = "",
                                  std::string* next = nullptr) {
    auto query = index::parse_query(text);
    EXPECT_TRUE(query) << text;
    if (!query) return {};
    auto page = registry_->search_things(*query, {.after = after, .limit = limit});
    EXPECT_TRUE(page) << page.error().message;
    std::vector<std::string> names;
    if (!page) return names;
    for (const auto& document : page->items) names.push_back(document["thingName"]);
    if (next) *next = page->next_key;
    return names;
  }
};

TEST_F(RegistryIndexTest, ConfigurationIsOffUntilSetAndSurvivesAsStored) {
  auto initial = registry_->indexing_configuration();
  ASSERT_TRUE(initial);
  EXPECT_FALSE(initial->things_indexed());
  configure("REGISTRY_AND_SHADOW", true, {"cfg"});
  auto stored = registry_->indexing_configuration();
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->shadow_indexed());
  EXPECT_TRUE(stored->connectivity_indexed());
  EXPECT_EQ(stored->named_shadow_names, std::vector<std::string>{"cfg"});
}

TEST_F(RegistryIndexTest, DocumentHoldsWhatTheConfigurationIndexes) {
  add_thing("lamp", {{"color", "red"}}, 21);
  put_shadow("lamp", "cfg", {{"rate", 5}});
  put_shadow("lamp", "other", {{"rate", 9}});
  configure("REGISTRY", false);
  auto registry_only = registry_->indexed_thing("lamp");
  ASSERT_TRUE(registry_only) << registry_only.error().message;
  EXPECT_EQ((*registry_only)["thingName"], "lamp");
  EXPECT_EQ((*registry_only)["thingId"], "id-lamp");
  EXPECT_EQ((*registry_only)["attributes"], json({{"color", "red"}}));
  EXPECT_FALSE(registry_only->contains("shadow"));
  EXPECT_FALSE(registry_only->contains("connectivity"));

  configure("REGISTRY_AND_SHADOW", true, {"cfg"});
  auto full = registry_->indexed_thing("lamp");
  ASSERT_TRUE(full);
  json shadow = json::parse((*full)["shadow"].get<std::string>());
  EXPECT_EQ(shadow["reported"]["temp"], 21);
  EXPECT_EQ(shadow["version"], 4);
  EXPECT_EQ(shadow["hasDelta"], false);
  EXPECT_EQ(shadow["name"]["cfg"]["reported"]["rate"], 5);
  EXPECT_FALSE(shadow["name"].contains("other"));  // not in the filter
  EXPECT_EQ((*full)["connectivity"], json({{"connected", false}}));

  auto missing = registry_->indexed_thing("nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_F(RegistryIndexTest, ConnectivityIsThePresenceOfTheClientNamedAsTheThing) {
  configure("REGISTRY", true);
  add_thing("lamp", json::object());
  add_thing("fan", json::object());
  ASSERT_TRUE(registry_->insert_certificate({.id = id_of(1), .pem = "-", .status = kActive}));
  ASSERT_TRUE(registry_->insert_certificate({.id = id_of(2), .pem = "-", .status = kActive}));
  ASSERT_TRUE(registry_->append_device_events({{.time_us = 5'000'000,
                                                .certificate_id = id_of(1),
                                                .kind = "connected",
                                                .detail = "client lamp",
                                                .client_id = "lamp",
                                                .presence = PresenceEffect::connected},
                                               {.time_us = 6'000'000,
                                                .certificate_id = id_of(2),
                                                .kind = "connected",
                                                .detail = "client fan",
                                                .client_id = "fan",
                                                .presence = PresenceEffect::connected},
                                               {.time_us = 7'000'000,
                                                .certificate_id = id_of(2),
                                                .kind = "disconnected",
                                                .detail = "client fan: CLIENT_INITIATED_DISCONNECT",
                                                .client_id = "fan",
                                                .presence = PresenceEffect::disconnected}}));
  auto lamp = registry_->indexed_thing("lamp");
  ASSERT_TRUE(lamp);
  EXPECT_EQ((*lamp)["connectivity"]["connected"], true);
  EXPECT_EQ((*lamp)["connectivity"]["timestamp"], 5000);
  auto fan = registry_->indexed_thing("fan");
  ASSERT_TRUE(fan);
  EXPECT_EQ((*fan)["connectivity"], json({{"connected", false},
                                          {"timestamp", 7000},
                                          {"disconnectReason", "CLIENT_INITIATED_DISCONNECT"}}));
  EXPECT_EQ(search("connectivity.connected:true"), std::vector<std::string>{"lamp"});
  EXPECT_EQ(search("connectivity.connected:false"), std::vector<std::string>{"fan"});
  EXPECT_EQ(search("NOT connectivity.connected:true"), std::vector<std::string>{"fan"});
  EXPECT_EQ(search("connectivity.disconnectReason:client_initiated*"),
            std::vector<std::string>{"fan"});
}

TEST_F(RegistryIndexTest, SearchesAgreeWithTheQueryWhateverSqlDecides) {
  configure("REGISTRY_AND_SHADOW", false);
  for (int i = 0; i < 30; ++i) {
    json attributes = {{"color", i % 3 == 0 ? "Red" : "blue"}, {"serial", std::to_string(i)}};
    if (i == 7) attributes["note"] = "has [brackets] and *stars*";
    add_thing("kit-" + std::to_string(100 + i), attributes, i);
  }
  add_thing("odd", {{"color", "red"}});  // no shadow
  put_shadow("odd", "", {{"temp", "warm"}});
  std::vector<std::string> every;
  auto all = index::parse_query("*");
  ASSERT_TRUE(all);
  ASSERT_TRUE(registry_->visit_indexed_things(*all, [&](json&& document) {
    every.push_back(document["thingName"]);
    return true;
  }));
  ASSERT_EQ(every.size(), 31u);
  // Each query's answer equals matching every document one by one (the unnarrowed truth).
  for (const char* text :
       {"thingName:kit-10?", "thingName:KIT-1*", "attributes.color:red", "NOT attributes.color:red",
        "attributes.color:r*", "attributes.note:*\\[brackets\\]*", "attributes.note:*",
        "NOT attributes.note:*", "shadow.reported.temp>25", "shadow.reported.temp:[3 TO 5}",
        "NOT shadow.reported.temp<10", "shadow.reported.temp:warm", "shadow.reported.temp:12",
        "thingName:kit-11* OR attributes.color:red", "thingId:id-kit-105",
        "attributes.serial:[10 TO 12]", "-thingName:kit-1*", "thingTypeName:*"}) {
    auto query = index::parse_query(text);
    ASSERT_TRUE(query) << text;
    std::vector<std::string> expected;
    for (const auto& name : every) {
      auto document = registry_->indexed_thing(name);
      ASSERT_TRUE(document);
      if (index::matches(*query, *document)) expected.push_back(name);
    }
    EXPECT_EQ(search(text), expected) << text;
  }
  EXPECT_EQ(search("shadow.reported.temp:[3 TO 5}"),
            (std::vector<std::string>{"kit-103", "kit-104"}));
}

TEST_F(RegistryIndexTest, ThingGroupNamesAreTheDirectGroupsInNameOrder) {
  configure("REGISTRY", false);
  add_thing("lamp", json::object());
  add_thing("fan", json::object());
  for (const char* group : {"kitchen", "floor-1"}) {
    ASSERT_TRUE(registry_->insert_thing_group({.name = group, .id = std::string("id-") + group}));
    ASSERT_TRUE(registry_->add_thing_to_thing_group(group, "lamp"));
  }
  auto lamp = registry_->indexed_thing("lamp");
  ASSERT_TRUE(lamp);
  EXPECT_EQ((*lamp)["thingGroupNames"], json({"floor-1", "kitchen"}));
  auto fan = registry_->indexed_thing("fan");
  ASSERT_TRUE(fan);
  EXPECT_FALSE(fan->contains("thingGroupNames"));
  EXPECT_EQ(search("thingGroupNames:KITCHEN"), std::vector<std::string>{"lamp"});
  EXPECT_EQ(search("thingGroupNames:floor*"), std::vector<std::string>{"lamp"});
  EXPECT_EQ(search("NOT thingGroupNames:kitchen"), std::vector<std::string>{"fan"});
  EXPECT_EQ(search("thingGroupNames:*"), std::vector<std::string>{"lamp"});
}

TEST_F(RegistryIndexTest, PagesFollowNamesAcrossScanChunks) {
  configure("REGISTRY", false);
  auto inserted = registry_->transaction([&]() -> Status {
    for (int i = 0; i < 700; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "t-%04d", i);
      json attributes = {{"even", i % 2 == 0 ? "yes" : "no"}};
      ZT_TRY(registry_->insert_thing({.name = name, .id = name, .attributes = attributes.dump()}));
    }
    return ok();
  });
  ASSERT_TRUE(inserted);
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  do {
    std::string next;
    auto page = search("attributes.even:yes", 100, after, &next);
    seen.insert(seen.end(), page.begin(), page.end());
    after = next;
    ++pages;
  } while (!after.empty() && pages < 10);
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(seen.size(), 350u);
  EXPECT_EQ(seen.front(), "t-0000");
  EXPECT_EQ(seen.back(), "t-0698");
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

}  // namespace
}  // namespace zt::cloud::registry
