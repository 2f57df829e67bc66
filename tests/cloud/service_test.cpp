// The data-plane plug-ins against a real Registry in a temp dir: JITR authentication, policy
// authorization with variables, and the rules runtime (republish, external functions, retries).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "broker/trust.hpp"
#include "cloud/lambda/permissions.hpp"
#include "cloud/service/auth.hpp"
#include "cloud/service/rules_runtime.hpp"
#include "cloud/service/shadows.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"
#include "support/fake_clock.hpp"
#include "support/pki_chain.hpp"
#include "support/temp_dir.hpp"

namespace zt::cloud::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

rules::MessageContext message(std::string topic, std::string payload, std::string client_id) {
  rules::MessageContext context;
  context.topic = std::move(topic);
  context.payload = std::move(payload);
  context.client_id = std::move(client_id);
  return context;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::move(*registry::Registry::open(dir_ / "registry.db"));
    chain_ = pki::testing::make_chain(unix_now());
    signer_id_ = *broker::certificate_id(chain_.signer.get());
  }
  void TearDown() override { registry_.reset(); }

  void register_signer(const char* status, const char* auto_registration) {
    registry::CaCertificate ca{.id = signer_id_,
                               .pem = *crypto::certificate_to_pem(chain_.signer.get()),
                               .subject = "signer",
                               .status = status,
                               .auto_registration = auto_registration};
    ASSERT_TRUE(registry_->insert_ca(ca));
  }
  crypto::X509Ptr new_device(crypto::PkeyPtr* key_out = nullptr) {
    auto key = std::move(*crypto::generate_p256_key());
    auto csr = pki::testing::make_device_csr(key.get());
    auto cert = pki::issue_device_certificate(csr.get(), chain_.signer.get(),
                                              chain_.signer_key.get(), unix_now());
    EXPECT_TRUE(cert);
    if (key_out) *key_out = std::move(key);
    return std::move(*cert);
  }
  // A device whose first connect registered it PENDING_ACTIVATION, the JITR rule on the built-in
  // function, and the registration event the broker published for it ("" id on a failure).
  struct PendingDevice {
    crypto::X509Ptr certificate;
    std::string id;
    rules::MessageContext event;
  };
  PendingDevice pending_device_with_jitr_rule(const std::string& client_id) {
    register_signer(registry::kActive, "ENABLE");
    auto auth = authenticator();
    PendingDevice pending{new_device(), "", {}};
    bool ok = broker::decide(auth, peer_of(pending.certificate.get())).outcome ==
                  broker::AuthOutcome::close_without_connack &&
              events_.size() == 1 && grant_rules_invoke(*registry_, kBuiltinJitrFunction) &&
              registry_->insert_topic_rule(
                  {.name = kJitrRuleName,
                   .payload = jitr_rule_payload(account_, kBuiltinJitrFunction).dump(),
                   .created_at = 0});
    EXPECT_TRUE(ok);
    if (!ok) return pending;
    pending.id = *broker::certificate_id(pending.certificate.get());
    pending.event = message(events_[0].first, events_[0].second, client_id);
    pending.event.account_id = account_.account_id;
    return pending;
  }

  broker::PeerCertificate peer_of(const X509* device, std::string sni = "") {
    broker::PeerCertificate peer;
    X509_up_ref(const_cast<X509*>(device));
    peer.certificate.reset(const_cast<X509*>(device));
    X509_up_ref(const_cast<X509*>(device));
    peer.verified_chain.emplace_back(const_cast<X509*>(device));
    X509_up_ref(chain_.signer.get());
    peer.verified_chain.emplace_back(chain_.signer.get());
    peer.server_name = std::move(sni);
    peer.remote_address = "127.0.0.1";
    return peer;
  }
  RegistryAuthenticator authenticator() {
    return RegistryAuthenticator(*registry_, account_, EndpointNames("abc", "us-east-1"), nullptr,
                                 [this](std::string topic, std::string payload) {
                                   events_.emplace_back(std::move(topic), std::move(payload));
                                 });
  }

  zt::testing::TempDir temp_{"service"};
  const fs::path& dir_ = temp_.path();
  std::unique_ptr<registry::Registry> registry_;
  pki::testing::Chain chain_;
  std::string signer_id_;
  AccountInfo account_{"123456789012", "us-east-1"};
  std::vector<std::pair<std::string, std::string>> events_;
};

