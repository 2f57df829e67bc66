// Fleet provisioning's MQTT API without a network: topics, JSON and CBOR payloads (hostile ones
// included), certificateOwnershipToken rules on a fake clock, and the service against a real
// Registry with a stand-in for the template engine (which cloud/provisioning tests on its own).
#include <gtest/gtest.h>

#include "cloud/service/fleet_provisioning.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "support/fake_clock.hpp"
#include "support/pki_chain.hpp"
#include "support/temp_dir.hpp"

namespace zt::cloud::service {
namespace {

using fleet::OwnershipTokens;
using fleet::PayloadFormat;
using nlohmann::json;

std::span<const uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string cbor(const json& value) {
  auto bytes = json::to_cbor(value);
  return std::string(bytes.begin(), bytes.end());
}

TEST(FleetTopics, RecognisesTheSixRequestTopicsOnly) {
  auto create = fleet::parse_request_topic("$aws/certificates/create/json");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->operation, fleet::Operation::create_keys_and_certificate);
  EXPECT_EQ(create->format, PayloadFormat::json);
  auto csr = fleet::parse_request_topic("$aws/certificates/create-from-csr/cbor");
  ASSERT_TRUE(csr);
  EXPECT_EQ(csr->operation, fleet::Operation::create_certificate_from_csr);
  EXPECT_EQ(csr->format, PayloadFormat::cbor);
  auto provision =
      fleet::parse_request_topic("$aws/provisioning-templates/Fleet_1-a/provision/json");
  ASSERT_TRUE(provision);
  EXPECT_EQ(provision->operation, fleet::Operation::register_thing);
  EXPECT_EQ(provision->template_name, "Fleet_1-a");

