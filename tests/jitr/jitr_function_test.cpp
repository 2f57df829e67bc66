#include "cloud/jitr/jitr_function.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "cloud/policy/policy.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "pki/profiles.hpp"

namespace zt::cloud::jitr {
namespace {

// An in-memory control plane with AWS's already-exists semantics, recording the call order.
class MemoryPlane : public ControlPlane {
 public:
  std::map<std::string, std::string> certificates;  // id -> PEM
  std::map<std::string, std::string> statuses;      // id -> status (PENDING_ACTIVATION if absent)
  std::set<std::string> thing_types, things, policies, activated;
  std::set<std::pair<std::string, std::string>> policy_attachments, thing_attachments;
  std::map<std::string, std::string> policy_documents;
  std::vector<std::string> calls;
  std::string fail_on;

  Status step(const std::string& name) {
    calls.push_back(name);
    if (name == fail_on) return make_error(Errc::io, name + " failed (injected)");
    return ok();
  }
  Result<CertificateDescription> describe_certificate(const std::string& id) override {
    ZT_TRY(step("DescribeCertificate"));
    auto it = certificates.find(id);
    if (it == certificates.end())
      return make_error(Errc::not_found, "certificate " + id + " does not exist");
    auto status = statuses.find(id);
    return CertificateDescription{
        .pem = it->second,
        .status = status == statuses.end() ? kPendingActivation : status->second};
  }
  Status create_thing_type(const std::string& name) override {
    ZT_TRY(step("CreateThingType"));
    if (!thing_types.insert(name).second) return make_error(Errc::already_exists, name);
    return ok();
  }
  Status create_thing(const std::string& name, const std::string& type) override {
    ZT_TRY(step("CreateThing"));
    EXPECT_EQ(type, kThingTypeName);
    if (!things.insert(name).second) return make_error(Errc::already_exists, name);
    return ok();
  }
  Status create_policy(const std::string& name, const std::string& document) override {
    ZT_TRY(step("CreatePolicy"));
    if (!policies.insert(name).second) return make_error(Errc::already_exists, name);
    policy_documents[name] = document;
    return ok();
  }
  Status attach_principal_policy(const std::string& policy, const std::string& principal) override {
    ZT_TRY(step("AttachPrincipalPolicy"));
    policy_attachments.insert({policy, principal});
    return ok();
  }
  Status attach_thing_principal(const std::string& thing, const std::string& principal) override {
    ZT_TRY(step("AttachThingPrincipal"));
    thing_attachments.insert({thing, principal});
    return ok();
  }
  Status activate_certificate(const std::string& id) override {
    ZT_TRY(step("UpdateCertificate"));
    activated.insert(id);
    return ok();
  }
};

struct DeviceCert {
  std::string id, pem, ski_hex;
};

DeviceCert issue_device_cert() {
  auto root_key = crypto::generate_p256_key();
  auto signer_key = crypto::generate_p256_key();
  auto device_key = crypto::generate_p256_key();
  int64_t now = 1795617441;
  auto root = pki::create_root_certificate(root_key->get(), now);
  auto signer_csr = pki::create_signer_csr(signer_key->get());
  auto signer = pki::issue_signer_certificate(signer_csr->get(), root->get(), root_key->get(), now);
  auto name = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  crypto::CsrFields fields{.subject = name->get(), .extensions = {}};
  auto csr = crypto::build_csr(fields, device_key->get());
  auto device = pki::issue_device_certificate(csr->get(), signer->get(), signer_key->get(), now);
  EXPECT_TRUE(device) << (device ? "" : device.error().message);
  auto der = crypto::certificate_to_der(device->get());
  return {to_hex(crypto::sha256(*der)), *crypto::certificate_to_pem(device->get()),
          to_hex(*crypto::subject_key_identifier(device->get()))};
}

nlohmann::json event_for(const std::string& certificate_id) {
  return {{"certificateId", certificate_id}, {"caCertificateId", std::string(64, 'c')},
          {"timestamp", 1695074220131},      {"certificateStatus", "PENDING_ACTIVATION"},
          {"awsAccountId", "123456789012"},  {"certificateRegistrationTimestamp", nullptr}};
}

TEST(JitrFunction, RegistersThingPolicyAttachmentsAndActivates) {
  DeviceCert cert = issue_device_cert();
  MemoryPlane plane;
  plane.certificates[cert.id] = cert.pem;
  auto registration = register_device(event_for(cert.id), "us-east-1", plane);
  ASSERT_TRUE(registration) << registration.error().message;
  EXPECT_EQ(registration->thing_name, cert.ski_hex);
  EXPECT_EQ(registration->thing_name.size(), 40u);
  EXPECT_EQ(registration->policy_name, "ZTPolicy_" + cert.id);
  std::string principal = "arn:aws:iot:us-east-1:123456789012:cert/" + cert.id;
  EXPECT_TRUE(plane.policy_attachments.count({registration->policy_name, principal}));
  EXPECT_TRUE(plane.thing_attachments.count({cert.ski_hex, principal}));
  EXPECT_TRUE(plane.activated.count(cert.id));
  EXPECT_EQ(plane.calls,
            (std::vector<std::string>{"DescribeCertificate", "CreateThingType", "CreateThing",
                                      "CreatePolicy", "AttachPrincipalPolicy",
                                      "AttachThingPrincipal", "UpdateCertificate"}));
  // The policy it wrote lets this device talk to its own shadow and nothing else.
  auto policy = policy::parse_policy(plane.policy_documents[registration->policy_name]);
  ASSERT_TRUE(policy) << policy.error().message;
  policy::RequestContext device{.client_id = cert.ski_hex};
  std::string arn = "arn:aws:iot:us-east-1:123456789012:";
  EXPECT_EQ(policy::evaluate({*policy}, "iot:Connect", arn + "client/" + cert.ski_hex, device),
            policy::Decision::allow);
  EXPECT_EQ(policy::evaluate(
                {*policy}, "iot:Subscribe",
                arn + "topicfilter/$aws/things/" + cert.ski_hex + "/shadow/update/delta", device),
            policy::Decision::allow);
  EXPECT_EQ(policy::evaluate({*policy}, "iot:Publish",
                             arn + "topic/$aws/things/other/shadow/update", device),
            policy::Decision::implicit_deny);
}

// The key id the broker noted at the handshake names the thing (the stored PEM is not parsed);
// without a note the PEM is; the notes are bounded, oldest dropped.
TEST(JitrFunction, UsesTheKeyIdTheBrokerNoted) {
  DeviceCert cert = issue_device_cert();
  MemoryPlane plane;
  plane.certificates[cert.id] = cert.pem;
  RecentKeyIds recent;
  recent.note(cert.id, cert.ski_hex);
  auto registration = register_device(event_for(cert.id), "us-east-1", plane, &recent);
  ASSERT_TRUE(registration) << registration.error().message;
  EXPECT_EQ(registration->thing_name, cert.ski_hex);
  EXPECT_TRUE(plane.thing_attachments.count(
      {cert.ski_hex, "arn:aws:iot:us-east-1:123456789012:cert/" + cert.id}));

  for (size_t i = 0; i < RecentKeyIds::kMaxEntries; ++i)
    recent.note(std::to_string(i), "k" + std::to_string(i));
  EXPECT_FALSE(recent.find(cert.id));
  EXPECT_EQ(recent.find("0"), "k0");
  recent.note("0", "again");  // a second note for a certificate replaces the first, adds nothing
  recent.note("x", "kx");
  EXPECT_FALSE(recent.find("0"));
  EXPECT_EQ(recent.find("1"), "k1");
}

TEST(JitrFunction, RetryAfterAFailureCompletesTheRegistration) {
  DeviceCert cert = issue_device_cert();
  MemoryPlane plane;
  plane.certificates[cert.id] = cert.pem;
  plane.fail_on = "AttachThingPrincipal";
  auto first = register_device(event_for(cert.id), "eu-west-1", plane);
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message.find("AttachThingPrincipal"), std::string::npos);
  EXPECT_TRUE(plane.activated.empty());  // never ACTIVE before it is fully bound
  plane.fail_on.clear();
  auto second = register_device(event_for(cert.id), "eu-west-1", plane);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(plane.activated.count(cert.id));
}

TEST(JitrFunction, AnEventForACertificateThatIsNotPendingChangesNothing) {
  // A forged registration event (a will, Basic Ingest, an HTTP Publish) naming a REVOKED, INACTIVE
  // or already ACTIVE certificate: a failed invocation that writes nothing.
  DeviceCert cert = issue_device_cert();
  for (const char* status : {"REVOKED", "INACTIVE", "ACTIVE", "PENDING_TRANSFER"}) {
    MemoryPlane plane;
    plane.certificates[cert.id] = cert.pem;
    plane.statuses[cert.id] = status;
    auto result = register_device(event_for(cert.id), "us-east-1", plane);
    ASSERT_FALSE(result) << status;
    EXPECT_EQ(result.error().code, Errc::conflict);
    EXPECT_NE(result.error().message.find(std::string(status) + ", not PENDING_ACTIVATION"),
              std::string::npos)
        << result.error().message;
    EXPECT_EQ(plane.calls, std::vector<std::string>{"DescribeCertificate"}) << status;
    EXPECT_TRUE(plane.activated.empty());
  }
}

TEST(JitrFunction, RefusesBadEvents) {
  MemoryPlane plane;
  EXPECT_FALSE(register_device(nlohmann::json::array(), "us-east-1", plane));
  auto no_id = register_device(nlohmann::json{{"awsAccountId", "1"}}, "us-east-1", plane);
  ASSERT_FALSE(no_id);
  EXPECT_NE(no_id.error().message.find("certificateId"), std::string::npos);
  auto missing = register_device(event_for(std::string(64, 'a')), "us-east-1", plane);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("DescribeCertificate"), std::string::npos);
  EXPECT_TRUE(plane.things.empty());
}

}  // namespace
}  // namespace zt::cloud::jitr
