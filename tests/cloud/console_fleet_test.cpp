// The fleet view's data against a real Registry in a temp dir: the schema (device_events,
// presence, triggers), the EventRecorder, a JITR device's whole timeline through the real
// authenticator and rules runtime, server-side device paging and filters, and invocations.
#include <gtest/gtest.h>

#include <filesystem>

#include "broker/trust.hpp"
#include "cloud/console/fleet.hpp"
#include "cloud/events/recorder.hpp"
#include "cloud/registry/sqlite.hpp"
#include "cloud/service/auth.hpp"
#include "cloud/service/rules_runtime.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "registry_fixture.hpp"
#include "support/pki_chain.hpp"

namespace zt::cloud::console {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace events;

constexpr const char* kPrefix = registry::testing::kCertificatePrefix;

DeviceQuery query(int64_t offset, int limit, std::string q = "", std::string status = "") {
  return {.offset = offset, .limit = limit, .q = std::move(q), .status = std::move(status)};
}

std::vector<std::string> kinds(const Timeline& timeline) {
  std::vector<std::string> out;
  for (const auto& event : timeline.items) out.push_back(event.kind);
  return out;
}

class FleetTest : public registry::testing::RegistryFixture {};

TEST_F(FleetTest, MigrationIsVersionedAndReopens) {
  {
    // The file as another connection sees it.
    auto db = std::move(*registry::Database::open(dir_ / "registry.db"));
    auto st = *db.prepare("PRAGMA user_version");
    ASSERT_TRUE(*st.step());
    EXPECT_EQ(st.integer(0), registry::Registry::schema_version());
    auto tables = *db.prepare(
        "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('device_events', 'device_presence', "
        "'certificates_by_status', 'certificate_status', 'thing_created', 'policy_attached')");
    ASSERT_TRUE(*tables.step());
    EXPECT_EQ(tables.integer(0), 6);
  }
  registry_.reset();
  auto reopened = registry::Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(reopened) << reopened.error().message;
  registry_ = std::move(*reopened);
  add_device(id_of(1), "ca", registry::kActive, "thing-1");
  EXPECT_EQ(registry_->list_devices(kPrefix, {})->total, 1);
}

TEST_F(FleetTest, UpgradesARegistryWhoseInvocationLogPredatesTheMigrations) {
  fs::path old_path = dir_ / "old.db";
  {
    // What create_invocation_table made before the migrations (schema version 1), with one attempt
    // logged.
    auto db = std::move(*registry::Database::open(old_path));
    ASSERT_TRUE(db.exec(
        "CREATE TABLE function_invocations(seq INTEGER PRIMARY KEY AUTOINCREMENT, invocation_id "
        "TEXT NOT NULL, function_name TEXT NOT NULL, attempt INTEGER NOT NULL, succeeded INTEGER "
        "NOT NULL, final INTEGER NOT NULL, detail TEXT NOT NULL, started_ms INTEGER NOT NULL, "
        "duration_ms INTEGER NOT NULL); INSERT INTO function_invocations(invocation_id, "
        "function_name, attempt, succeeded, final, detail, started_ms, duration_ms) "
        "VALUES('1-1', 'Old', 1, 0, 1, 'boom', 1000, 5)"));
  }
  auto upgraded = registry::Registry::open(old_path);
  ASSERT_TRUE(upgraded) << upgraded.error().message;
  auto failed = (*upgraded)->list_function_invocations(
      kPrefix, {.offset = 0, .limit = 10, .failed_only = true});
  ASSERT_TRUE(failed) << failed.error().message;
  ASSERT_EQ(failed->total, 1);
  EXPECT_EQ(failed->items[0].function_name, "Old");
  EXPECT_EQ(failed->items[0].rule_name, "");
  EXPECT_FALSE(failed->items[0].certificate_id);
}

TEST_F(FleetTest, JitrDeviceTimelineIsInOrderByCertificateAndByThing) {
  auto chain = pki::testing::make_chain(unix_now());
  std::string ca_id = *broker::certificate_id(chain.signer.get());
  ASSERT_TRUE(registry_->insert_ca({.id = ca_id,
                                    .pem = *crypto::certificate_to_pem(chain.signer.get()),
                                    .subject = "signer",
                                    .status = registry::kActive,
                                    .auto_registration = "ENABLE"}));
  service::AccountInfo account{"123456789012", "us-east-1"};
  EventRecorder recorder(*registry_);
  ASSERT_TRUE(recorder.start());
  std::vector<std::pair<std::string, std::string>> published;
  service::RegistryAuthenticator auth(
      *registry_, account, EndpointNames("abc", account.region), nullptr,
      [&](std::string topic, std::string payload) { published.emplace_back(topic, payload); },
      &recorder);
  service::RulesRuntime rules(
      *registry_, account, {}, [](service::Outgoing) {}, functions::RetryPolicy{}, &recorder);
  // The rule may invoke the function with its permission only (`ztp cloud setup-jitr` grants it).
  ASSERT_TRUE(service::grant_rules_invoke(*registry_, service::kBuiltinJitrFunction));
  ASSERT_TRUE(registry_->insert_topic_rule(
      {.name = service::kJitrRuleName,
       .payload = service::jitr_rule_payload(account, service::kBuiltinJitrFunction).dump(),
       .created_at = 0}));

  auto key = std::move(*crypto::generate_p256_key());
  auto device = std::move(
      *pki::issue_device_certificate(pki::testing::make_device_csr(key.get()).get(),
                                     chain.signer.get(), chain.signer_key.get(), unix_now()));
  std::string id = *broker::certificate_id(device.get());
  broker::PeerCertificate peer;
  X509_up_ref(device.get());
  peer.certificate.reset(device.get());
  X509_up_ref(device.get());
  peer.verified_chain.emplace_back(device.get());
  X509_up_ref(chain.signer.get());
  peer.verified_chain.emplace_back(chain.signer.get());
  peer.remote_address = "127.0.0.1";

  // First connect: registered PENDING_ACTIVATION, event published, refused.
  ASSERT_EQ(broker::decide(auth, peer).outcome, broker::AuthOutcome::close_without_connack);
  ASSERT_EQ(published.size(), 1u);
  // The service worker feeds the event to the rules: JITR rule → built-in function → ACTIVE.
  rules.on_message({.topic = published[0].first,
                    .payload = published[0].second,
                    .client_id = "n/a",
                    .principal = "",
                    .account_id = account.account_id,
                    .timestamp_ms = unix_now_ms()},
                   service::MessageOrigin::broker);
  rules.drain();
  ASSERT_EQ((*registry_->find_certificate(id))->status, registry::kActive);
  // Second connect accepted; the broker's observer reports connected and subscribed.
  auto accepted = broker::decide(auth, peer);
  ASSERT_EQ(accepted.outcome, broker::AuthOutcome::accept);
  std::string thing = to_hex(*crypto::subject_key_identifier(device.get()));
  recorder.record(id, kConnected, "client " + thing, thing);
  recorder.record(id, kSubscribed, "$aws/things/" + thing + "/shadow/update/delta", thing);
  ASSERT_TRUE(recorder.flush());

  std::vector<std::string> expected = {
      "certificate-registered", kConnectRefused,    kRegistrationEvent, kRuleMatched,
      kFunctionInvoked,         "thing-created",    "policy-attached",  "principal-attached",
      "certificate-active",     kFunctionSucceeded, kConnected,         kSubscribed};
  auto by_certificate = registry_->device_timeline(kPrefix, id);
  ASSERT_TRUE(by_certificate) << by_certificate.error().message;
  EXPECT_EQ(kinds(*by_certificate), expected);
  EXPECT_EQ(by_certificate->thing_names, std::vector<std::string>{thing});
  auto by_thing = registry_->device_timeline(kPrefix, thing);
  ASSERT_TRUE(by_thing);
  EXPECT_EQ(kinds(*by_thing), expected);
  EXPECT_EQ(by_thing->certificate_ids, std::vector<std::string>{id});
  for (size_t i = 1; i < by_thing->items.size(); ++i)
    EXPECT_LE(by_thing->items[i - 1].time_us, by_thing->items[i].time_us);
  json rendered = to_json(*by_thing);
  EXPECT_EQ(rendered["items"][0]["kind"], "certificate-registered");
  EXPECT_TRUE(rendered["items"][0]["time"].get<std::string>().ends_with("Z"));

  // The device row: thing, CA, ACTIVE, connected now, last seen.
  auto page = *registry_->list_devices(kPrefix, {});
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].thing_name, thing);
  EXPECT_EQ(page.items[0].ca_certificate_id, ca_id);
  EXPECT_EQ(page.items[0].status, registry::kActive);
  EXPECT_TRUE(page.items[0].connected);
  EXPECT_TRUE(page.items[0].last_seen_us);
  auto cas = *registry_->list_cas_with_devices();
  ASSERT_EQ(cas.size(), 1u);
  EXPECT_EQ(cas[0].devices, 1);
  EXPECT_EQ(cas[0].auto_registration, "ENABLE");

  // Invocations carry rule and device.
  auto invocations = *registry_->list_function_invocations(kPrefix, {});
  ASSERT_EQ(invocations.total, 1);
  EXPECT_EQ(invocations.items[0].rule_name, service::kJitrRuleName);
  EXPECT_EQ(invocations.items[0].certificate_id, id);
  EXPECT_EQ(invocations.items[0].thing_name, thing);
  EXPECT_TRUE(invocations.items[0].succeeded);

  // Disconnect, then a restarted recorder (a new broker) knows no live session.
  recorder.record(id, kDisconnected, "CONNECTION_LOST", thing);
  ASSERT_TRUE(recorder.flush());
  EXPECT_FALSE(registry_->list_devices(kPrefix, {})->items[0].connected);
  recorder.record(id, kConnected, "again", thing);
  recorder.stop();  // writes the queue
  EXPECT_TRUE(registry_->list_devices(kPrefix, {})->items[0].connected);
  ASSERT_TRUE(recorder.start());
  EXPECT_FALSE(registry_->list_devices(kPrefix, {})->items[0].connected);
  recorder.stop();
}

