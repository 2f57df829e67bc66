// Control-plane handlers through ApiServer::handle (SigV4 + routing + transaction), no network.
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "api_fixture.hpp"
#include "aws/sigv4.hpp"
#include "cloud/api/server.hpp"
#include "cloud/local_ca.hpp"
#include "cloud/registry/registry.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "pki/profiles.hpp"

namespace zt::cloud::api {
namespace {

using nlohmann::json;
using testing::Ca;
using testing::make_cert;
using ApiTest = testing::ApiTest;

TEST_F(ApiTest, RefusesUnsignedWrongServiceAndBadSecret) {
  Reply unsigned_reply = server_->handle(request("GET", "/things"));
  EXPECT_EQ(unsigned_reply.status, 403);
  EXPECT_EQ(error_type(unsigned_reply), "MissingAuthenticationTokenException");
  Reply wrong_service = call("GET", "/things", "", {}, "iotdata");
  EXPECT_EQ(wrong_service.status, 403);
  EXPECT_EQ(error_type(wrong_service), "InvalidSignatureException");
  EXPECT_EQ(call("GET", "/things", "", {}, "execute-api").status, 200);
  auto r = request("GET", "/things");
  ASSERT_TRUE(
      aws::sign_request(r, {"AKIDTEST", "wrong", ""}, {.region = "us-east-1", .service = "iot"}));
  Reply bad = server_->handle(r);
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(error_type(bad), "SignatureDoesNotMatch");
  EXPECT_TRUE(json::parse(bad.body).contains("message"));
}

TEST_F(ApiTest, UnknownRoutesAndMethodsAreClientErrors) {
  // AWS's answer to an operation it has not (UnknownOperationException), for an unknown path and
  // for a method no operation of a known path has.
  for (Reply unknown : {call("GET", "/no/such/route"), call("PATCH", "/registrationcode")}) {
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(error_type(unknown), "UnknownOperationException");
  }
  EXPECT_EQ(call("POST", "/policies/p1", "{not json").status, 400);
  EXPECT_EQ(call("GET", "/certificates/xyz").status, 400);
  EXPECT_EQ(call("GET", "/things?maxResults=0").status, 400);
  EXPECT_EQ(call("GET", "/things?nextToken=%%%").status, 400);
}

TEST_F(ApiTest, RegisterCaAcceptsSeedAndAwsProofOfPossession) {
  std::string code = registration_code();
  Ca signer = make_cert("Example Signer FFFF", true, nullptr);
  // Seed form: the CA's own public key in the verification certificate.
  auto seed =
      *pki::create_verification_certificate(code, signer.cert.get(), signer.key.get(), unix_now());
  Reply seed_reply = register_ca(signer, *crypto::certificate_to_pem(seed.get()),
                                 "?setAsActive=true&allowAutoRegistration=true");
  ASSERT_EQ(seed_reply.status, 200) << seed_reply.body;
  EXPECT_EQ(json::parse(seed_reply.body)["certificateId"], signer.id);
  auto active = registry_->list_active_cas();
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].auto_registration, "ENABLE");

  // AWS form: a fresh key pair, signed by the CA key.
  Ca other = make_cert("Other CA", true, nullptr);
  Ca verification = make_cert(code, false, &other);
  Reply aws_reply = register_ca(other, verification.pem);
  ASSERT_EQ(aws_reply.status, 200) << aws_reply.body;
  EXPECT_EQ((*registry_->find_ca(other.id))->status, "INACTIVE");
}