  for (const char* topic :
       {"$aws/certificates/create/json/accepted", "$aws/certificates/create/xml",
        "$aws/certificates/create", "$aws/certificates/delete/json",
        "$aws/provisioning-templates//provision/json",
        "$aws/provisioning-templates/bad.name/provision/json",
        "$aws/provisioning-templates/t/provision/json/rejected",
        "$aws/provisioning-templates/0123456789012345678901234567890123456/provision/json",
        "certificates/create/json"}) {
    EXPECT_FALSE(fleet::parse_request_topic(topic)) << topic;
  }
}

TEST(FleetPayload, CborWellFormednessIsCheckedBeforeDecoding) {
  EXPECT_TRUE(fleet::well_formed_cbor(json::to_cbor(json{{"a", {{"b", "c"}}}}), 8));
  // Indefinite-length map with an indefinite text key, then break.
  std::vector<uint8_t> indefinite = {0xbf, 0x7f, 0x61, 'a', 0xff, 0x01, 0xff};
  EXPECT_TRUE(fleet::well_formed_cbor(indefinite, 8));

  std::vector<uint8_t> deep(1000, 0x81);  // [[[[…
  deep.push_back(0x00);
  EXPECT_FALSE(fleet::well_formed_cbor(deep, 8));
  // A text string claiming 2^32 bytes; an array claiming 2^63 items; a map claiming more pairs
  // than bytes; a truncated head; two items; a reserved additional info; a stray break.
  EXPECT_FALSE(fleet::well_formed_cbor(std::vector<uint8_t>{0x7a, 0xff, 0xff, 0xff, 0xff, 'x'}, 8));
  EXPECT_FALSE(
      fleet::well_formed_cbor(std::vector<uint8_t>{0x9b, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x00}, 8));
  EXPECT_FALSE(fleet::well_formed_cbor(std::vector<uint8_t>{0xa3, 0x01, 0x02}, 8));
  EXPECT_FALSE(fleet::well_formed_cbor(std::vector<uint8_t>{0x19, 0x01}, 8));
  EXPECT_FALSE(fleet::well_formed_cbor(std::vector<uint8_t>{0x01, 0x02}, 8));
  EXPECT_FALSE(fleet::well_formed_cbor(std::vector<uint8_t>{0x1c}, 8));
  EXPECT_FALSE(fleet::well_formed_cbor(std::vector<uint8_t>{0xff}, 8));
  EXPECT_FALSE(fleet::well_formed_cbor(std::vector<uint8_t>{}, 8));
}

TEST(FleetPayload, DecodesJsonAndCborObjectsAndRefusesTheRest) {
  json request = {{"certificateOwnershipToken", "t"}, {"parameters", {{"SerialNumber", "1"}}}};
  auto from_json = fleet::decode_request(PayloadFormat::json, bytes_of(request.dump()));
  ASSERT_TRUE(std::holds_alternative<json>(from_json));
  EXPECT_EQ(std::get<json>(from_json), request);
  std::string encoded = cbor(request);
  auto from_cbor = fleet::decode_request(PayloadFormat::cbor, bytes_of(encoded));
  ASSERT_TRUE(std::holds_alternative<json>(from_cbor));
  EXPECT_EQ(std::get<json>(from_cbor), request);

  std::string huge(fleet::kMaxRequestBytes + 1, ' ');
  std::string deep = std::string(100, '[') + std::string(100, ']');
  for (const auto& [format, payload] : std::vector<std::pair<PayloadFormat, std::string>>{
           {PayloadFormat::json, "{"},
           {PayloadFormat::json, "[]"},
           {PayloadFormat::json, ""},
           {PayloadFormat::json, huge},
           {PayloadFormat::json, deep},
           {PayloadFormat::cbor, "{}"},  // JSON text on the CBOR topic
           {PayloadFormat::cbor, cbor(json::array())},
           {PayloadFormat::cbor, std::string("\xa1\x01\x02", 3)},  // integer map key
           {PayloadFormat::cbor, std::string("\xc1\x00", 2)}}) {   // a tag
    auto decoded = fleet::decode_request(format, bytes_of(payload));
    ASSERT_TRUE(std::holds_alternative<fleet::Rejection>(decoded)) << payload.substr(0, 20);
    EXPECT_EQ(std::get<fleet::Rejection>(decoded).error_code, "InvalidPayload");
    EXPECT_EQ(std::get<fleet::Rejection>(decoded).status_code, 400);
  }
}

TEST(FleetPayload, RegisterThingRequestFieldsAreTypeChecked) {
  auto empty = fleet::read_register_thing_request(json::object());
  ASSERT_TRUE(std::holds_alternative<fleet::Rejection>(empty));
  EXPECT_EQ(std::get<fleet::Rejection>(empty).error_code, "InvalidCertificateOwnershipToken");
  EXPECT_EQ(std::get<fleet::Rejection>(empty).error_message,
            "Certificate ownership token cannot be empty.");
  for (const json& bad : {json{{"certificateOwnershipToken", 5}},
                          json{{"certificateOwnershipToken", "t"}, {"parameters", "x"}},
                          json{{"certificateOwnershipToken", "t"}, {"parameters", {{"a", 1}}}},
                          json{{"certificateOwnershipToken", "t"},
                               {"parameters", {{"a", std::string(4097, 'v')}}}}}) {
    auto read = fleet::read_register_thing_request(bad);
    ASSERT_TRUE(std::holds_alternative<fleet::Rejection>(read)) << bad.dump().substr(0, 80);
    EXPECT_EQ(std::get<fleet::Rejection>(read).error_code, "InvalidPayload");
  }
  auto good = fleet::read_register_thing_request(
      {{"certificateOwnershipToken", "t"}, {"parameters", {{"SerialNumber", "42"}}}});
  ASSERT_TRUE(std::holds_alternative<fleet::RegisterThingRequest>(good));
  EXPECT_EQ(std::get<fleet::RegisterThingRequest>(good).parameters.at("SerialNumber"), "42");
  auto csr = fleet::read_csr_request({{"certificateSigningRequest", json::array()}});
  EXPECT_TRUE(std::holds_alternative<fleet::Rejection>(csr));
}

TEST(OwnershipTokensTest, OneUseBoundToItsOwnerAndExpiringAfterAnHour) {
  testing::FakeClock clock;
  OwnershipTokens tokens(clock.clock());
  auto token = tokens.issue("cert-1", "claim-A");
  ASSERT_TRUE(token);
  EXPECT_GE(token->size(), 64u);
  EXPECT_NE(*tokens.issue("cert-2", "claim-A"), *token);

  // Another claim certificate cannot use it, and trying does not use it up.
  auto foreign = tokens.consume(*token, "claim-B");
  ASSERT_TRUE(std::holds_alternative<OwnershipTokens::Refusal>(foreign));
  EXPECT_EQ(std::get<OwnershipTokens::Refusal>(foreign), OwnershipTokens::Refusal::other_owner);

  auto used = tokens.consume(*token, "claim-A");
  ASSERT_TRUE(std::holds_alternative<OwnershipTokens::Grant>(used));
  EXPECT_EQ(std::get<OwnershipTokens::Grant>(used).certificate_id, "cert-1");
  auto again = tokens.consume(*token, "claim-A");
  ASSERT_TRUE(std::holds_alternative<OwnershipTokens::Refusal>(again));
  EXPECT_EQ(std::get<OwnershipTokens::Refusal>(again), OwnershipTokens::Refusal::used);

  auto unknown = tokens.consume("not-a-token", "claim-A");
  EXPECT_EQ(std::get<OwnershipTokens::Refusal>(unknown), OwnershipTokens::Refusal::unknown);

  auto later = tokens.issue("cert-3", "claim-A");
  clock.advance(OwnershipTokens::kLifetime - std::chrono::seconds(1));
  EXPECT_TRUE(tokens.take_expired().empty());
  clock.advance(std::chrono::seconds(1));
  auto expired = tokens.consume(*later, "claim-A");
  ASSERT_TRUE(std::holds_alternative<OwnershipTokens::Refusal>(expired));
  EXPECT_EQ(std::get<OwnershipTokens::Refusal>(expired), OwnershipTokens::Refusal::expired);
  // The unused ones are reported once (cert-2, cert-3); the used one is not.
  auto abandoned = tokens.take_expired();
  ASSERT_EQ(abandoned.size(), 2u);
  EXPECT_TRUE(tokens.take_expired().empty());
  EXPECT_EQ(tokens.outstanding(), 0u);
}

TEST(OwnershipTokensTest, OutstandingTokensAreBounded) {
  testing::FakeClock clock;
  OwnershipTokens tokens(clock.clock());
  for (size_t i = 0; i < OwnershipTokens::kMaxOutstanding; ++i)
    ASSERT_TRUE(tokens.issue("c" + std::to_string(i), "claim"));
  EXPECT_FALSE(tokens.issue("one-more", "claim"));
  clock.advance(OwnershipTokens::kLifetime);
  EXPECT_TRUE(tokens.issue("after-expiry", "claim"));
}

class FleetProvisioningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::move(*registry::Registry::open(dir_.path() / "registry.db"));
    chain_ = pki::testing::make_chain(unix_now());
    fleet_ = std::make_unique<FleetProvisioning>(
        *registry_,
        FleetProvisioning::Issuer{.account_id = "123456789012",
                                  .region = "us-east-1",
                                  .certificate = chain_.signer.get(),
                                  .key = chain_.signer_key.get()},
        [this](std::string_view name) -> Result<std::optional<StoredTemplate>> {
          if (name != "FleetTemplate") return std::nullopt;
          return StoredTemplate{.body = "{\"Resources\":{}}", .pre_provisioning_hook = "hook"};
        },
        [this](const provisioning::ProvisionRequest& request)
            -> std::variant<provisioning::ProvisionOutcome, provisioning::ProvisioningError> {
          requests_.push_back(request);
          if (refuse_) return provisioning::ProvisioningError{403, "AccessDenied", "hook said no"};
          (void)registry_->update_certificate_status(request.certificate_id, registry::kActive);
          return provisioning::ProvisionOutcome{.thing_name = "thing-1",
                                                .device_configuration = {{"Fallback", "no"}}};
        },
        nullptr, clock_.clock());
  }

  // The one answer to a request, decoded from its format.
  std::pair<std::string, json> call(const std::string& topic, const std::string& payload,
                                    const std::string& principal = "claim-A") {
    auto answer = fleet_->handle(topic, bytes_of(payload), principal, "client-1");
    EXPECT_TRUE(answer);
    if (!answer) return {};
    bool is_cbor = topic.ends_with("/cbor");
    json body = is_cbor ? json::from_cbor(answer->payload) : json::parse(answer->payload);
    return {answer->topic, body};
  }

  testing::TempDir dir_{"fleet"};
  testing::FakeClock clock_;
  std::unique_ptr<registry::Registry> registry_;
  pki::testing::Chain chain_;
  std::unique_ptr<FleetProvisioning> fleet_;
  std::vector<provisioning::ProvisionRequest> requests_;
  bool refuse_ = false;
};