TEST_F(ServiceTest, JitrLeavesItsRegistryWriteToTheDeferredDecision) {
  // authenticate() runs on a broker network thread: for an unknown certificate of an
  // auto-registering CA it only reads, and hands the write (and its fsync) back as deferred work,
  // which the broker runs on its blocking threads.
  register_signer(registry::kActive, "ENABLE");
  auto auth = authenticator();
  auto device = new_device();
  std::string id = *broker::certificate_id(device.get());
  auto decision = auth.authenticate(peer_of(device.get()));
  ASSERT_EQ(decision.outcome, broker::AuthOutcome::deferred);
  ASSERT_TRUE(decision.deferred);
  EXPECT_FALSE(*registry_->find_certificate(id));  // nothing written yet
  EXPECT_TRUE(events_.empty());

  auto decided = decision.deferred();
  EXPECT_EQ(decided.outcome, broker::AuthOutcome::close_without_connack);
  auto stored = *registry_->find_certificate(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, registry::kPendingActivation);
  EXPECT_EQ(events_.size(), 1u);

  // Known now: the next connect is decided at once (PENDING_ACTIVATION, throttled event).
  EXPECT_EQ(auth.authenticate(peer_of(device.get())).outcome,
            broker::AuthOutcome::close_without_connack);
}

TEST_F(ServiceTest, JitrRegistersPendingPublishesAndClosesUntilActivated) {
  register_signer(registry::kActive, "ENABLE");
  auto auth = authenticator();
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  auth.set_clock([&] { return now; });
  auto device = new_device();
  std::string id = *broker::certificate_id(device.get());

  auto first = broker::decide(auth, peer_of(device.get(), "localhost"));
  EXPECT_EQ(first.outcome, broker::AuthOutcome::close_without_connack);
  auto stored = *registry_->find_certificate(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, registry::kPendingActivation);
  EXPECT_EQ(stored->ca_id, signer_id_);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].first, "$aws/events/certificates/registered/" + signer_id_);
  json event = json::parse(events_[0].second);
  EXPECT_EQ(event["certificateId"], id);
  EXPECT_EQ(event["caCertificateId"], signer_id_);
  EXPECT_EQ(event["certificateStatus"], "PENDING_ACTIVATION");
  EXPECT_EQ(event["awsAccountId"], "123456789012");
  EXPECT_TRUE(event["timestamp"].is_number());
  EXPECT_TRUE(event["certificateRegistrationTimestamp"].is_string());

  // Still pending: the event again (one per second per certificate), and again no CONNACK. A
  // handshake flood in between is closed at CONNECT without an event.
  for (int i = 0; i < 100; ++i) {
    now += std::chrono::milliseconds(9);
    EXPECT_EQ(broker::decide(auth, peer_of(device.get())).outcome,
              broker::AuthOutcome::close_without_connack);
  }
  EXPECT_EQ(events_.size(), 1u);
  now += std::chrono::milliseconds(100);  // 1 s after the first event
  EXPECT_EQ(broker::decide(auth, peer_of(device.get())).outcome,
            broker::AuthOutcome::close_without_connack);
  EXPECT_EQ(events_.size(), 2u);
  now += std::chrono::milliseconds(999);
  EXPECT_EQ(broker::decide(auth, peer_of(device.get())).outcome,
            broker::AuthOutcome::close_without_connack);
  EXPECT_EQ(events_.size(), 2u);

  ASSERT_TRUE(registry_->update_certificate_status(id, registry::kActive));
  auto accepted = broker::decide(auth, peer_of(device.get()));
  EXPECT_EQ(accepted.outcome, broker::AuthOutcome::accept);
  EXPECT_EQ(accepted.principal, id);
  EXPECT_EQ(events_.size(), 2u);

  ASSERT_TRUE(registry_->update_certificate_status(id, registry::kRevoked));
  EXPECT_EQ(broker::decide(auth, peer_of(device.get())).outcome, broker::AuthOutcome::reject);
  EXPECT_EQ(events_.size(), 2u);
}