TEST_F(ApiTest, RegisterCaRejectionsNameTheProblem) {
  std::string code = registration_code();
  Ca ca = make_cert("CA", true, nullptr);
  Ca wrong_cn = make_cert("not-the-code", false, &ca);
  EXPECT_EQ(error_type(register_ca(ca, wrong_cn.pem)), "RegistrationCodeValidationException");
  Ca stranger = make_cert("stranger", true, nullptr);
  Ca foreign = make_cert(code, false, &stranger);  // right CN, wrong signer
  EXPECT_EQ(error_type(register_ca(ca, foreign.pem)), "CertificateValidationException");
  Ca leaf = make_cert("leaf", false, &ca);
  Ca leaf_verification = make_cert(code, false, &leaf);
  Reply not_ca = register_ca(leaf, leaf_verification.pem);
  EXPECT_EQ(not_ca.status, 400);
  EXPECT_EQ(json::parse(not_ca.body)["message"],
            "The CA certificate does not have the basicConstraints extension as true");
  Ca expired = make_cert("old CA", true, nullptr, -30);
  EXPECT_EQ(error_type(register_ca(expired, make_cert(code, false, &expired).pem)),
            "CertificateValidationException");
  EXPECT_EQ(error_type(register_ca(ca, "")), "InvalidRequestException");
  EXPECT_EQ(error_type(register_ca(ca, "garbage")), "CertificateValidationException");
  EXPECT_TRUE(registry_->list_cas({})->items.empty());
  Ca good = make_cert(code, false, &ca);
  ASSERT_EQ(register_ca(ca, good.pem).status, 200);
  Reply again = register_ca(ca, good.pem);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(json::parse(again.body)["resourceId"], ca.id);
  EXPECT_EQ(json::parse(again.body)["resourceArn"],
            "arn:aws:iot:us-east-1:123456789012:cacert/" + ca.id);
  // Microchip's aws_register_signer.py reads the id from the message on a re-run.
  EXPECT_EQ(vendor_id_from_message(again), ca.id);
}

TEST_F(ApiTest, DeviceCertificateLifecycle) {
  std::string code = registration_code();
  Ca ca = make_cert("CA", true, nullptr);
  ASSERT_EQ(register_ca(ca, make_cert(code, false, &ca).pem).status, 200);
  Ca device = make_cert("device", false, &ca);
  json body = {{"certificatePem", device.pem}};
  // The CA is INACTIVE: registering its certificates is refused.
  EXPECT_EQ(error_type(call("POST", "/certificate/register", body.dump())),
            "CertificateStateException");
  ASSERT_EQ(call("PUT", "/cacertificate/" + ca.id + "?newStatus=ACTIVE", "{}").status, 200);
  Reply registered = call("POST", "/certificate/register?setAsActive=true", body.dump());
  ASSERT_EQ(registered.status, 200) << registered.body;
  std::string arn = "arn:aws:iot:us-east-1:123456789012:cert/" + device.id;
  EXPECT_EQ(json::parse(registered.body)["certificateArn"], arn);
  Reply twice = call("POST", "/certificate/register", body.dump());
  EXPECT_EQ(error_type(twice), "ResourceAlreadyExistsException");
  EXPECT_EQ(json::parse(twice.body)["resourceArn"], arn);
  EXPECT_EQ(vendor_id_from_message(twice), device.id);
  Reply twice_no_ca = call("POST", "/certificate/register-no-ca", body.dump());
  EXPECT_EQ(error_type(twice_no_ca), "ResourceAlreadyExistsException");
  EXPECT_EQ(vendor_id_from_message(twice_no_ca), device.id);
  Ca unknown = make_cert("d2", false, &issuer_);
  EXPECT_EQ(error_type(call("POST", "/certificate/register",
                            json{{"certificatePem", unknown.pem}}.dump())),
            "CertificateValidationException");

  ASSERT_EQ(call("POST", "/policies/p1",
                 json{{"policyDocument",
                       R"({"Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}})"}}
                     .dump())
                .status,
            200);
  ASSERT_EQ(call("PUT", "/target-policies/p1", json{{"target", arn}}.dump()).status, 200);
  ASSERT_EQ(call("POST", "/things/t1").status, 200);
  ASSERT_EQ(call("PUT", "/things/t1/principals", "", {{"x-amzn-principal", arn}}).status, 200);
  // ARN as one encoded path segment with %2F.
  Reply attached = call("POST", "/attached-policies/" + aws::uri_encode(arn, false));
  ASSERT_EQ(attached.status, 200) << attached.body;
  EXPECT_EQ(json::parse(attached.body)["policies"][0]["policyName"], "p1");

  EXPECT_EQ(error_type(call("DELETE", "/certificates/" + device.id)), "CertificateStateException");
  EXPECT_EQ(call("PUT", "/certificates/" + device.id + "?newStatus=PENDING_ACTIVATION").status,
            400);
  ASSERT_EQ(call("PUT", "/certificates/" + device.id + "?newStatus=INACTIVE").status, 200);
  EXPECT_EQ(error_type(call("DELETE", "/certificates/" + device.id)),
            "DeleteConflictException");                 // thing
  EXPECT_EQ(call("DELETE", "/things/t1").status, 400);  // still attached
  ASSERT_EQ(call("DELETE", "/things/t1/principals", "", {{"x-amzn-principal", arn}}).status, 200);
  EXPECT_EQ(error_type(call("DELETE", "/certificates/" + device.id)),
            "DeleteConflictException");  // policy
  EXPECT_EQ(error_type(call("DELETE", "/policies/p1")), "DeleteConflictException");
  ASSERT_EQ(call("DELETE", "/certificates/" + device.id + "?forceDelete=true").status, 200);
  EXPECT_EQ(call("GET", "/certificates/" + device.id).status, 404);
  EXPECT_EQ(call("DELETE", "/policies/p1").status, 200);
}

