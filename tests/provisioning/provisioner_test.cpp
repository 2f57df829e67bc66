// The Provisioner against a real registry: a JITP-style template provisions thing, policy and
// certificate status from the certificate's subject; a resource that fails leaves nothing behind;
// OverrideSettings FAIL refuses; the pre-provisioning hook (a real command function) allows,
// overrides parameters, or refuses with nothing created.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../cloud/registry_fixture.hpp"
#include "cloud/lambda/invoker.hpp"
#include "cloud/lambda/permissions.hpp"
#include "cloud/provisioning/provisioner.hpp"

namespace zt::cloud::provisioning {
namespace {

using nlohmann::json;
using registry::testing::kCertificatePrefix;

// C=US, O=Acme, OU=Sensors, CN=device-1, serialNumber=SN42 (openssl req -x509, P-256).
const char* kDevicePem = R"(-----BEGIN CERTIFICATE-----
MIIB9TCCAZugAwIBAgIUJYMJbYLHbbpfUF3Znz2lkQJ31DUwCgYIKoZIzj0EAwIw
UDELMAkGA1UEBhMCVVMxDTALBgNVBAoMBEFjbWUxEDAOBgNVBAsMB1NlbnNvcnMx
ETAPBgNVBAMMCGRldmljZS0xMQ0wCwYDVQQFEwRTTjQyMB4XDTI2MTIwNjE4MTA0
N1oXDTM2MTIwMzE4MTA0N1owUDELMAkGA1UEBhMCVVMxDTALBgNVBAoMBEFjbWUx
EDAOBgNVBAsMB1NlbnNvcnMxETAPBgNVBAMMCGRldmljZS0xMQ0wCwYDVQQFEwRT
TjQyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELmBOvm9bUj8EH899679mwtbx
OorAFIq0xrlgDcDhqffdCAOMekkBqCwwqoTxOo1ZJ3IxJRCPiV0TV+jlTydxQKNT
MFEwHQYDVR0OBBYEFDXvXBYmnCpmUOzIiXUbmUVH87zdMB8GA1UdIwQYMBaAFDXv
XBYmnCpmUOzIiXUbmUVH87zdMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
SAAwRQIhANV/yeWFfkRT6ENwAtqDvQPAuU3i6HQrtBsCPuttQBh3AiBG93bmGJMs
ZAO8U38SVwKWoHW4dC0Znxkq6l55TBJ1xQ==
-----END CERTIFICATE-----
)";

const char* kPolicy =
    R"({\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]})";

// The JITP template of the developer guide, thing named by the certificate's CN.
std::string jitp_template(const std::string& thing_extra = "", const std::string& overrides = "") {
  return std::string(R"({
    "Parameters": {
      "AWS::IoT::Certificate::CommonName": {"Type": "String"},
      "AWS::IoT::Certificate::SerialNumber": {"Type": "String"},
      "AWS::IoT::Certificate::Country": {"Type": "String"},
      "AWS::IoT::Certificate::Id": {"Type": "String"}
    },
    "Resources": {
      "thing": {"Type": "AWS::IoT::Thing", "Properties": {
        "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
        "AttributePayload": {"serial": {"Ref": "AWS::IoT::Certificate::SerialNumber"},
                             "country": {"Ref": "AWS::IoT::Certificate::Country"}})") +
         thing_extra + "}" + overrides + R"(},
      "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
        "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
      "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": ")" +
         kPolicy + R"("}}
    },
    "DeviceConfiguration": {"serial": {"Ref": "AWS::IoT::Certificate::SerialNumber"}}
  })";
}

class ProvisionerTest : public registry::testing::RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    ASSERT_TRUE(registry_->set_setting("account_id", "123456789012"));
    ASSERT_TRUE(registry_->insert_certificate({.id = kId,
                                               .pem = kDevicePem,
                                               .status = registry::kPendingActivation,
                                               .creation_date = 1}));
  }

  std::variant<ProvisionOutcome, ProvisioningError> provision(const std::string& body,
                                                              lambda::Invoker* hooks = nullptr,
                                                              const std::string& hook = "",
                                                              json parameters = json::object()) {
    Provisioner provisioner(*registry_, "123456789012", "us-east-1", hooks, nullptr);
    return provisioner.provision({.template_body = body,
                                  .template_name = hook.empty() ? "" : "fleet",
                                  .pre_provisioning_hook = hook,
                                  .parameters = std::move(parameters),
                                  .certificate_id = kId,
                                  .client_id = "client-1"});
  }

  // Nothing was made for the device: no thing, no policy, the certificate as it was.
  void expect_nothing_left() {
    EXPECT_FALSE(*registry_->find_thing("device-1"));
    EXPECT_TRUE(registry_->list_policies({})->items.empty());
    EXPECT_EQ((*registry_->find_certificate(kId))->status, registry::kPendingActivation);
    EXPECT_TRUE(registry_->list_principal_things(kCertificatePrefix + kId, {})->items.empty());
  }

  const std::string kId = id_of(7);
};