TEST_F(ServiceTest, RefusesWithoutAutoRegistrationInactiveCaAndForeignSni) {
  register_signer(registry::kActive, "DISABLE");
  auto auth = authenticator();
  auto device = new_device();
  EXPECT_EQ(broker::decide(auth, peer_of(device.get())).outcome, broker::AuthOutcome::reject);
  EXPECT_FALSE(*registry_->find_certificate(*broker::certificate_id(device.get())));

  auto ca = **registry_->find_ca(signer_id_);
  ca.auto_registration = "ENABLE";
  ca.status = registry::kInactive;
  ASSERT_TRUE(registry_->update_ca(ca));
  EXPECT_EQ(broker::decide(auth, peer_of(device.get())).outcome, broker::AuthOutcome::reject);

  ca.status = registry::kActive;
  ASSERT_TRUE(registry_->update_ca(ca));
  // A foreign name fails the handshake (accept_server_name); the legacy iot:Data name and the
  // listener's own address do not.
  EXPECT_FALSE(auth.accept_server_name("other.example.com", "127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(auth.accept_server_name("abc.iot.us-east-1.localhost", "127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(auth.accept_server_name("127.0.0.1", "127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(broker::decide(auth, peer_of(device.get(), "abc-ats.iot.us-east-1.localhost")).outcome,
            broker::AuthOutcome::close_without_connack);
}

// AWS admits DEFAULT-mode certificates with or without SNI, SNI_ONLY ones (registered without a
// CA) only with SNI.
TEST_F(ServiceTest, SniOnlyCertificatesNeedSni) {
  auto auth = authenticator();
  auto device = new_device();
  registry::Certificate record{.id = *broker::certificate_id(device.get()),
                               .pem = *crypto::certificate_to_pem(device.get()),
                               .ca_id = std::nullopt,
                               .status = registry::kActive,
                               .certificate_mode = "SNI_ONLY"};
  ASSERT_TRUE(registry_->insert_certificate(record));
  auto without = broker::decide(auth, peer_of(device.get()));
  EXPECT_EQ(without.outcome, broker::AuthOutcome::reject);
  EXPECT_NE(without.reason.find("SNI_ONLY"), std::string::npos) << without.reason;
  EXPECT_EQ(broker::decide(auth, peer_of(device.get(), "abc-ats.iot.us-east-1.localhost")).outcome,
            broker::AuthOutcome::accept);
}

TEST_F(ServiceTest, PolicyAuthorizerUsesThingAndCertificateVariables) {
  register_signer(registry::kActive, "ENABLE");
  auto auth = authenticator();
  auto device = new_device();
  std::string id = *broker::certificate_id(device.get());
  broker::decide(auth, peer_of(device.get()));
  ASSERT_TRUE(registry_->update_certificate_status(id, registry::kActive));
  auto decision = broker::decide(auth, peer_of(device.get()));
  ASSERT_EQ(decision.outcome, broker::AuthOutcome::accept);

  std::string cert_arn = account_.arn("cert/" + id);
  std::string base = "arn:aws:iot:us-east-1:123456789012:";
  json document = {
      {"Version", "2012-10-17"},
      {"Statement",
       {{{"Effect", "Allow"},
         {"Action", "iot:Connect"},
         {"Resource", base + "client/${iot:Connection.Thing.ThingName}"}},
        {{"Effect", "Allow"},
         {"Action", {"iot:Publish", "iot:Receive"}},
         {"Resource", base + "topic/${iot:Certificate.Subject.CommonName}/*"}},
        {{"Effect", "Deny"}, {"Action", "iot:Publish"}, {"Resource", base + "topic/*/secret"}}}}};
  ASSERT_TRUE(registry_->insert_policy("p", document.dump(), 0, "g"));
  ASSERT_TRUE(registry_->attach_policy("p", cert_arn));
  ASSERT_TRUE(registry_->insert_thing(
      {.name = "dev-1", .id = "1", .type_name = {}, .attributes = "{}", .version = 1}));
  ASSERT_TRUE(registry_->insert_thing(
      {.name = "dev-2", .id = "2", .type_name = {}, .attributes = "{}", .version = 1}));
  ASSERT_TRUE(registry_->attach_thing_principal("dev-1", cert_arn, "NON_EXCLUSIVE_THING"));

  PolicyAuthorizer authorizer(*registry_, account_, std::chrono::milliseconds(0));
  broker::ClientContext client{.client_id = "dev-1", .principal = id};
  client.auth_context = decision.context;
  EXPECT_TRUE(authorizer.allow(broker::Action::connect, "dev-1", client));
  EXPECT_TRUE(authorizer.allow(broker::Action::publish, "Example Device/telemetry", client));
  EXPECT_TRUE(authorizer.allow(broker::Action::receive, "Example Device/telemetry", client));
  EXPECT_FALSE(
      authorizer.allow(broker::Action::publish, "Example Device/secret", client));  // explicit deny
  EXPECT_FALSE(
      authorizer.allow(broker::Action::subscribe, "Example Device/#", client));  // no allow
  EXPECT_FALSE(authorizer.allow(broker::Action::publish, "Other/telemetry", client));

  // dev-2 exists but is not attached to this certificate: no thing variables, no connect.
  broker::ClientContext other = client;
  other.client_id = "dev-2";
  EXPECT_FALSE(authorizer.allow(broker::Action::connect, "dev-2", other));
  // A client of another (unknown) certificate has no policies.
  broker::ClientContext stranger{.client_id = "dev-1", .principal = std::string(64, 'a')};
  EXPECT_FALSE(authorizer.allow(broker::Action::connect, "dev-1", stranger));

  // Revoked after the handshake: the CONNECT is refused, even with the decision cached.
  PolicyAuthorizer cached(*registry_, account_, std::chrono::seconds(60));
  EXPECT_TRUE(cached.allow(broker::Action::connect, "dev-1", client));
  ASSERT_TRUE(registry_->update_certificate_status(id, registry::kRevoked));
  cached.invalidate(id);
  EXPECT_FALSE(cached.allow(broker::Action::connect, "dev-1", client));
  EXPECT_FALSE(authorizer.allow(broker::Action::connect, "dev-1", client));
}

// A client cycling client ids (each CONNECT a new cache key) must not grow the policy cache
// without bound: expired entries are swept once it has doubled, so it holds the clients of one TTL.
TEST_F(ServiceTest, PolicyAuthorizerCacheDropsExpiredEntries) {
  PolicyAuthorizer expiring(*registry_, account_, std::chrono::milliseconds(0));
  PolicyAuthorizer kept(*registry_, account_, std::chrono::seconds(60));
  size_t largest = 0;
  for (int i = 0; i < 3000; ++i) {
    broker::ClientContext client{.client_id = "c-" + std::to_string(i),
                                 .principal = std::string(64, 'b')};
    EXPECT_FALSE(expiring.allow(broker::Action::connect, client.client_id, client));
    EXPECT_FALSE(kept.allow(broker::Action::connect, client.client_id, client));
    largest = std::max(largest, expiring.cached_entries());
  }
  EXPECT_LE(largest, 1024u);
  EXPECT_EQ(kept.cached_entries(), 3000u);  // live entries (within the TTL) stay cached
}

TEST_F(ServiceTest, RulesRuntimeRepublishesAndInvokesFunctionsWithRetries) {
  std::vector<Outgoing> republished;
  RulesRuntime runtime(
      *registry_, account_, {"http://127.0.0.1:1", "AKID", "SECRET", "us-east-1"},
      [&](Outgoing message) { republished.push_back(std::move(message)); },
      functions::RetryPolicy{.max_attempts = 2, .first_backoff = std::chrono::milliseconds(10)});
  json republish = {
      {"sql", "SELECT temp, topic(2) AS device FROM 'sensors/+/data' WHERE temp > 30"},
      {"awsIotSqlVersion", "2016-03-23"},
      {"actions", {{{"republish", {{"topic", "alerts/${topic(2)}"}, {"qos", 1}}}}}}};
  ASSERT_TRUE(
      registry_->insert_topic_rule({.name = "hot", .payload = republish.dump(), .created_at = 0}));
  fs::path out = dir_ / "event.json";
  ASSERT_TRUE(register_function(
      *registry_, "Record",
      "cat > '" + out.string() + "'; echo \"$AWS_ENDPOINT_URL\" > '" + out.string() + ".url'"));
  ASSERT_TRUE(register_function(*registry_, "Broken", "echo boom >&2; exit 3"));
  auto lambda = [&](const std::string& name) {
    return json{
        {"sql", "SELECT * FROM 'jobs/#'"},
        {"actions",
         {{{"lambda",
            {{"functionArn", "arn:aws:lambda:us-east-1:123456789012:function:" + name}}}}}}};
  };
  ASSERT_TRUE(registry_->insert_topic_rule(
      {.name = "record", .payload = lambda("Record").dump(), .created_at = 0}));
  ASSERT_TRUE(registry_->insert_topic_rule(
      {.name = "broken", .payload = lambda("Broken").dump(), .created_at = 0}));

  runtime.on_message(message("sensors/d7/data", R"({"temp":35})", "d7"));
  runtime.on_message(message("sensors/d8/data", R"({"temp":20})", "d8"));
  ASSERT_EQ(republished.size(), 1u);
  EXPECT_EQ(republished[0].topic, "alerts/d7");
  EXPECT_EQ(json::parse(republished[0].payload), (json{{"temp", 35}, {"device", "d7"}}));
  EXPECT_EQ(republished[0].qos, 1);

  runtime.on_message(message("jobs/1", R"({"job":1})", "c"));
  runtime.drain();
  std::ifstream in(out), url(out.string() + ".url");
  std::string event_line, url_line;
  std::getline(in, event_line);
  std::getline(url, url_line);
  EXPECT_EQ(json::parse(event_line), (json{{"job", 1}}));
  EXPECT_EQ(url_line, "http://127.0.0.1:1");

  auto attempts = *recent_invocations(*registry_, 10);
  int record_ok = 0, broken_failed = 0, broken_final = 0;
  for (const auto& attempt : attempts) {
    if (attempt["functionName"] == "Record" && attempt["succeeded"]) ++record_ok;
    if (attempt["functionName"] == "Broken" && !attempt["succeeded"]) {
      ++broken_failed;
      EXPECT_NE(attempt["detail"].get<std::string>().find("boom"), std::string::npos);
      if (attempt["final"]) ++broken_final;
    }
  }
  EXPECT_EQ(record_ok, 1);
  EXPECT_EQ(broken_failed, 2);  // retried once, then given up
  EXPECT_EQ(broken_final, 1);
}

// The built-in ZTLambdaJITR runs its first attempt on the calling thread, in one transaction: when
// on_message returns, the certificate is ACTIVE with its thing and policy, and the attempt is
// logged — a device reconnecting at once finds it registered.
// Rules stored by an older build, before CreateTopicRule compiled them (issue 12): "qos":"1" made
// every matching message throw on the service worker. Now such a rule is skipped (logged) and the
// other rules still run for the message.
TEST_F(ServiceTest, RulesStoredByAnOlderBuildThatDoNotCompileAreSkipped) {
  std::vector<Outgoing> republished;
  RulesRuntime runtime(*registry_, account_, {},
                       [&](Outgoing message) { republished.push_back(std::move(message)); });
  auto rule = [](const json& qos) {
    return json{{"sql", "SELECT * FROM 'in/#'"},
                {"actions", {{{"republish", {{"topic", "out"}, {"qos", qos}}}}}}}
        .dump();
  };
  ASSERT_TRUE(registry_->insert_topic_rule({.name = "a_bad", .payload = rule("1")}));
  ASSERT_TRUE(registry_->insert_topic_rule({.name = "b_corrupt", .payload = "{not json"}));
  ASSERT_TRUE(registry_->insert_topic_rule(
      {.name = "c_deep", .payload = std::string(100, '[') + std::string(100, ']')}));
  ASSERT_TRUE(registry_->insert_topic_rule({.name = "d_good", .payload = rule(1)}));
  EXPECT_NO_THROW(runtime.on_message(message("in/x", R"({"a":1})", "d1")));
  EXPECT_NO_THROW(runtime.on_message(message("in/y", R"({"a":2})", "d1")));
  ASSERT_EQ(republished.size(), 2u);
  EXPECT_EQ(republished[0].topic, "out");
  EXPECT_EQ(republished[0].qos, 1);
}

// The built-in function runs on its own threads (not the service worker, which goes on with the
// next event while a registration waits for its commit).
TEST_F(ServiceTest, BuiltinJitrFunctionCompletesTheRegistration) {
  auto [device, id, event] = pending_device_with_jitr_rule("n/a");
  ASSERT_FALSE(id.empty());
  RulesRuntime runtime(*registry_, account_, {}, [](Outgoing) {});
  runtime.on_message(event, MessageOrigin::broker);
  runtime.drain();

  auto stored = *registry_->find_certificate(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, registry::kActive);
  std::string thing = to_hex(*crypto::subject_key_identifier(device.get()));
  EXPECT_TRUE(*registry_->find_thing(thing));
  EXPECT_EQ(registry_->get_policies_for_principal(account_.arn("cert/" + id))->size(), 1u);
  auto attempts = *recent_invocations(*registry_, 10);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0]["functionName"], kBuiltinJitrFunction);
  EXPECT_TRUE(attempts[0]["succeeded"]);

  // The same event again (a device that retried while pending): still one registration, and the
  // second invocation fails (the certificate is no longer PENDING_ACTIVATION), without retries.
  runtime.on_message(event, MessageOrigin::broker);
  runtime.drain();
  EXPECT_EQ(registry_->get_policies_for_principal(account_.arn("cert/" + id))->size(), 1u);
  attempts = *recent_invocations(*registry_, 10);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_FALSE(attempts[0]["succeeded"]);
  EXPECT_TRUE(attempts[0]["final"]);
  EXPECT_NE(attempts[0]["detail"].get<std::string>().find("is ACTIVE, not PENDING_ACTIVATION"),
            std::string::npos);
}

// An event is not a capability: a registration event a client forged (a will, Basic Ingest, an
// HTTP Publish) activates nothing, and a broker event for a REVOKED certificate neither.
TEST_F(ServiceTest, ForgedRegistrationEventsDoNotActivateCertificates) {
  auto [device, id, event] = pending_device_with_jitr_rule("forger");
  ASSERT_FALSE(id.empty());
  RulesRuntime runtime(*registry_, account_, {}, [](Outgoing) {});
  // A client's copy of a genuine event for a PENDING certificate: refused, still pending.
  runtime.on_message(event, MessageOrigin::client);
  runtime.drain();
  EXPECT_EQ((*registry_->find_certificate(id))->status, registry::kPendingActivation);
  auto attempts = *recent_invocations(*registry_, 10);
  ASSERT_EQ(attempts.size(), 1u);  // a permission error is final: no retries
  EXPECT_FALSE(attempts[0]["succeeded"]);
  EXPECT_NE(attempts[0]["detail"].get<std::string>().find("not emitted by the broker"),
            std::string::npos);
  // REVOKED, then an event of broker origin (or Basic Ingest to the rule): stays REVOKED.
  ASSERT_TRUE(registry_->update_certificate_status(id, registry::kRevoked));
  runtime.on_message(event, MessageOrigin::broker);
  rules::MessageContext ingest = event;
  ingest.topic = std::string("$aws/rules/") + kJitrRuleName + "/" + event.topic;
  runtime.on_message(ingest, MessageOrigin::client);
  runtime.drain();
  EXPECT_EQ((*registry_->find_certificate(id))->status, registry::kRevoked);
  EXPECT_FALSE(*registry_->find_thing(to_hex(*crypto::subject_key_identifier(device.get()))));
  attempts = *recent_invocations(*registry_, 10);
  ASSERT_EQ(attempts.size(), 3u);
  for (const auto& attempt : attempts) EXPECT_FALSE(attempt["succeeded"]);
}

// A forged event that is still waiting for the built-in function does not make the broker's event
// for the same device a duplicate (the function's queue drops a device's second waiting event).
TEST_F(ServiceTest, AForgedEventDoesNotCrowdOutTheGenuineOne) {
  auto [device, id, event] = pending_device_with_jitr_rule("forger");
  ASSERT_FALSE(id.empty());
  RulesRuntime runtime(*registry_, account_, {}, [](Outgoing) {});
  for (int i = 0; i < 3; ++i) runtime.on_message(event, MessageOrigin::client);
  runtime.on_message(event, MessageOrigin::broker);
  runtime.drain();
  EXPECT_EQ((*registry_->find_certificate(id))->status, registry::kActive);
}

// AWS IoT invokes a function only when its resource-based policy allows lambda:InvokeFunction to
// iot.amazonaws.com: without the statement the invocation is one failed, final attempt saying so;
// with it (and a SourceArn naming the rule) the function runs.
TEST_F(ServiceTest, ARuleNeedsTheFunctionsInvokePermission) {
  ASSERT_TRUE(register_function(*registry_, "Guarded", "cat >/dev/null"));
  ASSERT_TRUE(*registry_->remove_lambda_permission("Guarded", kRulesStatementId));
  ASSERT_TRUE(registry_->insert_topic_rule(
      {.name = "guarded",
       .payload =
           json{{"sql", "SELECT * FROM 'guarded/#'"},
                {"actions",
                 {{{"lambda",
                    {{"functionArn", "arn:aws:lambda:us-east-1:123456789012:function:Guarded"}}}}}}}
               .dump(),
       .created_at = 0}));
  RulesRuntime runtime(*registry_, account_, {}, [](Outgoing) {});
  runtime.on_message(message("guarded/1", "{}", "c"));
  runtime.drain();
  auto attempts = *recent_invocations(*registry_, 10);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_FALSE(attempts[0]["succeeded"]);
  EXPECT_TRUE(attempts[0]["final"]);
  EXPECT_NE(attempts[0]["detail"].get<std::string>().find(
                "does not allow iot.amazonaws.com to lambda:InvokeFunction"),
            std::string::npos);

  ASSERT_TRUE(registry_->add_lambda_permission(
      {.function_name = "Guarded",
       .sid = "rule",
       .statement =
           lambda::permission_statement({.statement_id = "rule",
                                         .action = "lambda:InvokeFunction",
                                         .principal = "iot.amazonaws.com",
                                         .source_arn = account_.arn("rule/guarded")},
                                        "arn:aws:lambda:us-east-1:123456789012:function:Guarded")
               .dump()}));
  runtime.on_message(message("guarded/2", "{}", "c"));
  runtime.drain();
  attempts = *recent_invocations(*registry_, 10);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_TRUE(attempts[0]["succeeded"]) << attempts[0].dump();
}

// One waiting invocation per function and device: a device repeating its event while the function
// is busy adds one queued run at most; the rest are dropped and recorded (attempt 0, final).
TEST_F(ServiceTest, RepeatedEventsOfADeviceAreDroppedWhileOneIsQueued) {
  ASSERT_TRUE(register_function(*registry_, "Busy", "cat >/dev/null; sleep 1"));
  ASSERT_TRUE(registry_->insert_topic_rule(
      {.name = "busy",
       .payload =
           json{{"sql", "SELECT * FROM 'events/#'"},
                {"actions",
                 {{{"lambda",
                    {{"functionArn", "arn:aws:lambda:us-east-1:123456789012:function:Busy"}}}}}}}
               .dump(),
       .created_at = 0}));
  RulesRuntime runtime(*registry_, account_, {}, [](Outgoing) {});
  std::string device(64, 'd');
  // Six events for one device in a row, far faster than one run (1 s): two workers may each have
  // started one, one more waits, the rest are duplicates of the waiting one.
  for (int i = 0; i < 6; ++i) {
    runtime.on_message(message("events/" + std::to_string(i),
                               json{{"certificateId", device}, {"n", i}}.dump(), "c"));
  }
  runtime.drain();
  auto attempts = *recent_invocations(*registry_, 20);
  int ran = 0, dropped = 0;
  for (const auto& attempt : attempts) {
    if (attempt["attempt"] == 0) {
      ++dropped;
      EXPECT_FALSE(attempt["succeeded"]);
      EXPECT_TRUE(attempt["final"]);
      EXPECT_NE(attempt["detail"].get<std::string>().find("already queued"), std::string::npos);
    } else {
      ++ran;
      EXPECT_TRUE(attempt["succeeded"]) << attempt.dump();
    }
  }
  EXPECT_EQ(ran + dropped, 6);
  EXPECT_LE(ran, 3);
  EXPECT_GE(dropped, 3);
}

TEST_F(ServiceTest, ShadowStorePersistsAndRejectsVersionConflicts) {
  ShadowStore store(*registry_);
  auto updated = store.handle("dev-1", "", "update", R"({"state":{"desired":{"on":true}}})", true);
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(updated.body["version"], 1);
  std::vector<std::string> topics;
  for (const auto& message : updated.messages) topics.push_back(message.topic);
  EXPECT_EQ(topics, (std::vector<std::string>{"$aws/things/dev-1/shadow/update/accepted",
                                              "$aws/things/dev-1/shadow/update/delta",
                                              "$aws/things/dev-1/shadow/update/documents"}));

  ShadowStore reopened(*registry_);  // state lives in the database, not the object
  auto got = reopened.handle("dev-1", "", "get", "", false);
  EXPECT_EQ(got.body["state"]["delta"], (json{{"on", true}}));
  EXPECT_TRUE(got.messages.empty());  // REST get: no MQTT messages

  auto conflict = reopened.handle("dev-1", "", "update",
                                  R"({"state":{"reported":{"on":true}},"version":7})", true);
  EXPECT_EQ(conflict.status, 409);
  ASSERT_EQ(conflict.messages.size(), 1u);
  EXPECT_EQ(conflict.messages[0].topic, "$aws/things/dev-1/shadow/update/rejected");
  EXPECT_EQ(json::parse(conflict.messages[0].payload)["code"], 409);

  EXPECT_EQ(reopened.handle("dev-1", "cfg", "get", "", true).status, 404);
  EXPECT_EQ(reopened.handle("dev-1", "", "delete", "", false).status, 200);
  EXPECT_EQ(reopened.handle("dev-1", "", "get", "", false).status, 404);
}

TEST_F(ServiceTest, ShadowStoreListsExistingNamedShadowsInPages) {
  ShadowStore store(*registry_);
  const char* update = R"({"state":{"reported":{"on":true}}})";
  ASSERT_EQ(store.handle("dev-1", "", "update", update, false).status, 200);  // classic: not listed
  for (const char* name : {"zeta", "alpha", "mid", "beta"})
    ASSERT_EQ(store.handle("dev-1", name, "update", update, false).status, 200);
  ASSERT_EQ(store.handle("dev-2", "other", "update", update, false).status, 200);
  ASSERT_EQ(store.handle("dev-1", "beta", "delete", "", false).status, 200);  // deleted: not listed

  auto all = store.list_named("dev-1", registry::PageRequest{});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->items, (std::vector<std::string>{"alpha", "mid", "zeta"}));
  EXPECT_TRUE(all->next_key.empty());

  auto first = store.list_named("dev-1", registry::PageRequest{.after = "", .limit = 2});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->items, (std::vector<std::string>{"alpha", "mid"}));
  EXPECT_EQ(first->next_key, "mid");
  auto second = store.list_named("dev-1", registry::PageRequest{.after = "mid", .limit = 2});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->items, (std::vector<std::string>{"zeta"}));
  EXPECT_TRUE(second->next_key.empty());

  auto none = store.list_named("dev-3", registry::PageRequest{});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->items.empty());
}