TEST_F(FleetTest, DevicesPageFilterAndCountServerSide) {
  ASSERT_TRUE(registry_->transaction([&]() -> Status {
    for (int n = 0; n < 1000; ++n) {
      const char* status = n % 10 == 0 ? registry::kPendingActivation : registry::kActive;
      // Every tenth device is still pending: no thing yet.
      add_device(id_of(n), n < 600 ? "ca-a" : "ca-b", status,
                 n % 10 == 0 ? "" : "Kit-" + std::to_string(n));
    }
    return ok();
  }));
  auto first = *registry_->list_devices(kPrefix, query(0, 50));
  EXPECT_EQ(first.total, 1000);
  ASSERT_EQ(first.items.size(), 50u);
  EXPECT_EQ(first.items[0].certificate_id, id_of(0));
  EXPECT_FALSE(first.items[0].thing_name);
  EXPECT_EQ(first.items[1].thing_name, "Kit-1");
  auto last = *registry_->list_devices(kPrefix, query(980, 50));
  ASSERT_EQ(last.items.size(), 20u);
  EXPECT_EQ(last.items.back().certificate_id, id_of(999));
  for (size_t i = 1; i < last.items.size(); ++i)
    EXPECT_LT(last.items[i - 1].certificate_id, last.items[i].certificate_id);

  auto pending = *registry_->list_devices(kPrefix, query(0, 500, "", "PENDING_ACTIVATION"));
  EXPECT_EQ(pending.total, 100);
  for (const auto& device : pending.items) EXPECT_EQ(device.status, "PENDING_ACTIVATION");

  // q: case-insensitive substring of the thing name, or of the certificate id.
  auto by_thing = *registry_->list_devices(kPrefix, query(0, 50, "kit-99"));
  EXPECT_EQ(by_thing.total, 10);  // Kit-99, Kit-991 … Kit-999 (990 is pending: no thing)
  auto by_id = *registry_->list_devices(kPrefix, query(0, 50, id_of(500).substr(50)));
  ASSERT_EQ(by_id.total, 1);
  EXPECT_EQ(by_id.items[0].certificate_id, id_of(500));
  EXPECT_EQ(registry_->list_devices(kPrefix, query(0, 50, "nothing-like-this"))->total, 0);

  auto cas = *registry_->list_cas_with_devices();
  EXPECT_TRUE(cas.empty());  // the rows name CAs that were never registered

  auto bad_limit = registry_->list_devices(kPrefix, query(0, 0));
  ASSERT_FALSE(bad_limit);
  EXPECT_NE(bad_limit.error().message.find("limit 0"), std::string::npos);
  EXPECT_FALSE(registry_->list_devices(kPrefix, query(-1, 50)));
  EXPECT_FALSE(registry_->list_devices(kPrefix, query(0, kMaxPageSize + 1)));

  json rendered = to_json(first);
  EXPECT_EQ(rendered["total"], 1000);
  EXPECT_TRUE(rendered["items"][0]["thingName"].is_null());
  EXPECT_TRUE(rendered["items"][0]["lastSeen"].is_null());
}