TEST_F(ProvisionerTest, ProvisionsThingPolicyAndCertificateFromTheSubject) {
  auto outcome = provision(jitp_template());
  ASSERT_TRUE(std::holds_alternative<ProvisionOutcome>(outcome))
      << std::get<ProvisioningError>(outcome).message;
  const auto& done = std::get<ProvisionOutcome>(outcome);
  EXPECT_EQ(done.thing_name, "device-1");
  EXPECT_EQ(done.device_configuration, json({{"serial", "SN42"}}));
  auto thing = *registry_->find_thing("device-1");
  ASSERT_TRUE(thing);
  EXPECT_EQ(json::parse(thing->attributes), json({{"serial", "SN42"}, {"country", "US"}}));
  EXPECT_EQ((*registry_->find_certificate(kId))->status, registry::kActive);
  auto things = registry_->list_principal_things(kCertificatePrefix + kId, {});
  EXPECT_EQ(things->items, std::vector<std::string>{"device-1"});
  auto policies = registry_->list_attached_policies(kCertificatePrefix + kId, {});
  ASSERT_EQ(policies->items.size(), 1u);
  EXPECT_EQ(policies->items[0].name.size(), 64u);  // named by the document's hash
  // A second run (the same device again) changes nothing and succeeds.
  EXPECT_TRUE(std::holds_alternative<ProvisionOutcome>(provision(jitp_template())));
  EXPECT_EQ(registry_->list_policies({})->items.size(), 1u);
}

TEST_F(ProvisionerTest, AFailingResourceLeavesNothingBehind) {
  // The thing type does not exist: the policy and the certificate status written before it are
  // rolled back with it.
  auto outcome = provision(jitp_template(R"(, "ThingTypeName": "missing-type")"));
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(outcome));
  EXPECT_NE(std::get<ProvisioningError>(outcome).message.find("missing-type"), std::string::npos);
  expect_nothing_left();
}

TEST_F(ProvisionerTest, AMissingSubjectFieldFailsBeforeAnythingIsWritten) {
  std::string body = jitp_template();
  body.replace(body.find("\"AWS::IoT::Certificate::Country\""), 0,
               R"("AWS::IoT::Certificate::StateName": {"Type": "String"}, )");
  auto outcome = provision(body);
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(outcome));
  EXPECT_EQ(std::get<ProvisioningError>(outcome).code, "InvalidParameters");
  expect_nothing_left();
}

TEST_F(ProvisionerTest, OverrideFailRefusesAnExistingThingWithOtherAttributes) {
  ASSERT_TRUE(registry_->insert_thing(
      {.name = "device-1", .id = "x", .attributes = R"({"serial":"other"})"}));
  auto outcome =
      provision(jitp_template("", R"(, "OverrideSettings": {"AttributePayload": "FAIL"})"));
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(outcome));
  EXPECT_EQ(std::get<ProvisioningError>(outcome).code, "ResourceConflictsException");
  EXPECT_TRUE(registry_->list_policies({})->items.empty());
  EXPECT_EQ((*registry_->find_certificate(kId))->status, registry::kPendingActivation);
  // MERGE keeps the thing's other attributes and adds the template's.
  auto merged =
      provision(jitp_template("", R"(, "OverrideSettings": {"AttributePayload": "MERGE"})"));
  ASSERT_TRUE(std::holds_alternative<ProvisionOutcome>(merged));
  EXPECT_EQ(json::parse((*registry_->find_thing("device-1"))->attributes),
            json({{"serial", "SN42"}, {"country", "US"}}));
}

TEST_F(ProvisionerTest, ThingGroupsAndBillingGroupFollowOverrideSettings) {
  for (const char* name : {"sensors", "west", "old"})
    ASSERT_TRUE(registry_->insert_thing_group({.name = name, .id = name}));
  ASSERT_TRUE(registry_->insert_billing_group({.name = "lab", .id = "lab"}));
  auto with_groups = [&](const std::string& overrides) {
    return jitp_template(R"(, "ThingGroups": ["sensors", "west"], "BillingGroup": "lab")",
                         overrides);
  };
  // A group that does not exist: nothing is left, not even the thing.
  auto missing = provision(jitp_template(R"(, "ThingGroups": ["sensors", "nope"])"));
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(missing));
  expect_nothing_left();
  // An existing thing in "old": DO_NOTHING (the default) keeps its groups, REPLACE replaces them.
  ASSERT_TRUE(registry_->insert_thing({.name = "device-1", .id = "x"}));
  ASSERT_TRUE(registry_->add_thing_to_thing_group("old", "device-1"));
  ASSERT_TRUE(std::holds_alternative<ProvisionOutcome>(provision(with_groups(""))));
  EXPECT_EQ(*registry_->list_thing_groups_for_thing("device-1"), std::vector<std::string>{"old"});
  EXPECT_EQ(*registry_->find_billing_group_for_thing("device-1"), "lab");
  auto fail = provision(with_groups(R"(, "OverrideSettings": {"ThingGroups": "FAIL"})"));
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(fail));
  EXPECT_EQ(std::get<ProvisioningError>(fail).code, "ResourceConflictsException");
  ASSERT_TRUE(std::holds_alternative<ProvisionOutcome>(
      provision(with_groups(R"(, "OverrideSettings": {"ThingGroups": "MERGE"})"))));
  EXPECT_EQ(*registry_->list_thing_groups_for_thing("device-1"),
            (std::vector<std::string>{"old", "sensors", "west"}));
  ASSERT_TRUE(std::holds_alternative<ProvisionOutcome>(
      provision(with_groups(R"(, "OverrideSettings": {"ThingGroups": "REPLACE"})"))));
  EXPECT_EQ(*registry_->list_thing_groups_for_thing("device-1"),
            (std::vector<std::string>{"sensors", "west"}));
}