TEST_F(ServiceTest, ShadowRequestsBeyondThePerThingRateGet429) {
  zt::testing::FakeClock now;  // no sleeping, no flakes
  // aws-iot.md §4.5 says 20/s; 3 keeps the test short.
  ShadowStore store(*registry_, 3, now.clock());
  auto get = [&](const std::string& thing) { return store.handle(thing, "", "get", "", true); };
  // A burst: one second's quota admitted (the shadow does not exist: 404), the rest refused.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get("busy").status, 404) << i;
  for (int i = 0; i < 6; ++i) {
    auto reply = get("busy");
    EXPECT_EQ(reply.status, 429) << i;
    EXPECT_EQ(reply.body["message"], "Too Many Requests");
    ASSERT_EQ(reply.messages.size(), 1u);
    EXPECT_EQ(reply.messages[0].topic, "$aws/things/busy/shadow/get/rejected");
  }
  // Another thing has its own budget.
  EXPECT_EQ(get("calm").status, 404);
  // The quota refills at 3 per second (a token bucket one second deep): one more after 1/3 s.
  now.advance(std::chrono::milliseconds(300));
  EXPECT_EQ(get("busy").status, 429);
  now.advance(std::chrono::milliseconds(40));
  EXPECT_EQ(get("busy").status, 404);
  EXPECT_EQ(get("busy").status, 429);
  // A thing that keeps to the quota is never refused, however its requests fall in the second.
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(get("steady").status, 404) << i;
    now.advance(std::chrono::milliseconds(i % 2 == 0 ? 300 : 367));
  }
}

