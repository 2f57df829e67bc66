// The registry's IAM tables (step 4 of the schema): an upgrade from step 3 keeps the data, names
// are unique without regard to case, inline policies replace, a user's key signs and goes.
#include <gtest/gtest.h>

#include <filesystem>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

class RegistryIamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("zt-registry-iam-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

IamRole role(std::string name) {
  return IamRole{.name = std::move(name),
                 .id = "AROA" + std::string(17, 'A'),
                 .trust_policy = "{}",
                 .create_date = 1.0};
}

TEST_F(RegistryIamTest, UpgradesAnOlderDatabaseKeepingItsKeys) {
  {
    auto old = Registry::open(dir_ / "registry.db", Registry::schema_version() - 1);
    ASSERT_TRUE(old);
    ASSERT_TRUE((*old)->add_access_key("AKIDOLD", "old-secret"));
  }
  auto registry = Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(registry) << registry.error().message;
  EXPECT_EQ(**(*registry)->find_secret("AKIDOLD"), "old-secret");
  EXPECT_TRUE((*registry)->insert_role(role("R")));
}

TEST_F(RegistryIamTest, RolesAndTheirPolicies) {
  auto registry = std::move(*Registry::open(dir_ / "registry.db"));
  ASSERT_TRUE(registry->insert_role(role("ZTRole")));
  IamRole twin = role("ztrole");
  twin.id = "AROA" + std::string(17, 'B');
  EXPECT_EQ(registry->insert_role(twin).error().code, Errc::already_exists);
  auto found = registry->find_role("ZTROLE");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->name, "ZTRole");

  EXPECT_TRUE(*registry->attach_role_policy("ZTRole", "arn:aws:iam::aws:policy/A"));
  EXPECT_FALSE(*registry->attach_role_policy("ZTRole", "arn:aws:iam::aws:policy/A"));
  EXPECT_EQ(registry->list_attached_role_policies("ZTRole")->size(), 1u);
  ASSERT_TRUE(registry->put_role_policy({"ZTRole", "P", "{\"v\":1}"}));
  ASSERT_TRUE(registry->put_role_policy({"ZTRole", "p", "{\"v\":2}"}));  // the same name
  auto policies = registry->list_role_policies("ZTRole");
  ASSERT_EQ(policies->size(), 1u);
  EXPECT_EQ((*policies)[0].policy_name, "P");
  EXPECT_EQ((*policies)[0].document, "{\"v\":2}");
  // A role with policies is not deleted under them (foreign keys).
  EXPECT_FALSE(registry->delete_role("ZTRole"));
  EXPECT_TRUE(*registry->detach_role_policy("ZTRole", "arn:aws:iam::aws:policy/A"));
  EXPECT_TRUE(*registry->delete_role_policy("ZTRole", "P"));
  EXPECT_TRUE(registry->delete_role("ZTRole"));
  EXPECT_EQ(registry->delete_role("ZTRole").error().code, Errc::not_found);
}

TEST_F(RegistryIamTest, ListsRolesByPathInPages) {
  auto registry = std::move(*Registry::open(dir_ / "registry.db"));
  for (const char* name : {"A", "B", "C"}) {
    IamRole r = role(name);
    r.id = std::string("AROA") + std::string(16, 'X') + name;
    r.path = name == std::string("B") ? "/service-role/" : "/";
    ASSERT_TRUE(registry->insert_role(r));
  }
  auto first = registry->list_roles({.after = "", .limit = 2});
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->next_key, "B");
  auto second = registry->list_roles({.after = first->next_key, .limit = 2});
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].name, "C");
  auto service_roles = registry->list_roles({.after = "", .limit = 10}, "/service-role/");
  ASSERT_EQ(service_roles->items.size(), 1u);
  EXPECT_EQ(service_roles->items[0].name, "B");
}

TEST_F(RegistryIamTest, AUsersKeySignsUntilDeleted) {
  auto registry = std::move(*Registry::open(dir_ / "registry.db"));
  ASSERT_TRUE(registry->insert_user({"ZTUser", "AIDA" + std::string(17, 'A'), "/", 1.0}));
  ASSERT_TRUE(registry->insert_user_access_key({"AKIAUSER", "ZTUser", "Active", 2.0}, "s3cret"));
  EXPECT_EQ(**registry->find_secret("AKIAUSER"), "s3cret");
  EXPECT_EQ((*registry->find_user_access_key("AKIAUSER"))->user_name, "ZTUser");
  EXPECT_FALSE(*registry->find_user_access_key("AKIDROOT"));
  EXPECT_FALSE(registry->delete_user("ZTUser"));  // its key still references it
  EXPECT_FALSE(*registry->delete_user_access_key("Other", "AKIAUSER"));
  EXPECT_TRUE(*registry->delete_user_access_key("ztuser", "AKIAUSER"));
  EXPECT_FALSE(*registry->find_secret("AKIAUSER"));
  EXPECT_TRUE(registry->list_user_access_keys("ZTUser")->empty());
  EXPECT_TRUE(registry->delete_user("ZTUser"));
}

}  // namespace
}  // namespace zt::cloud::registry
