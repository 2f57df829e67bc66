// Registry::find_shadow, put_shadow and list_named_shadows: stored documents per thing and shadow
// name, versions that survive a delete (the document keeps its row), keyset paging of the named
// shadows that exist, and all or nothing inside a transaction.
#include <gtest/gtest.h>

#include <stdexcept>

#include "cloud/shadow/shadow.hpp"
#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

class RegistryShadowsTest : public testing::RegistryFixture {
 protected:
  // The stored document of a shadow, parsed back as the service does.
  std::optional<shadow::Shadow> stored(const std::string& thing, const std::string& name) {
    auto found = registry_->find_shadow(thing, name);
    EXPECT_TRUE(found) << found.error().message;
    if (!found || !*found) return std::nullopt;
    return shadow::Shadow::from_storage(nlohmann::json::parse(**found));
  }
  // What ShadowStore does for an update: read, apply, write back.
  void update(const std::string& thing, const std::string& name, std::string_view payload) {
    shadow::Shadow document = stored(thing, name).value_or(shadow::Shadow());
    ASSERT_TRUE(document.update(payload, 1000));
    ASSERT_TRUE(registry_->put_shadow(thing, name, document.to_storage().dump()));
  }
  void remove(const std::string& thing, const std::string& name) {
    auto document = stored(thing, name);
    ASSERT_TRUE(document);
    ASSERT_TRUE(document->remove(1000, name));
    ASSERT_TRUE(registry_->put_shadow(thing, name, document->to_storage().dump()));
  }
  Page<std::string> named(const std::string& thing, std::string after, int limit,
                          bool ascending = true) {
    auto page = registry_->list_named_shadows(
        thing, {.after = std::move(after), .limit = limit, .ascending = ascending});
    EXPECT_TRUE(page) << page.error().message;
    return page ? *page : Page<std::string>{};
  }
};

TEST_F(RegistryShadowsTest, DocumentsAreStoredPerThingAndShadowName) {
  auto missing = registry_->find_shadow("kit-1", "");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  ASSERT_TRUE(registry_->put_shadow("kit-1", "", R"({"classic":1})"));
  ASSERT_TRUE(registry_->put_shadow("kit-1", "config", R"({"named":1})"));
  ASSERT_TRUE(registry_->put_shadow("kit-2", "", R"({"other":1})"));
  EXPECT_EQ(registry_->find_shadow("kit-1", "").value(), R"({"classic":1})");
  EXPECT_EQ(registry_->find_shadow("kit-1", "config").value(), R"({"named":1})");
  EXPECT_EQ(registry_->find_shadow("kit-2", "").value(), R"({"other":1})");
  EXPECT_FALSE(registry_->find_shadow("kit-2", "config").value());
  // A put replaces the document.
  ASSERT_TRUE(registry_->put_shadow("kit-1", "", R"({"classic":2})"));
  EXPECT_EQ(registry_->find_shadow("kit-1", "").value(), R"({"classic":2})");
}

TEST_F(RegistryShadowsTest, VersionsContinueAfterADelete) {
  update("kit-1", "", R"({"state":{"desired":{"led1":"on"}}})");
  update("kit-1", "", R"({"state":{"reported":{"led1":"on"}}})");
  ASSERT_TRUE(stored("kit-1", ""));
  EXPECT_EQ(stored("kit-1", "")->version(), 2);
  EXPECT_TRUE(stored("kit-1", "")->exists());

  remove("kit-1", "");
  auto deleted = stored("kit-1", "");
  ASSERT_TRUE(deleted);  // the row stays, marked deleted
  EXPECT_FALSE(deleted->exists());

  update("kit-1", "", R"({"state":{"desired":{"led2":"on"}}})");
  EXPECT_TRUE(stored("kit-1", "")->exists());
  EXPECT_EQ(stored("kit-1", "")->version(), 3);
  EXPECT_EQ(stored("kit-1", "")->desired(), nlohmann::json({{"led2", "on"}}));
}