TEST_F(ApiTest, CloudIssuedCertificatesChainToTheIssuer) {
  Reply keys = call("POST", "/keys-and-certificate?setAsActive=true");
  ASSERT_EQ(keys.status, 200) << keys.body;
  json answer = json::parse(keys.body);
  auto cert = crypto::certificate_from_pem(answer["certificatePem"].get<std::string>());
  ASSERT_TRUE(cert);
  // AWS's key pair: 2048-bit RSA, PKCS#1 PEM (crypto::private_key_from_pem reads P-256 only).
  std::string private_pem = answer["keyPair"]["PrivateKey"];
  EXPECT_EQ(private_pem.rfind("-----BEGIN RSA PRIVATE KEY-----", 0), 0u);
  crypto::UniquePtr<BIO> bio(
      BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())));
  crypto::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 2048);
  EXPECT_EQ(EVP_PKEY_eq(crypto::certificate_public_key(cert->get())->get(), key.get()), 1);
  EXPECT_EQ(X509_verify(cert->get(), crypto::certificate_public_key(issuer_.cert.get())->get()), 1);

  auto device_key = *crypto::generate_p256_key();
  crypto::X509ReqPtr csr(X509_REQ_new());
  X509_REQ_set_pubkey(csr.get(), device_key.get());
  ASSERT_GT(X509_REQ_sign(csr.get(), device_key.get(), EVP_sha256()), 0);
  Reply from_csr = call("POST", "/certificates",
                        json{{"certificateSigningRequest", *crypto::csr_to_pem(csr.get())}}.dump());
  ASSERT_EQ(from_csr.status, 200) << from_csr.body;
  auto issued =
      crypto::certificate_from_pem(json::parse(from_csr.body)["certificatePem"].get<std::string>());
  EXPECT_TRUE(crypto::same_public_key(crypto::certificate_public_key(issued->get())->get(),
                                      device_key.get()));
  EXPECT_EQ(
      call("POST", "/certificates", json{{"certificateSigningRequest", "junk"}}.dump()).status,
      400);
}

TEST_F(ApiTest, DescribeEndpointTypes) {
  EXPECT_EQ(
      json::parse(call("GET", "/endpoint?endpointType=iot%3AData-ATS").body)["endpointAddress"],
      "abc-ats.iot.us-east-1.localhost");
  EXPECT_EQ(json::parse(call("GET", "/endpoint").body)["endpointAddress"],
            "abc.iot.us-east-1.localhost");
  EXPECT_EQ(call("GET", "/endpoint?endpointType=iot%3ANope").status, 400);
}

TEST_F(ApiTest, PolicyDocumentsAreValidated) {
  auto create = [&](const std::string& doc) {
    return call("POST", "/policies/p", json{{"policyDocument", doc}}.dump());
  };
  EXPECT_EQ(error_type(create("not json")), "MalformedPolicyException");
  EXPECT_EQ(error_type(create(R"({"Statement":[{"Effect":"Maybe","Action":"a","Resource":"b"}]})")),
            "MalformedPolicyException");
  EXPECT_EQ(error_type(create(R"({"Statement":[{"Effect":"Allow","Resource":"b"}]})")),
            "MalformedPolicyException");
  EXPECT_EQ(
      error_type(create(
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":")" +
          std::string(2100, 'x') + "\"}]}")),
      "MalformedPolicyException");
  EXPECT_EQ(
      create(
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iot:Publish"],"Resource":["*"]}]})")
          .status,
      200);
  EXPECT_EQ(call("POST", "/policies/bad%20name", json{{"policyDocument", "{}"}}.dump()).status,
            400);
}

