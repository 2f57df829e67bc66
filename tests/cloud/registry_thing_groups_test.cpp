// The thing-group registry (registry_thing_groups.cpp, registry_billing_groups.cpp,
// registry_thing_types.cpp): hierarchy, AWS's limits, memberships of static and dynamic groups,
// recursive listings, the change notes continuous jobs and the authorizer react to, billing groups.
#include <gtest/gtest.h>

#include <mutex>

#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

using Names = std::vector<std::string>;

class RegistryThingGroupsTest : public testing::RegistryFixture {
 protected:
  void group(const std::string& name, std::optional<std::string> parent = {},
             bool dynamic = false) {
    auto inserted = registry_->insert_thing_group(
        {.name = name, .id = name + "-id", .parent_name = parent, .dynamic = dynamic});
    ASSERT_TRUE(inserted) << inserted.error().message;
  }
  void thing(const std::string& name) {
    ASSERT_TRUE(registry_->insert_thing({.name = name, .id = name}));
  }
  Names page_names(const ThingGroupFilter& filter) {
    Names out;
    PageRequest page{.limit = 2};
    while (true) {
      auto listed = registry_->list_thing_groups(page, filter);
      EXPECT_TRUE(listed);
      if (!listed) return out;
      for (const auto& g : listed->items) out.push_back(g.name);
      if (listed->next_key.empty()) return out;
      page.after = listed->next_key;
    }
  }
};

TEST_F(RegistryThingGroupsTest, HierarchyListsChildrenDescendantsRootsAndPrefixes) {
  group("a");
  group("a1", "a");
  group("a2", "a");
  group("a1x", "a1");
  group("b");
  EXPECT_EQ(page_names({}), (Names{"a", "a1", "a1x", "a2", "b"}));
  EXPECT_EQ(page_names({.roots_only = true}), (Names{"a", "b"}));
  EXPECT_EQ(page_names({.parent_name = "a", .recursive = false}), (Names{"a1", "a2"}));
  EXPECT_EQ(page_names({.parent_name = "a", .recursive = true}), (Names{"a1", "a1x", "a2"}));
  EXPECT_EQ(page_names({.name_prefix = "a1"}), (Names{"a1", "a1x"}));
  auto path = registry_->thing_group_path("a1x");
  ASSERT_TRUE(path);
  ASSERT_EQ(path->size(), 3u);
  EXPECT_EQ((*path)[0].name, "a");
  EXPECT_EQ((*path)[2].name, "a1x");
  EXPECT_EQ(registry_->thing_group_path("nope").error().code, Errc::not_found);
}

TEST_F(RegistryThingGroupsTest, RefusesDepthBeyondSevenUnknownParentsDuplicatesAndDynamicParents) {
  group("g1");
  for (int level = 2; level <= kMaxThingGroupDepth; ++level)
    group("g" + std::to_string(level), "g" + std::to_string(level - 1));
  auto too_deep = registry_->insert_thing_group({.name = "g8", .id = "x", .parent_name = "g7"});
  ASSERT_FALSE(too_deep);
  EXPECT_EQ(too_deep.error().code, Errc::invalid_argument);
  auto orphan = registry_->insert_thing_group({.name = "o", .id = "x", .parent_name = "missing"});
  EXPECT_EQ(orphan.error().code, Errc::not_found);
  auto again = registry_->insert_thing_group({.name = "g1", .id = "x"});
  EXPECT_EQ(again.error().code, Errc::already_exists);
  group("dyn", std::nullopt, true);
  auto child = registry_->insert_thing_group({.name = "c", .id = "x", .parent_name = "dyn"});
  EXPECT_EQ(child.error().code, Errc::invalid_argument);
  auto dynamic_child =
      registry_->insert_thing_group({.name = "d", .id = "x", .parent_name = "g1", .dynamic = true});
  EXPECT_EQ(dynamic_child.error().code, Errc::invalid_argument);
}

TEST_F(RegistryThingGroupsTest, MembershipIsIdempotentBoundedAndListedRecursively) {
  group("root");
  group("child", "root");
  thing("t1");
  thing("t2");
  ASSERT_TRUE(registry_->add_thing_to_thing_group("root", "t1"));
  ASSERT_TRUE(registry_->add_thing_to_thing_group("root", "t1"));  // idempotent
  ASSERT_TRUE(registry_->add_thing_to_thing_group("child", "t2"));
  // One group per hierarchy: t1 is in root already.
  EXPECT_EQ(registry_->add_thing_to_thing_group("child", "t1").error().code,
            Errc::invalid_argument);
  EXPECT_EQ(*registry_->list_things_in_thing_group("root", false), (Names{"t1"}));
  EXPECT_EQ(*registry_->list_things_in_thing_group("root", true), (Names{"t1", "t2"}));
  auto page = registry_->page_things_in_thing_group("root", true, {.limit = 1});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->items, (Names{"t1"}));
  EXPECT_EQ(page->next_key, "t1");
  EXPECT_EQ(*registry_->list_thing_groups_for_thing("t1"), (Names{"root"}));
  EXPECT_EQ(*registry_->list_thing_groups_for_thing_with_ancestors("t2"), (Names{"child", "root"}));
  EXPECT_EQ(registry_->add_thing_to_thing_group("nope", "t1").error().code, Errc::not_found);
  EXPECT_EQ(registry_->add_thing_to_thing_group("root", "nope").error().code, Errc::not_found);
  EXPECT_TRUE(*registry_->remove_thing_from_thing_group("root", "t1"));
  EXPECT_FALSE(*registry_->remove_thing_from_thing_group("root", "t1"));
  // Ten groups at most per thing.
  for (int i = 0; i < kMaxThingGroupsPerThing; ++i) {
    group("many" + std::to_string(i));
    ASSERT_TRUE(registry_->add_thing_to_thing_group("many" + std::to_string(i), "t1"));
  }
  group("eleventh");
  auto eleventh = registry_->add_thing_to_thing_group("eleventh", "t1");
  EXPECT_EQ(eleventh.error().code, Errc::invalid_argument);
}

