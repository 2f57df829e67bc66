// Registry::record_function_invocation, recent_function_invocations and
// list_function_invocations: the function invocation log, newest first, the failed-only filter,
// offset paging with the device's thing, and nothing kept from a transaction that fails.
#include <gtest/gtest.h>

#include <stdexcept>

#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

using testing::kCertificatePrefix;

class RegistryRulesTest : public testing::RegistryFixture {
 protected:
  static InvocationRow attempt(std::string id, int64_t number, bool succeeded,
                               std::string certificate_id = "") {
    return {.invocation_id = std::move(id),
            .function_name = "ZTLambdaJITR",
            .rule_name = "ZeroTouchJustInTimeRegistration",
            .certificate_id = std::move(certificate_id),
            .thing_name = std::nullopt,
            .attempt = number,
            .succeeded = succeeded,
            .final = succeeded || number == 3,
            .detail = succeeded ? "ok" : "exit code 3: boom",
            .started_ms = 1000 * number,
            .duration_ms = 7};
  }
  static std::vector<std::string> ids(const std::vector<InvocationRow>& rows) {
    std::vector<std::string> out;
    for (const auto& row : rows)
      out.push_back(row.invocation_id + "#" + std::to_string(row.attempt));
    return out;
  }
};

TEST_F(RegistryRulesTest, AttemptsAreRecordedAndListedNewestFirst) {
  ASSERT_TRUE(registry_->record_function_invocation(attempt("1-1", 1, false, id_of(1))));
  ASSERT_TRUE(registry_->record_function_invocation(attempt("1-1", 2, true, id_of(1))));
  ASSERT_TRUE(registry_->record_function_invocation(attempt("2-1", 1, true)));

  auto recent = registry_->recent_function_invocations(2);
  ASSERT_TRUE(recent) << recent.error().message;
  EXPECT_EQ(ids(*recent), (std::vector<std::string>{"2-1#1", "1-1#2"}));
  const InvocationRow& newest = (*recent)[0];
  EXPECT_EQ(newest.function_name, "ZTLambdaJITR");
  EXPECT_EQ(newest.rule_name, "ZeroTouchJustInTimeRegistration");
  EXPECT_FALSE(newest.certificate_id);  // "" is stored as no device
  EXPECT_TRUE(newest.succeeded);
  EXPECT_TRUE(newest.final);
  EXPECT_EQ(newest.started_ms, 1000);
  EXPECT_EQ(newest.duration_ms, 7);
  EXPECT_EQ((*recent)[1].certificate_id, id_of(1));

  auto all = registry_->recent_function_invocations(10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->back().detail, "exit code 3: boom");
  EXPECT_FALSE(all->back().final);
  // Committed (a diagnostic commit skips the fsync, not the commit): another open sees them.
  registry_.reset();
  auto reopened = Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->recent_function_invocations(10)->size(), 3u);
}

TEST_F(RegistryRulesTest, TheConsolePageFiltersFailuresPagesByOffsetAndNamesTheThing) {
  add_device(id_of(7), "ca", kActive, "kit-7");
  ASSERT_TRUE(registry_->record_function_invocation(attempt("a", 1, false, id_of(7))));
  ASSERT_TRUE(registry_->record_function_invocation(attempt("a", 2, false, id_of(7))));
  ASSERT_TRUE(registry_->record_function_invocation(attempt("a", 3, false, id_of(7))));
  ASSERT_TRUE(registry_->record_function_invocation(attempt("b", 1, true, id_of(8))));
  ASSERT_TRUE(registry_->record_function_invocation(attempt("c", 1, true)));

  auto all = registry_->list_function_invocations(kCertificatePrefix, {.offset = 0, .limit = 50});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->total, 5);
  EXPECT_EQ(ids(all->items), (std::vector<std::string>{"c#1", "b#1", "a#3", "a#2", "a#1"}));
  EXPECT_EQ(all->items[2].thing_name, "kit-7");
  EXPECT_FALSE(all->items[1].thing_name);  // a certificate without a thing
  EXPECT_FALSE(all->items[0].certificate_id);

  auto middle = registry_->list_function_invocations(kCertificatePrefix, {.offset = 1, .limit = 2});
  ASSERT_TRUE(middle);
  EXPECT_EQ(middle->total, 5);
  EXPECT_EQ(middle->offset, 1);
  EXPECT_EQ(middle->limit, 2);
  EXPECT_EQ(ids(middle->items), (std::vector<std::string>{"b#1", "a#3"}));

  auto failed = registry_->list_function_invocations(
      kCertificatePrefix, {.offset = 0, .limit = 50, .failed_only = true});
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->total, 3);
  EXPECT_EQ(ids(failed->items), (std::vector<std::string>{"a#3", "a#2", "a#1"}));
  EXPECT_TRUE(failed->items[0].final);

  auto negative = registry_->list_function_invocations(kCertificatePrefix, {.offset = -1});
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code, Errc::invalid_argument);
  EXPECT_NE(negative.error().message.find("offset -1"), std::string::npos);
  auto too_many =
      registry_->list_function_invocations(kCertificatePrefix, {.limit = kMaxPageSize + 1});
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message.find("limit 501"), std::string::npos);
}

TEST_F(RegistryRulesTest, AnAttemptInsideAFailedTransactionIsNotKept) {
  // Inside an ordinary transaction the diagnostic one is an ordinary nested one: rolled back with
  // it.
  auto failed = registry_->transaction([&]() -> Status {
    ZT_TRY(registry_->record_function_invocation(attempt("x", 1, true)));
    return make_error(Errc::internal, "the rest failed");
  });
  ASSERT_FALSE(failed);
  auto thrown = registry_->transaction([&]() -> Status {
    ZT_TRY(registry_->record_function_invocation(attempt("y", 1, true)));
    throw std::runtime_error("thrown after recording");
  });
  ASSERT_FALSE(thrown);
  EXPECT_TRUE(registry_->recent_function_invocations(10)->empty());
  ASSERT_TRUE(registry_->record_function_invocation(attempt("z", 1, true)));
  EXPECT_EQ(ids(*registry_->recent_function_invocations(10)), std::vector<std::string>{"z#1"});
}

}  // namespace
}  // namespace zt::cloud::registry