// Issue 12: each of these reached nlohmann's value()/get<T>() with a member of the wrong type,
// threw type_error inside the API call's transaction and left it open: later writes answered 200
// and were lost at restart. Now each is a 400 naming the member, and the next write is durable.
TEST_F(ApiTest, MistypedMembersAreInvalidRequestsAndLaterWritesCommit) {
  ASSERT_EQ(call("POST", "/things/t1").status, 200);
  ASSERT_EQ(call("POST", "/thing-types/tt").status, 200);
  ASSERT_EQ(call("POST", "/policies/p",
                 json{{"policyDocument",
                       R"({"Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]})"}}
                     .dump())
                .status,
            200);
  Ca ca = make_cert("Attacked CA", true, nullptr);
  ASSERT_EQ(register_ca(ca, make_cert(registration_code(), false, &ca).pem).status, 200);
  struct Attack {
    std::string method, target;
    json body;
    std::string field;
  };
  const std::vector<Attack> attacks = {
      {"PATCH", "/things/t1", {{"attributePayload", {{"merge", "yes"}}}}, "attributePayload.merge"},
      {"PATCH",
       "/things/t1",
       {{"attributePayload", {{"attributes", 7}}}},
       "attributePayload.attributes"},
      {"PATCH", "/things/t1", {{"attributePayload", "x"}}, "attributePayload"},
      {"PATCH", "/things/t1", {{"removeThingType", "true"}}, "removeThingType"},
      {"PATCH", "/things/t1", {{"expectedVersion", "1"}}, "expectedVersion"},
      {"PATCH", "/things/t1", {{"thingTypeName", 5}}, "thingTypeName"},
      {"POST", "/things/t2", {{"thingTypeName", json::array()}}, "thingTypeName"},
      {"POST",
       "/thing-types/t3",
       {{"thingTypeProperties", {{"searchableAttributes", "a"}}}},
       "thingTypeProperties.searchableAttributes"},
      {"POST", "/thing-types/t4", {{"thingTypeProperties", 1}}, "thingTypeProperties"},
      {"POST", "/cacertificate", {{"caCertificate", 1}}, "caCertificate"},
      {"POST",
       "/cacertificate",
       {{"caCertificate", "x"}, {"registrationConfig", {{"roleArn", 1}}}},
       "registrationConfig.roleArn"},
      {"PUT",
       "/cacertificate/" + ca.id,
       {{"removeAutoRegistration", "yes"}},
       "removeAutoRegistration"},
      {"PUT",
       "/cacertificate/" + ca.id,
       {{"registrationConfig", {{"templateBody", 1}}}},
       "registrationConfig.templateBody"},
      {"POST", "/certificate/register", {{"certificatePem", false}}, "certificatePem"},
      {"POST", "/certificate/register-no-ca", {{"certificatePem", "x"}, {"status", 1}}, "status"},
      {"POST",
       "/certificates",
       {{"certificateSigningRequest", {{"a", 1}}}},
       "certificateSigningRequest"},
      {"POST", "/policies/p2", {{"policyDocument", {{"Statement", 1}}}}, "policyDocument"},
      {"PUT", "/target-policies/p", {{"target", 1}}, "target"},
      {"POST",
       "/rules/r1",
       {{"sql", "SELECT * FROM 'a'"},
        {"actions", {{{"republish", {{"topic", "b"}, {"qos", "1"}}}}}}},
       "actions[0].republish.qos"},
      {"POST",
       "/rules/r2",
       {{"sql", "SELECT * FROM 'a'"}, {"actions", json::array()}, {"ruleDisabled", "no"}},
       "topicRulePayload.ruleDisabled"},
  };
  for (const auto& attack : attacks) {
    Reply reply = call(attack.method, attack.target, attack.body.dump());
    SCOPED_TRACE(attack.method + " " + attack.target + " " + attack.body.dump());
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(error_type(reply), "InvalidRequestException");
    EXPECT_NE(reply.body.find(attack.field), std::string::npos) << reply.body;
  }
  // A body nested deeper than the parse limit is refused without building it.
  std::string deep = std::string(70000, '[') + std::string(70000, ']');
  Reply too_deep = call("PATCH", "/things/t1", "{\"attributePayload\":" + deep + "}");
  EXPECT_EQ(too_deep.status, 400);
  EXPECT_NE(too_deep.body.find("nested"), std::string::npos) << too_deep.body;

  ASSERT_EQ(call("POST", "/things/after").status, 200);
  server_.reset();
  registry_.reset();
  registry_ = std::move(*registry::Registry::open(dir_ / "registry.db"));
  EXPECT_TRUE(registry_->find_thing("after").value());
  EXPECT_EQ(registry_->find_thing("t1").value()->version, 1);  // no attack changed it
}