TEST_F(RegistryShadowsTest, NamedShadowsThatExistArePagedByName) {
  for (const char* name : {"e", "b", "d", "a", "c", "gone"})
    update("kit-1", name, R"({"state":{"reported":{"x":1}}})");
  remove("kit-1", "gone");
  update("kit-1", "", R"({"state":{"reported":{"x":1}}})");    // classic: not a named shadow
  update("kit-2", "zz", R"({"state":{"reported":{"x":1}}})");  // another thing's

  auto first = named("kit-1", "", 2);
  EXPECT_EQ(first.items, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(first.next_key, "b");
  auto second = named("kit-1", first.next_key, 2);
  EXPECT_EQ(second.items, (std::vector<std::string>{"c", "d"}));
  auto last = named("kit-1", second.next_key, 2);
  EXPECT_EQ(last.items, std::vector<std::string>{"e"});
  EXPECT_EQ(last.next_key, "");
  EXPECT_EQ(named("kit-1", "", 10, false).items,
            (std::vector<std::string>{"e", "d", "c", "b", "a"}));
  EXPECT_TRUE(named("kit-3", "", 10).items.empty());

  // A re-created shadow is listed again.
  update("kit-1", "gone", R"({"state":{"reported":{"x":2}}})");
  EXPECT_EQ(named("kit-1", "d", 10).items, (std::vector<std::string>{"e", "gone"}));
}

TEST_F(RegistryShadowsTest, AFailingTransactionKeepsTheDocumentBefore) {
  ASSERT_TRUE(registry_->put_shadow("kit-1", "", R"({"v":1})"));
  auto thrown = registry_->transaction([&]() -> Status {
    ZT_TRY(registry_->put_shadow("kit-1", "", R"({"v":2})"));
    ZT_TRY(registry_->put_shadow("kit-1", "new", R"({"v":1})"));
    throw std::runtime_error("a corrupt document");
  });
  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.error().code, Errc::internal);
  EXPECT_EQ(registry_->find_shadow("kit-1", "").value(), R"({"v":1})");
  EXPECT_FALSE(registry_->find_shadow("kit-1", "new").value());
  // Not left open: the next write commits.
  ASSERT_TRUE(registry_->put_shadow("kit-1", "", R"({"v":3})"));
  registry_.reset();
  auto reopened = Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->find_shadow("kit-1", "").value(), R"({"v":3})");
}

// Registry::savepoint (the shadow updates batched on the service worker): inside a transaction a
// failing step is undone alone and the others commit; an inner step's failure (which would make an
// ordinary nested transaction roll everything back) stays inside the savepoint too.
TEST_F(RegistryShadowsTest, AFailingSavepointIsUndoneAloneAndTheOthersCommit) {
  auto done = registry_->transaction([&]() -> Status {
    EXPECT_TRUE(registry_->savepoint([&] { return registry_->put_shadow("a", "", R"({"v":1})"); }));
    auto failed = registry_->savepoint([&]() -> Status {
      ZT_TRY(registry_->put_shadow("b", "", R"({"v":1})"));
      return make_error(Errc::parse, "a corrupt document");
    });
    EXPECT_FALSE(failed);
    auto thrown = registry_->savepoint([&]() -> Status {
      ZT_TRY(registry_->put_shadow("c", "", R"({"v":1})"));
      // An inner transaction that fails marks the enclosing one for rollback…
      (void)registry_->transaction(
          [&]() -> Status { return make_error(Errc::conflict, "inner step failed"); });
      return ok();
    });
    EXPECT_FALSE(thrown);  // …which the savepoint reports and undoes, alone
    EXPECT_TRUE(registry_->savepoint([&] { return registry_->put_shadow("d", "", R"({"v":1})"); }));
    return ok();
  });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_TRUE(registry_->find_shadow("a", "").value());
  EXPECT_FALSE(registry_->find_shadow("b", "").value());
  EXPECT_FALSE(registry_->find_shadow("c", "").value());
  EXPECT_TRUE(registry_->find_shadow("d", "").value());
  // Outside a transaction it is one.
  EXPECT_TRUE(registry_->savepoint([&] { return registry_->put_shadow("e", "", R"({"v":1})"); }));
  EXPECT_TRUE(registry_->find_shadow("e", "").value());
}

}  // namespace
}  // namespace zt::cloud::registry