TEST_F(FleetProvisioningTest, CreateKeysThenRegisterThingActivatesTheCertificateOnce) {
  auto [topic, created] = call("$aws/certificates/create/json", "{}");
  ASSERT_EQ(topic, "$aws/certificates/create/json/accepted") << created.dump();
  for (const char* field :
       {"certificateId", "certificatePem", "privateKey", "certificateOwnershipToken"})
    ASSERT_TRUE(created[field].is_string()) << field;
  std::string id = created["certificateId"];
  auto stored = registry_->find_certificate(id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->status, registry::kPendingActivation);
  // The private key belongs to the certificate.
  auto key = crypto::private_key_from_pem(created["privateKey"].get<std::string>());
  ASSERT_TRUE(key);
  auto cert = crypto::certificate_from_pem(created["certificatePem"].get<std::string>());
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_private_key(cert->get(), key->get()), 1);

  json request = {{"certificateOwnershipToken", created["certificateOwnershipToken"]},
                  {"parameters", {{"SerialNumber", "42"}}}};
  auto [accepted_topic, accepted] =
      call("$aws/provisioning-templates/FleetTemplate/provision/json", request.dump());
  EXPECT_EQ(accepted_topic, "$aws/provisioning-templates/FleetTemplate/provision/json/accepted");
  EXPECT_EQ(accepted,
            (json{{"thingName", "thing-1"}, {"deviceConfiguration", {{"Fallback", "no"}}}}));
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].certificate_id, id);
  EXPECT_EQ(requests_[0].template_name, "FleetTemplate");
  EXPECT_EQ(requests_[0].pre_provisioning_hook, "hook");
  EXPECT_EQ(requests_[0].parameters, (json{{"SerialNumber", "42"}}));

  auto [reused_topic, reused] =
      call("$aws/provisioning-templates/FleetTemplate/provision/json", request.dump());
  EXPECT_EQ(reused_topic, "$aws/provisioning-templates/FleetTemplate/provision/json/rejected");
  EXPECT_EQ(reused["statusCode"], 400);
  EXPECT_EQ(reused["errorCode"], "InvalidCertificateOwnershipToken");
  EXPECT_EQ(requests_.size(), 1u);
}