TEST_F(FleetTest, FailedInvocationsFilterAndUnknownDevice) {
  service::AccountInfo account{"123456789012", "us-east-1"};
  EventRecorder recorder(*registry_);
  service::RulesRuntime rules(
      *registry_, account, {}, [](service::Outgoing) {},
      functions::RetryPolicy{.max_attempts = 2, .first_backoff = std::chrono::milliseconds(5)},
      &recorder);
  ASSERT_TRUE(service::register_function(*registry_, "Broken", "echo boom >&2; exit 3"));
  json rule = {
      {"sql", "SELECT * FROM 'jobs/#'"},
      {"actions",
       {{{"lambda", {{"functionArn", "arn:aws:lambda:us-east-1:123456789012:function:Broken"}}}}}}};
  ASSERT_TRUE(registry_->insert_topic_rule({.name = "broken", .payload = rule.dump()}));
  add_device(id_of(7), "ca", registry::kActive, "thing-7");
  rules.on_message({.topic = "jobs/1",
                    .payload = R"({"job":1})",
                    .client_id = "thing-7",
                    .principal = id_of(7),
                    .account_id = account.account_id,
                    .timestamp_ms = unix_now_ms()});
  rules.drain();
  ASSERT_TRUE(recorder.flush());

  auto failed = *registry_->list_function_invocations(kPrefix, {.failed_only = true});
  EXPECT_EQ(failed.total, 2);  // attempt 1 and its retry
  for (const auto& invocation : failed.items) {
    EXPECT_FALSE(invocation.succeeded);
    EXPECT_EQ(invocation.thing_name, "thing-7");
    EXPECT_NE(invocation.detail.find("boom"), std::string::npos);
  }
  EXPECT_EQ(failed.items[0].attempt, 2);  // newest first
  EXPECT_TRUE(failed.items[0].final);
  EXPECT_EQ(to_json(failed)["items"][0]["status"], "failed");

  auto timeline = *registry_->device_timeline(kPrefix, "thing-7");
  auto seen = kinds(timeline);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), kFunctionFailed), 2);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), kFunctionInvoked), 2);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), kRuleMatched), 1);

  auto unknown = registry_->device_timeline(kPrefix, "no-such-device");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
}

TEST_F(FleetTest, TimelineKeepsTheNewestEventsWhenLong) {
  add_device(id_of(3), "ca", registry::kActive, "thing-3");
  std::vector<DeviceEvent> events;
  for (int i = 0; i < 30; ++i) {
    events.push_back({.time_us = now_us() + i,
                      .certificate_id = id_of(3),
                      .thing_name = {},
                      .kind = i % 2 ? kDisconnected : kConnected,
                      .detail = std::to_string(i),
                      .client_id = "thing-3"});
  }
  ASSERT_TRUE(insert_events(*registry_, events));
  auto timeline = *registry_->device_timeline(kPrefix, id_of(3), 10);
  EXPECT_TRUE(timeline.truncated);
  ASSERT_EQ(timeline.items.size(), 10u);
  EXPECT_EQ(timeline.items.back().detail, "29");
  EXPECT_EQ(timeline.items.front().detail, "20");
  // 15 connects, 15 disconnects: not connected, last seen = the last event.
  auto row = registry_->list_devices(kPrefix, {})->items.at(0);
  EXPECT_FALSE(row.connected);
  EXPECT_EQ(row.last_seen_us, events.back().time_us);
}

}  // namespace
}  // namespace zt::cloud::console