// The service worker's batches (issue 19): several requests in one transaction, in order, each
// with its own answer; a refused one does not disturb the others, a get sees the updates before it.
TEST_F(ServiceTest, ShadowBatchesAnswerEachRequestInOrder) {
  ShadowStore store(*registry_);
  std::vector<ShadowRequest> batch{
      {"dev-1", "", "update", R"({"state":{"reported":{"n":1}},"clientToken":"a"})"},
      {"dev-1", "", "update", R"({"state":{"reported":{"n":2}},"version":1})"},
      {"dev-1", "", "update", R"({"state":{"reported":{"n":3}},"version":1})"},  // 2 by now: 409
      {"dev-2", "", "update", "not json"},
      {"dev-1", "", "get", R"({"clientToken":"g"})"},
      {"bad/thing", "", "get", ""},
      {"dev-2", "cfg", "update", R"({"state":{"desired":{"on":true}}})"}};
  auto replies = store.handle_batch(batch, true);
  ASSERT_EQ(replies.size(), batch.size());
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[0].body["version"], 1);
  EXPECT_EQ(replies[0].body["clientToken"], "a");
  EXPECT_EQ(replies[0].messages.front().topic, "$aws/things/dev-1/shadow/update/accepted");
  EXPECT_EQ(replies[1].status, 200);
  EXPECT_EQ(replies[1].body["version"], 2);
  EXPECT_EQ(replies[2].status, 409);
  ASSERT_EQ(replies[2].messages.size(), 1u);
  EXPECT_EQ(replies[2].messages[0].topic, "$aws/things/dev-1/shadow/update/rejected");
  EXPECT_EQ(replies[3].status, 400);
  EXPECT_EQ(replies[4].status, 200);
  EXPECT_EQ(replies[4].body["state"]["reported"]["n"], 2);
  EXPECT_EQ(replies[4].body["clientToken"], "g");
  EXPECT_EQ(replies[4].messages[0].topic, "$aws/things/dev-1/shadow/get/accepted");
  EXPECT_EQ(replies[5].status, 400);
  EXPECT_EQ(replies[6].status, 200);
  EXPECT_EQ(replies[6].messages[0].topic, "$aws/things/dev-2/shadow/name/cfg/update/accepted");
  // Committed: a new store reads them back.
  ShadowStore reopened(*registry_);
  EXPECT_EQ(reopened.handle("dev-1", "", "get", "", false).body["version"], 2);
  EXPECT_EQ(reopened.handle("dev-2", "cfg", "get", "", false).status, 200);
  EXPECT_EQ(reopened.handle("dev-2", "", "get", "", false).status, 404);
}