TEST_F(FleetProvisioningTest, CborCsrRequestGetsACborAnswerWithoutAKey) {
  auto key = std::move(*crypto::generate_p256_key());
  auto csr = pki::testing::make_device_csr(key.get());
  std::string pem = *crypto::csr_to_pem(csr.get());
  auto [topic, created] =
      call("$aws/certificates/create-from-csr/cbor", cbor({{"certificateSigningRequest", pem}}));
  ASSERT_EQ(topic, "$aws/certificates/create-from-csr/cbor/accepted") << created.dump();
  EXPECT_FALSE(created.contains("privateKey"));
  auto cert = crypto::certificate_from_pem(created["certificatePem"].get<std::string>());
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_private_key(cert->get(), key.get()), 1);

  auto [bad_topic, bad] = call("$aws/certificates/create-from-csr/cbor",
                               cbor({{"certificateSigningRequest", "-----BEGIN nonsense"}}));
  EXPECT_EQ(bad_topic, "$aws/certificates/create-from-csr/cbor/rejected");
  EXPECT_EQ(bad["errorCode"], "InvalidPayload");
}

TEST_F(FleetProvisioningTest, ForeignExpiredAndUnknownTokensAndTemplatesAreRejected) {
  auto [topic, created] = call("$aws/certificates/create/json", "{}");
  json request = {{"certificateOwnershipToken", created["certificateOwnershipToken"]}};
  const std::string provision = "$aws/provisioning-templates/FleetTemplate/provision/json";

  auto [missing_topic, missing] =
      call("$aws/provisioning-templates/NoSuchTemplate/provision/json", request.dump());
  EXPECT_EQ(missing["statusCode"], 404);
  EXPECT_EQ(missing["errorCode"], "ResourceNotFound");

  auto [foreign_topic, foreign] = call(provision, request.dump(), "claim-B");
  EXPECT_EQ(foreign["errorCode"], "InvalidCertificateOwnershipToken");
  auto [unknown_topic, unknown] =
      call(provision, json{{"certificateOwnershipToken", "AAAA"}}.dump());
  EXPECT_EQ(unknown["errorCode"], "InvalidCertificateOwnershipToken");

  clock_.advance(OwnershipTokens::kLifetime);
  auto [expired_topic, expired] = call(provision, request.dump());
  EXPECT_EQ(expired_topic, provision + "/rejected");
  EXPECT_EQ(expired["errorCode"], "InvalidCertificateOwnershipToken");
  EXPECT_EQ(expired["errorMessage"], "Certificate ownership token has expired.");
  EXPECT_TRUE(requests_.empty());
  // The next request sweeps: the certificate, never activated nor attached, is gone.
  call("$aws/certificates/create/json", "{}");
  auto gone = registry_->find_certificate(created["certificateId"].get<std::string>());
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
}

TEST_F(FleetProvisioningTest, AProvisioningRefusalIsPassedOnWithItsCode) {
  refuse_ = true;
  auto [topic, created] = call("$aws/certificates/create/cbor", cbor(json::object()));
  ASSERT_EQ(topic, "$aws/certificates/create/cbor/accepted");
  auto [refused_topic, refused] =
      call("$aws/provisioning-templates/FleetTemplate/provision/cbor",
           cbor({{"certificateOwnershipToken", created["certificateOwnershipToken"]}}));
  EXPECT_EQ(refused_topic, "$aws/provisioning-templates/FleetTemplate/provision/cbor/rejected");
  EXPECT_EQ(
      refused,
      (json{{"statusCode", 403}, {"errorCode", "AccessDenied"}, {"errorMessage", "hook said no"}}));
}

TEST_F(FleetProvisioningTest, OtherTopicsAreNotThisApis) {
  EXPECT_FALSE(fleet_->handle("$aws/things/t/shadow/get", {}, "claim-A", "c"));
  EXPECT_FALSE(fleet_->handle("$aws/certificates/create/json/accepted", {}, "claim-A", "c"));
}

}  // namespace
}  // namespace zt::cloud::service