class ProvisionerHookTest : public ProvisionerTest {
 protected:
  void add_hook(const std::string& command, bool allow_iot = true) {
    ASSERT_TRUE(registry_->insert_lambda_function({.name = "hook",
                                                   .runtime = "provided",
                                                   .handler = "command",
                                                   .command = command,
                                                   .timeout = 5},
                                                  {}));
    if (!allow_iot) return;
    std::string arn = "arn:aws:lambda:us-east-1:123456789012:function:hook";
    auto statement = lambda::permission_statement({.statement_id = "iot",
                                                   .action = "lambda:InvokeFunction",
                                                   .principal = "iot.amazonaws.com"},
                                                  arn);
    ASSERT_TRUE(registry_->add_lambda_permission(
        {.function_name = "hook", .sid = "iot", .statement = statement.dump()}));
    invoker_ = std::make_unique<lambda::Invoker>(
        *registry_,
        lambda::InvokerOptions{.code_cache = dir_ / "code", .account_id = "123456789012"});
  }
  // A fleet template whose thing name comes from a parameter the hook may override.
  std::string fleet_template() {
    return R"({"Parameters": {"SerialNumber": {"Type": "String"}},
      "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "SerialNumber"}}},
                    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": ")" +
           std::string(kPolicy) + R"("}}}})";
  }
  const std::string kHook = "arn:aws:lambda:us-east-1:123456789012:function:hook";
  std::unique_ptr<lambda::Invoker> invoker_;
};

TEST_F(ProvisionerHookTest, AHookThatSaysNoLeavesNothingBehind) {
  add_hook(R"(cat > /dev/null; echo '{"allowProvisioning": false}')");
  auto outcome = provision(fleet_template(), invoker_.get(), kHook, {{"SerialNumber", "device-1"}});
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(outcome));
  EXPECT_EQ(std::get<ProvisioningError>(outcome).status, 403);
  expect_nothing_left();
}

TEST_F(ProvisionerHookTest, ParameterOverridesReplaceTheDevicesParameters) {
  // The hook sees the device's parameters on stdin and answers an override.
  add_hook(
      R"(grep -q '"SerialNumber":"device-1"' && echo '{"allowProvisioning": true, "parameterOverrides": {"SerialNumber": "renamed-1"}}')");
  auto outcome = provision(fleet_template(), invoker_.get(), kHook, {{"SerialNumber", "device-1"}});
  ASSERT_TRUE(std::holds_alternative<ProvisionOutcome>(outcome))
      << std::get<ProvisioningError>(outcome).message;
  EXPECT_EQ(std::get<ProvisionOutcome>(outcome).thing_name, "renamed-1");
  EXPECT_TRUE(*registry_->find_thing("renamed-1"));
}

TEST_F(ProvisionerHookTest, AHookThatFailsOrAnswersBadlyRefuses) {
  add_hook(R"(cat > /dev/null; echo '{"parameterOverrides": {}}')");
  auto outcome = provision(fleet_template(), invoker_.get(), kHook, {{"SerialNumber", "device-1"}});
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(outcome));
  EXPECT_NE(std::get<ProvisioningError>(outcome).message.find("allowProvisioning"),
            std::string::npos);
  expect_nothing_left();
}

TEST_F(ProvisionerHookTest, AHookIoTMayNotInvokeIsRefused) {
  add_hook(R"(echo '{"allowProvisioning": true}')", false);
  invoker_ = std::make_unique<lambda::Invoker>(
      *registry_,
      lambda::InvokerOptions{.code_cache = dir_ / "code", .account_id = "123456789012"});
  auto outcome = provision(fleet_template(), invoker_.get(), kHook, {{"SerialNumber", "device-1"}});
  ASSERT_TRUE(std::holds_alternative<ProvisioningError>(outcome));
  EXPECT_EQ(std::get<ProvisioningError>(outcome).code, "AccessDenied");
  expect_nothing_left();
}

}  // namespace
}  // namespace zt::cloud::provisioning
