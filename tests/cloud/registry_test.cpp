#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "cloud/registry/registry.hpp"
#include "cloud/registry/sqlite.hpp"
#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

class RegistryTest : public testing::RegistryFixture {
 protected:
  Certificate cert(std::string id, std::optional<std::string> ca = std::nullopt) {
    return Certificate{
        .id = std::move(id), .pem = "pem", .ca_id = std::move(ca), .status = kInactive};
  }
};

TEST_F(RegistryTest, SchemaVersionIsRecordedAndReopenKeepsData) {
  ASSERT_TRUE(registry_->set_setting("account_id", "123456789012"));
  registry_.reset();
  auto db = Database::open(dir_ / "registry.db");
  ASSERT_TRUE(db);
  auto st = db->prepare("PRAGMA user_version");
  ASSERT_TRUE(st && *st->step());
  EXPECT_EQ(st->integer(0), Registry::schema_version());
  auto mode = db->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->step());
  EXPECT_EQ(mode->text(0), "wal");
  auto reopened = Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(*(*reopened)->get_setting("account_id").value(), "123456789012");
  EXPECT_EQ(
      std::filesystem::status(dir_ / "registry.db").permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// Prepared statements are kept and reused by SQL text: a reused one starts reset with no bindings,
// two live at once are distinct, one kept across a schema change still runs, and the connection
// closes with statements kept.
TEST(DatabaseTest, KeptStatementsAreResetUnboundAndFollowSchemaChanges) {
  auto dir = std::filesystem::temp_directory_path() / ("zt-sqlite-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    auto db = Database::open(dir / "kept.db");
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("CREATE TABLE t(a INTEGER, b TEXT)"));
    const char* insert = "INSERT INTO t(a, b) VALUES(?1, ?2)";
    ASSERT_TRUE(db->prepare(insert)->bind(1, 1).bind(2, "one").run());
    {
      auto again = db->prepare(insert);  // the kept one: its old values are gone
      ASSERT_TRUE(again);
      ASSERT_TRUE(again->bind(1, 2).run());
    }
    auto count = [&](const char* where) {
      auto st = db->prepare(std::string("SELECT count(*) FROM t WHERE ") + where);
      return st && *st->step() ? st->integer(0) : -1;
    };
    EXPECT_EQ(count("b IS NULL"), 1);
    {
      auto first = db->prepare("SELECT a FROM t ORDER BY a");
      auto second = db->prepare("SELECT a FROM t ORDER BY a");
      ASSERT_TRUE(first && second);
      ASSERT_TRUE(*first->step());
      ASSERT_TRUE(*second->step());
      ASSERT_TRUE(*second->step());
      EXPECT_EQ(first->integer(0), 1);
      EXPECT_EQ(second->integer(0), 2);
    }
    ASSERT_TRUE(db->exec("ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'x'"));
    auto all = db->prepare("SELECT * FROM t ORDER BY a");
    ASSERT_TRUE(all && *all->step());
    EXPECT_EQ(all->text(2), "x");
    // A failing single statement reports itself as before.
    EXPECT_FALSE(db->exec("RELEASE nothing"));
  }
  std::filesystem::remove_all(dir);
}

TEST_F(RegistryTest, RegistrationCodeIsCreatedOnceAndStable) {
  auto first = registry_->registration_code();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(*registry_->registration_code(), *first);
}

TEST_F(RegistryTest, FailedTransactionLeavesNothing) {
  Status result = registry_->transaction([&]() -> Status {
    ZT_TRY(registry_->insert_certificate(cert(std::string(64, 'a'))));
    ZT_TRY(registry_->insert_thing({.name = "t1", .id = "x"}));
    return make_error(Errc::invalid_argument, "client mistake found late");
  });
  EXPECT_FALSE(result);
  EXPECT_FALSE(registry_->find_certificate(std::string(64, 'a')).value());
  EXPECT_FALSE(registry_->find_thing("t1").value());
  // An inner failure poisons the outer transaction even if the outer body ignores it.
  Status outer = registry_->transaction([&]() -> Status {
    ZT_TRY(registry_->insert_thing({.name = "t2", .id = "x"}));
    (void)registry_->insert_thing({.name = "t2", .id = "duplicate"});
    return ok();
  });
  EXPECT_FALSE(outer);
  EXPECT_FALSE(registry_->find_thing("t2").value());
}

// Issue 12: an exception in a body (nlohmann's type_error on client JSON was one) used to leave
// depth_ raised, so every later transaction nested inside one that never committed and was lost
// at the next restart. Now the body's writes roll back and later writes commit durably.
TEST_F(RegistryTest, ExceptionInBodyRollsBackAndLaterWritesCommit) {
  Status thrown = registry_->transaction([&]() -> Status {
    EXPECT_TRUE(registry_->insert_thing({.name = "before-throw", .id = "x"}));
    throw std::runtime_error("type_error in a handler");
  });
  ASSERT_FALSE(thrown);
  EXPECT_NE(thrown.error().message.find("type_error in a handler"), std::string::npos);
  // Nested: the inner exception aborts the outer transaction too.
  Status nested = registry_->transaction([&]() -> Status {
    EXPECT_TRUE(registry_->insert_thing({.name = "outer", .id = "x"}));
    return registry_->transaction([]() -> Status { throw std::logic_error("inner"); });
  });
  EXPECT_FALSE(nested);
  ASSERT_TRUE(registry_->insert_thing({.name = "after-throw", .id = "y"}));
  // Reopening the database shows what was committed: only the write after the exceptions.
  registry_.reset();
  auto reopened = Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(reopened) << reopened.error().message;
  registry_ = std::move(*reopened);
  EXPECT_TRUE(registry_->find_thing("after-throw").value());
  EXPECT_FALSE(registry_->find_thing("before-throw").value());
  EXPECT_FALSE(registry_->find_thing("outer").value());
}

