// Registry's Lambda functions and permissions (registry_lambda.cpp), and migration 4, which turns
// the functions `ztp cloud function add` stored as settings into `provided` functions with the
// rules' invoke permission.
#include <gtest/gtest.h>

#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

class RegistryLambdaTest : public testing::RegistryFixture {
 protected:
  static LambdaFunction function(std::string name) {
    return {.name = std::move(name),
            .runtime = "python3.11",
            .handler = "lambda_function.lambda_handler",
            .role = "arn:aws:iam::123456789012:role/r",
            .command = std::nullopt,
            .code_sha256 = "c2hh",
            .code_size = 3,
            .environment = R"({"STAGE":"test"})",
            .timeout = 7,
            .memory_size = 256,
            .description = "d",
            .last_modified = "2026-01-01T00:00:00.000+0000",
            .revision_id = "r1"};
  }
  static std::vector<uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }
};

TEST_F(RegistryLambdaTest, FunctionsAreStoredWithTheirCode) {
  ASSERT_TRUE(registry_->insert_lambda_function(function("f"), bytes("zip")));
  auto found = registry_->find_lambda_function("f");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->handler, "lambda_function.lambda_handler");
  EXPECT_EQ((*found)->timeout, 7);
  EXPECT_EQ((*found)->memory_size, 256);
  EXPECT_EQ((*found)->environment, R"({"STAGE":"test"})");
  EXPECT_FALSE((*found)->command);
  auto code = registry_->lambda_function_code("f");
  ASSERT_TRUE(code && *code);
  EXPECT_EQ(**code, bytes("zip"));

  auto again = registry_->insert_lambda_function(function("f"), bytes("other"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_EQ(**registry_->lambda_function_code("f"), bytes("zip"));
  EXPECT_FALSE(*registry_->find_lambda_function("g"));
  EXPECT_FALSE(*registry_->lambda_function_code("g"));
}

TEST_F(RegistryLambdaTest, UpdateReplacesTheConfigurationAndTheCodeOnlyWhenGiven) {
  ASSERT_TRUE(registry_->insert_lambda_function(function("f"), bytes("one")));
  auto changed = function("f");
  changed.timeout = 60;
  changed.revision_id = "r2";
  ASSERT_TRUE(registry_->update_lambda_function(changed));
  EXPECT_EQ((*registry_->find_lambda_function("f"))->timeout, 60);
  EXPECT_EQ(**registry_->lambda_function_code("f"), bytes("one"));
  auto two = bytes("two");
  ASSERT_TRUE(registry_->update_lambda_function(changed, std::span<const uint8_t>(two)));
  EXPECT_EQ(**registry_->lambda_function_code("f"), two);
  auto missing = registry_->update_lambda_function(function("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_F(RegistryLambdaTest, ListPagesInNameOrder) {
  for (const char* name : {"c", "a", "b"})
    ASSERT_TRUE(registry_->insert_lambda_function(function(name), {}));
  auto first = registry_->list_lambda_functions({.after = "", .limit = 2});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].name, "a");
  EXPECT_EQ(first->items[1].name, "b");
  EXPECT_EQ(first->next_key, "b");
  auto second = registry_->list_lambda_functions({.after = first->next_key, .limit = 2});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].name, "c");
  EXPECT_TRUE(second->next_key.empty());
}

TEST_F(RegistryLambdaTest, PermissionsKeepTheirOrderRefuseADuplicateSidAndGoWithTheFunction) {
  ASSERT_TRUE(registry_->insert_lambda_function(function("f"), {}));
  ASSERT_TRUE(
      registry_->add_lambda_permission({.function_name = "f", .sid = "b", .statement = "{1}"}));
  ASSERT_TRUE(
      registry_->add_lambda_permission({.function_name = "f", .sid = "a", .statement = "{2}"}));
  auto duplicate =
      registry_->add_lambda_permission({.function_name = "f", .sid = "a", .statement = "{3}"});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::already_exists);
  auto listed = registry_->lambda_permissions("f");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].sid, "b");
  EXPECT_EQ((*listed)[1].statement, "{2}");
  EXPECT_TRUE(*registry_->remove_lambda_permission("f", "b"));
  EXPECT_FALSE(*registry_->remove_lambda_permission("f", "b"));
  ASSERT_TRUE(registry_->delete_lambda_function("f"));
  EXPECT_TRUE(registry_->lambda_permissions("f")->empty());
  auto gone = registry_->delete_lambda_function("f");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
}

// A state directory of the build before Lambda (schema 3): its `function add` functions and a JITR
// rule naming the built-in function keep working after the upgrade.
TEST_F(RegistryLambdaTest, MigrationTurnsCommandSettingsIntoProvidedFunctions) {
  registry_.reset();
  std::filesystem::remove_all(dir_ / "registry.db");
  {
    auto old = Registry::open(dir_ / "registry.db", 3);
    ASSERT_TRUE(old) << old.error().message;
    ASSERT_TRUE((*old)->set_setting("account_id", "123456789012"));
    ASSERT_TRUE((*old)->set_setting("region", "eu-west-1"));
    ASSERT_TRUE((*old)->set_setting("function.Py", "python3 x.py"));
    ASSERT_TRUE((*old)->set_setting("function.Py.timeout", "45"));
    ASSERT_TRUE((*old)->insert_topic_rule(
        {.name = "J",
         .payload = R"({"actions":[{"lambda":{"functionArn":)"
                    R"("arn:aws:lambda:eu-west-1:123456789012:function:ZTLambdaJITR"}}]})",
         .created_at = 1}));
  }
  auto opened = Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(opened) << opened.error().message;
  registry_ = std::move(*opened);
  auto py = registry_->find_lambda_function("Py");
  ASSERT_TRUE(py && *py);
  EXPECT_EQ((*py)->runtime, "provided");
  EXPECT_EQ((*py)->command, "python3 x.py");
  EXPECT_EQ((*py)->timeout, 45);
  EXPECT_FALSE(*registry_->get_setting("function.Py"));
  for (const char* name : {"Py", "ZTLambdaJITR"}) {
    auto statements = registry_->lambda_permissions(name);
    ASSERT_TRUE(statements);
    ASSERT_EQ(statements->size(), 1u) << name;
    EXPECT_NE((*statements)[0].statement.find(
                  std::string("arn:aws:lambda:eu-west-1:123456789012:function:") + name),
              std::string::npos);
    EXPECT_NE((*statements)[0].statement.find("iot.amazonaws.com"), std::string::npos);
  }
}

}  // namespace
}  // namespace zt::cloud::registry