// CreateTopicRule / ReplaceTopicRule compile the rule with the rules engine's parser.
TEST_F(ApiTest, TopicRulesAreCompiledWhenCreated) {
  auto create = [&](const std::string& name, const json& payload) {
    return call("POST", "/rules/" + name, payload.dump());
  };
  Reply bad_sql = create("r1", {{"sql", "SELECT * FROM"}, {"actions", json::array()}});
  EXPECT_EQ(bad_sql.status, 400);
  EXPECT_EQ(error_type(bad_sql), "SqlParseException");
  EXPECT_EQ(
      error_type(create("r1", {{"sql", "SELECT nosuch(a) FROM 'x'"}, {"actions", json::array()}})),
      "SqlParseException");
  Reply bad_template = create("r1", {{"sql", "SELECT * FROM 'a'"},
                                     {"actions", {{{"republish", {{"topic", "x/${topic(}"}}}}}}});
  EXPECT_EQ(error_type(bad_template), "InvalidRequestException");
  const json good = {{"sql", "SELECT a FROM 'in/+' WHERE b > 1"},
                     {"actions", {{{"republish", {{"topic", "out/${topic(2)}"}, {"qos", 1}}}}}}};
  ASSERT_EQ(create("r1", good).status, 200);
  EXPECT_EQ(error_type(call("PATCH", "/rules/r1",
                            json{{"sql", "SELECT a FROM 'in/+'"},
                                 {"actions", {{{"lambda", {{"functionArn", 1}}}}}}}
                                .dump())),
            "InvalidRequestException");
  json listed = json::parse(call("GET", "/rules").body);
  ASSERT_EQ(listed["rules"].size(), 1u);
  EXPECT_EQ(listed["rules"][0]["topicPattern"], "in/+");
}

// The control plane signs the payload (issue 12: a tampered UNSIGNED-PAYLOAD body was applied) and
// serves one region.
TEST_F(ApiTest, RefusesUnsignedPayloadAndOtherRegions) {
  auto r = request("POST", "/things/t1", "{}");
  ASSERT_TRUE(
      aws::sign_request(r, {"AKIDTEST", "secret-key", ""},
                        {.region = "us-east-1", .service = "iot", .unsigned_payload = true}));
  r.body = R"({"attributePayload":{"attributes":{"tampered":"yes"}}})";
  Reply unsigned_reply = server_->handle(r);
  EXPECT_EQ(unsigned_reply.status, 403);
  EXPECT_EQ(error_type(unsigned_reply), "SignatureDoesNotMatch");
  EXPECT_FALSE(registry_->find_thing("t1").value());
  auto other = request("GET", "/things");
  ASSERT_TRUE(aws::sign_request(other, {"AKIDTEST", "secret-key", ""},
                                {.region = "eu-west-1", .service = "iot"}));
  Reply wrong_region = server_->handle(other);
  EXPECT_EQ(wrong_region.status, 403);
  EXPECT_EQ(error_type(wrong_region), "InvalidSignatureException");
  EXPECT_NE(
      wrong_region.body.find("Credential should be scoped to a valid region, not 'eu-west-1'"),
      std::string::npos);
}

}  // namespace
}  // namespace zt::cloud::api