TEST_F(RegistryTest, DuplicateInsertIsAlreadyExists) {
  ASSERT_TRUE(registry_->insert_certificate(cert(std::string(64, 'b'))));
  auto again = registry_->insert_certificate(cert(std::string(64, 'b')));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists);
}

TEST_F(RegistryTest, ListsPageWithKeysetMarkersInBothDirections) {
  for (char c : std::string("edcba"))
    ASSERT_TRUE(registry_->insert_certificate(cert(std::string(64, c), "ca")));
  ASSERT_TRUE(registry_->insert_certificate(cert(std::string(64, 'f'))));
  std::vector<std::string> seen;
  PageRequest page{.after = "", .limit = 2, .ascending = true};
  for (int i = 0; i < 10; ++i) {
    auto result = registry_->list_certificates(page, std::string("ca"));
    ASSERT_TRUE(result);
    for (const auto& c : result->items) seen.push_back(c.id.substr(0, 1));
    if (result->next_key.empty()) break;
    page.after = result->next_key;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  auto descending = registry_->list_certificates({.after = "", .limit = 10, .ascending = false});
  ASSERT_TRUE(descending);
  ASSERT_EQ(descending->items.size(), 6u);
  EXPECT_EQ(descending->items.front().id[0], 'f');
  EXPECT_TRUE(descending->next_key.empty());
}

TEST_F(RegistryTest, PendingRegistrationIsIdempotentAndStatusUpdates) {
  auto pending = registry_->register_pending_certificate(cert(std::string(64, 'c'), "ca"));
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->status, kPendingActivation);
  ASSERT_TRUE(registry_->update_certificate_status(pending->id, kActive));
  auto again = registry_->register_pending_certificate(cert(std::string(64, 'c'), "ca"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, kActive);
  EXPECT_EQ(again->customer_version, 2);
  EXPECT_EQ(registry_->update_certificate_status(std::string(64, 'd'), kActive).error().code,
            Errc::not_found);
}

TEST_F(RegistryTest, PoliciesAttachToPrincipalsAndBlockNothingElse) {
  ASSERT_TRUE(registry_->insert_policy("p1", R"({"Statement":[]})", 1.0, "g"));
  ASSERT_TRUE(registry_->insert_policy("p2", R"({"Statement":[1]})", 1.0, "g"));
  ASSERT_TRUE(registry_->attach_policy("p1", "arn:cert/x"));
  ASSERT_TRUE(registry_->attach_policy("p2", "arn:cert/x"));
  ASSERT_TRUE(registry_->attach_policy("p2", "arn:cert/x"));  // idempotent
  auto policies = registry_->get_policies_for_principal("arn:cert/x");
  ASSERT_TRUE(policies);
  ASSERT_EQ(policies->size(), 2u);
  EXPECT_EQ((*policies)[1].document, R"({"Statement":[1]})");
  EXPECT_EQ(*registry_->count_policy_targets("p2"), 1);
  EXPECT_TRUE(*registry_->detach_policy("p2", "arn:cert/x"));
  EXPECT_FALSE(*registry_->detach_policy("p2", "arn:cert/x"));
  EXPECT_EQ(registry_->get_policies_for_principal("arn:cert/x")->size(), 1u);
}

TEST_F(RegistryTest, ThingsFilterByTypeAndAttributes) {
  ASSERT_TRUE(registry_->insert_thing_type({.name = "kit", .id = "1"}));
  ASSERT_TRUE(registry_->insert_thing(
      {.name = "a", .id = "1", .type_name = "kit", .attributes = R"({"color":"red"})"}));
  ASSERT_TRUE(
      registry_->insert_thing({.name = "b", .id = "2", .attributes = R"({"color":"reddish"})"}));
  auto typed = registry_->list_things({}, {.type_name = "kit"});
  ASSERT_TRUE(typed);
  ASSERT_EQ(typed->items.size(), 1u);
  EXPECT_EQ(typed->items[0].name, "a");
  auto exact = registry_->list_things({}, {.attribute_name = "color", .attribute_value = "red"});
  EXPECT_EQ(exact->items.size(), 1u);
  auto prefix = registry_->list_things(
      {}, {.attribute_name = "color", .attribute_value = "red", .attribute_prefix = true});
  EXPECT_EQ(prefix->items.size(), 2u);
  ASSERT_TRUE(registry_->attach_thing_principal("a", "arn:cert/x", "NON_EXCLUSIVE_THING"));
  EXPECT_EQ(registry_->list_principal_things("arn:cert/x", {})->items,
            std::vector<std::string>{"a"});
  EXPECT_EQ(registry_->list_thing_principals("a", {})->items,
            std::vector<std::string>{"arn:cert/x"});
}

TEST_F(RegistryTest, TopicRulesRoundTrip) {
  ASSERT_TRUE(registry_->insert_topic_rule(
      {.name = "r1", .payload = R"({"sql":"SELECT * FROM 'a'"})", .created_at = 2}));
  ASSERT_TRUE(registry_->replace_topic_rule("r1", R"({"sql":"SELECT * FROM 'b'"})"));
  auto rules = registry_->get_topic_rules();
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].payload, R"({"sql":"SELECT * FROM 'b'"})");
  EXPECT_EQ(registry_->replace_topic_rule("nope", "{}").error().code, Errc::not_found);
}

}  // namespace
}  // namespace zt::cloud::registry