TEST_F(RegistryThingGroupsTest, DeleteRefusedWithChildrenAndTakesMembershipsAlong) {
  group("p");
  group("c", "p");
  thing("t");
  ASSERT_TRUE(registry_->add_thing_to_thing_group("c", "t"));
  EXPECT_EQ(registry_->delete_thing_group("p").error().code, Errc::invalid_argument);
  ASSERT_TRUE(registry_->delete_thing_group("c"));
  EXPECT_TRUE(registry_->list_thing_groups_for_thing("t")->empty());
  ASSERT_TRUE(registry_->delete_thing_group("p"));
  EXPECT_EQ(registry_->delete_thing_group("p").error().code, Errc::not_found);
}

TEST_F(RegistryThingGroupsTest, DynamicGroupsRefuseStaticEditsAndTrackTheirMembersWithChanges) {
  std::mutex mutex;
  std::vector<Change> seen;
  registry_->add_change_listener([&](const std::vector<Change>& changes) {
    std::lock_guard lock(mutex);
    seen.insert(seen.end(), changes.begin(), changes.end());
  });
  group("dyn", std::nullopt, true);
  thing("t1");
  thing("t2");
  thing("t3");
  EXPECT_EQ(registry_->add_thing_to_thing_group("dyn", "t1").error().code, Errc::invalid_argument);
  EXPECT_EQ(registry_->remove_thing_from_thing_group("dyn", "t1").error().code,
            Errc::invalid_argument);
  ASSERT_TRUE(registry_->set_dynamic_thing_group_members("dyn", {"t2", "t1", "gone"}));
  EXPECT_EQ(*registry_->list_things_in_thing_group("dyn", false), (Names{"t1", "t2"}));
  ASSERT_TRUE(registry_->set_dynamic_thing_group_members("dyn", {"t3", "t2"}));
  EXPECT_EQ(*registry_->list_things_in_thing_group("dyn", false), (Names{"t2", "t3"}));
  std::lock_guard lock(mutex);
  std::vector<std::tuple<Change::Kind, std::string, std::string>> got;
  for (const auto& c : seen) got.emplace_back(c.kind, c.id, c.status);
  using K = Change::Kind;
  EXPECT_EQ(got, (std::vector<std::tuple<K, std::string, std::string>>{
                     {K::thing_group_member_added, "dyn", "t1"},
                     {K::thing_group_member_added, "dyn", "t2"},
                     {K::thing_group_member_removed, "dyn", "t1"},
                     {K::thing_group_member_added, "dyn", "t3"}}));
  EXPECT_EQ(registry_->list_dynamic_thing_groups()->size(), 1u);
}

TEST_F(RegistryThingGroupsTest, BillingGroupHoldsAThingOnceAndMovesIt) {
  thing("t");
  ASSERT_TRUE(registry_->insert_billing_group({.name = "b1", .id = "1"}));
  ASSERT_TRUE(registry_->insert_billing_group({.name = "b2", .id = "2"}));
  EXPECT_EQ(registry_->insert_billing_group({.name = "b1", .id = "3"}).error().code,
            Errc::already_exists);
  ASSERT_TRUE(registry_->add_thing_to_billing_group("b1", "t"));
  ASSERT_TRUE(registry_->add_thing_to_billing_group("b2", "t"));
  EXPECT_EQ(**registry_->find_billing_group_for_thing("t"), "b2");
  EXPECT_TRUE(registry_->list_things_in_billing_group("b1", {})->items.empty());
  EXPECT_EQ(registry_->list_things_in_billing_group("b2", {})->items, (Names{"t"}));
  EXPECT_FALSE(*registry_->remove_thing_from_billing_group("b1", "t"));
  EXPECT_TRUE(*registry_->remove_thing_from_billing_group("b2", "t"));
  EXPECT_EQ(registry_->add_thing_to_billing_group("b3", "t").error().code, Errc::not_found);
  ASSERT_TRUE(registry_->delete_billing_group("b1"));
  EXPECT_EQ(registry_->list_billing_groups({}, "b")->items.size(), 1u);
}

TEST_F(RegistryThingGroupsTest, ThingTypesDeprecateListAndDelete) {
  ASSERT_TRUE(registry_->insert_thing_type({.name = "ty", .id = "1"}));
  ASSERT_TRUE(registry_->set_thing_type_deprecation("ty", true, 100));
  auto type = *registry_->find_thing_type("ty");
  EXPECT_TRUE(type->deprecated);
  EXPECT_EQ(type->deprecation_date, 100);
  EXPECT_EQ(registry_->list_thing_types({})->items.size(), 1u);
  EXPECT_TRUE(registry_->list_thing_types({}, "other")->items.empty());
  ASSERT_TRUE(registry_->delete_thing_type("ty"));
  EXPECT_EQ(registry_->delete_thing_type("ty").error().code, Errc::not_found);
}

}  // namespace
}  // namespace zt::cloud::registry
