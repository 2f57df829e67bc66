// The registry's change listeners (what revocation of live sessions and the broker's trust-anchor
// cache rely on) and the upgrade of an older build's database through the versioned migrations.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "cloud/registry/registry.hpp"
#include "cloud/registry/sqlite.hpp"

namespace zt::cloud::registry {

// The registry's own connection, for what only it can show (its PRAGMA synchronous).
struct RegistryTestAccess {
  static Database& connection(Registry& registry) { return registry.db_; }
};

namespace {

namespace fs = std::filesystem;

class RegistryChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("zt-registry-changes-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Certificate cert(std::string id, std::string ca = "ca") {
    return Certificate{
        .id = std::move(id), .pem = "pem", .ca_id = std::move(ca), .status = kActive};
  }
  static int64_t count(Database& db, const std::string& table) {
    auto st = db.prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(st && *st->step());
    return st ? st->integer(0) : -1;
  }
  static int64_t user_version(Database& db) {
    auto st = db.prepare("PRAGMA user_version");
    EXPECT_TRUE(st && *st->step());
    return st ? st->integer(0) : -1;
  }

  static std::string fmt_id(int t, int i) {
    std::string id = std::to_string(t) + "-" + std::to_string(i);
    return std::string(64 - id.size(), '0') + id;
  }

  fs::path dir_;
};

TEST_F(RegistryChangesTest, ListenersSeeCommittedCertificateAndCaChangesOnly) {
  auto registry = std::move(*Registry::open(dir_ / "registry.db"));
  std::vector<std::vector<Change>> seen;
  registry->add_change_listener([&](const std::vector<Change>& changes) {
    // Called after COMMIT without the lock: the registry is usable and shows the change.
    for (const auto& change : changes) {
      if (change.kind != Change::Kind::certificate || changes.size() > 1) continue;
      auto found = registry->find_certificate(change.id);
      ASSERT_TRUE(found);
      if (change.status.empty()) {
        EXPECT_FALSE(*found);
      } else {
        ASSERT_TRUE(*found);
        EXPECT_EQ((*found)->status, change.status);
      }
    }
    seen.push_back(changes);
  });
  const std::string a(64, 'a'), b(64, 'b');
  ASSERT_TRUE(registry->insert_certificate(cert(a)));
  ASSERT_TRUE(registry->insert_certificate(cert(b)));
  EXPECT_TRUE(seen.empty());  // new certificates revoke nothing

  ASSERT_TRUE(registry->update_certificate_status(a, kRevoked));
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].size(), 1u);
  EXPECT_EQ(seen[0][0].kind, Change::Kind::certificate);
  EXPECT_EQ(seen[0][0].id, a);
  EXPECT_EQ(seen[0][0].status, kRevoked);

  // A rolled-back transaction reports nothing; a committed one reports once, at its end.
  Status failed = registry->transaction([&]() -> Status {
    ZT_TRY(registry->update_certificate_status(b, kInactive));
    return make_error(Errc::invalid_argument, "late failure");
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(registry->find_certificate(b).value()->status, kActive);
  ASSERT_TRUE(registry->transaction([&]() -> Status {
    ZT_TRY(registry->update_certificate_status(b, kInactive));
    EXPECT_EQ(seen.size(), 1u);  // not yet: the change is not committed
    return registry->delete_certificate(b);
  }));
  ASSERT_EQ(seen.size(), 2u);
  ASSERT_EQ(seen[1].size(), 2u);
  EXPECT_EQ(seen[1][0].status, kInactive);
  EXPECT_EQ(seen[1][1].id, b);
  EXPECT_EQ(seen[1][1].status, "");  // deleted

  CaCertificate ca{.id = std::string(64, 'c'), .pem = "pem", .subject = "s", .status = kActive};
  ASSERT_TRUE(registry->insert_ca(ca));
  ca.status = kInactive;
  ASSERT_TRUE(registry->update_ca(ca));
  ASSERT_TRUE(registry->delete_ca(ca.id));
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 2; i < 5; ++i) EXPECT_EQ(seen[i][0].kind, Change::Kind::ca);
  EXPECT_EQ(seen[2][0].status, kActive);
  EXPECT_EQ(seen[3][0].status, kInactive);
  EXPECT_EQ(seen[4][0].status, "");
  // A failed update (unknown id) reports nothing.
  EXPECT_FALSE(registry->update_certificate_status(std::string(64, 'd'), kRevoked));
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(RegistryChangesTest, DiagnosticTransactionsCommitWithoutWaitingForTheSync) {
  auto registry = std::move(*Registry::open(dir_ / "registry.db"));
  // Group commit: COMMIT does not fsync (synchronous=NORMAL), the sync thread fdatasyncs the WAL.
  auto synchronous = RegistryTestAccess::connection(*registry).prepare("PRAGMA synchronous");
  ASSERT_TRUE(synchronous && *synchronous->step());
  EXPECT_EQ(synchronous->integer(0), 1);
  uint64_t syncs = registry->wal_syncs();
  ASSERT_TRUE(
      registry->diagnostic_transaction([&] { return registry->set_setting("diagnostic", "1"); }));
  EXPECT_EQ(registry->wal_syncs(), syncs);  // nobody waited for it
  ASSERT_TRUE(registry->set_setting("ordinary", "1"));
  EXPECT_GT(registry->wal_syncs(), syncs);  // returned after its fdatasync
  syncs = registry->wal_syncs();
  ASSERT_TRUE(registry->get_setting("ordinary"));  // a read writes nothing: no sync
  EXPECT_EQ(registry->wal_syncs(), syncs);
  registry.reset();
  auto reopened = std::move(*Registry::open(dir_ / "registry.db"));
  EXPECT_EQ(*reopened->get_setting("diagnostic").value(), "1");
  EXPECT_EQ(*reopened->get_setting("ordinary").value(), "1");
}

// Group commit: bodies from several threads share transactions; each body's failure undoes only
// its own writes, and every committed change is reported.
TEST_F(RegistryChangesTest, GroupedTransactionsIsolateFailuresAndCommitTheRest) {
  auto registry = std::move(*Registry::open(dir_ / "registry.db"));
  std::mutex seen_mutex;
  std::set<std::string> revoked;
  registry->add_change_listener([&](const std::vector<Change>& changes) {
    std::lock_guard lock(seen_mutex);
    for (const auto& change : changes) revoked.insert(change.id);
  });
  constexpr int kThreads = 4, kEach = 25;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      ASSERT_TRUE(registry->insert_certificate(cert(fmt_id(t, i))));
    }
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        bool fail = i % 5 == 0;
        Status status = registry->grouped_transaction([&]() -> Status {
          ZT_TRY(registry->update_certificate_status(fmt_id(t, i), kRevoked));
          ZT_TRY(registry->set_setting("last", fmt_id(t, i)));
          if (fail) return make_error(Errc::invalid_argument, "this one fails");
          return ok();
        });
        if (static_cast<bool>(status) == fail) ++failures;
        if (!status && status.error().message != "this one fails") ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      bool failed = i % 5 == 0;
      EXPECT_EQ(registry->find_certificate(fmt_id(t, i)).value()->status,
                failed ? kActive : kRevoked);
      EXPECT_EQ(revoked.contains(fmt_id(t, i)), !failed);
    }
  }
  // An inner step that fails poisons its own body only, even if the body ignores the failure.
  Status ignored = registry->grouped_transaction([&]() -> Status {
    (void)registry->update_certificate_status(std::string(64, 'z'), kRevoked);  // not found
    return ok();
  });
  EXPECT_FALSE(ignored);
}