// The rules engine keeps the listed rules until one changes: a rule this process writes is seen by
// the next message (a change listener), and so is one another process writes (PRAGMA
// data_version; here a second connection to the same file, as `ztp cloud setup-jitr` opens).
TEST_F(ServiceTest, RulesRuntimeSeesRulesWrittenHereAndByAnotherProcess) {
  std::vector<Outgoing> republished;
  RulesRuntime runtime(*registry_, account_, {},
                       [&](Outgoing message) { republished.push_back(std::move(message)); });
  auto rule = [](const std::string& topic) {
    return json{{"sql", "SELECT * FROM 'in/#'"}, {"actions", {{{"republish", {{"topic", topic}}}}}}}
        .dump();
  };
  runtime.on_message(message("in/x", "{}", "d1"));
  EXPECT_TRUE(republished.empty());
  ASSERT_TRUE(registry_->insert_topic_rule({.name = "here", .payload = rule("out/here")}));
  runtime.on_message(message("in/x", "{}", "d1"));
  ASSERT_EQ(republished.size(), 1u);
  EXPECT_EQ(republished[0].topic, "out/here");

  auto other = registry::Registry::open(dir_ / "registry.db");
  ASSERT_TRUE(other) << other.error().message;
  ASSERT_TRUE((*other)->replace_topic_rule("here", rule("out/there")));
  republished.clear();
  runtime.on_message(message("in/x", "{}", "d1"));
  ASSERT_EQ(republished.size(), 1u);
  EXPECT_EQ(republished[0].topic, "out/there");
  ASSERT_TRUE((*other)->delete_topic_rule("here"));
  republished.clear();
  runtime.on_message(message("in/x", "{}", "d1"));
  EXPECT_TRUE(republished.empty());
}

}  // namespace
}  // namespace zt::cloud::service