// A database of a build before the data-plane tables were a migration: schema version 1, with
// `shadows` and `function_invocations` created by `ztp cloud run` with CREATE TABLE IF NOT EXISTS
// (the statements below are those that build ran), or without them when its MQTT side never ran.
TEST_F(RegistryChangesTest, Version1DatabaseIsUpgradedInPlaceKeepingItsData) {
  const fs::path with_tables = dir_ / "with-tables.db", without_tables = dir_ / "without.db";
  for (const auto& path : {with_tables, without_tables}) {
    auto old = Registry::open(path, 1);
    ASSERT_TRUE(old) << old.error().message;
    auto db = std::move(*Database::open(path));
    ASSERT_EQ(user_version(db), 1);
    ASSERT_TRUE((*old)->set_setting("account_id", "123456789012"));
    ASSERT_TRUE((*old)->insert_certificate(cert(std::string(64, 'e'))));
  }
  {
    // What that build's `ztp cloud run` did, through a connection of its own.
    auto db = std::move(*Database::open(with_tables));
    ASSERT_TRUE(db.exec(
        "CREATE TABLE IF NOT EXISTS shadows(thing_name TEXT NOT NULL, shadow_name TEXT NOT NULL, "
        "document TEXT NOT NULL, PRIMARY KEY(thing_name, shadow_name))"));
    ASSERT_TRUE(db.exec(
        "CREATE TABLE IF NOT EXISTS function_invocations(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "invocation_id TEXT NOT NULL, function_name TEXT NOT NULL, attempt INTEGER NOT NULL, "
        "succeeded INTEGER NOT NULL, final INTEGER NOT NULL, detail TEXT NOT NULL, "
        "started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL)"));
    ASSERT_TRUE(db.exec("INSERT INTO shadows VALUES('kit-1', '', '{\"version\":3}')"));
    ASSERT_TRUE(db.exec(
        "INSERT INTO function_invocations(invocation_id, function_name, attempt, succeeded, final, "
        "detail, started_ms, duration_ms) VALUES('1-1', 'ZTLambdaJITR', 1, 1, 1, 'ok', 1, 2)"));
  }

  for (const auto& path : {with_tables, without_tables}) {
    auto upgraded = Registry::open(path);
    ASSERT_TRUE(upgraded) << path << ": " << upgraded.error().message;
    auto& registry = **upgraded;
    auto db = std::move(*Database::open(path));  // a second connection to the upgraded file
    EXPECT_EQ(user_version(db), Registry::schema_version());
    EXPECT_GE(Registry::schema_version(), 2);
    EXPECT_EQ(*registry.get_setting("account_id").value(), "123456789012");
    EXPECT_TRUE(registry.find_certificate(std::string(64, 'e')).value());
    bool had_tables = path == with_tables;
    EXPECT_EQ(count(db, "shadows"), had_tables ? 1 : 0) << path;
    EXPECT_EQ(count(db, "function_invocations"), had_tables ? 1 : 0) << path;
    // The tables are usable with the columns the data plane writes.
    EXPECT_TRUE(registry.put_shadow("kit-2", "cfg", "{}"));
    if (had_tables) {
      EXPECT_EQ(*registry.find_shadow("kit-1", "").value(), "{\"version\":3}");
    }
  }
  // Opening again changes nothing.
  auto again = Registry::open(with_tables);
  ASSERT_TRUE(again);
  auto db = std::move(*Database::open(with_tables));
  EXPECT_EQ(count(db, "shadows"), 2);
}

}  // namespace
}  // namespace zt::cloud::registry
