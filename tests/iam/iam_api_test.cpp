// IAM through ApiServer::handle (SigV4 → the router of the scope's service → one transaction →
// XML), no network. The cloud's region is eu-west-1, so IAM's us-east-1 signing is exercised.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <regex>

#include "aws/sigv4.hpp"
#include "cloud/api/server.hpp"
#include "cloud/iam/policy_document.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::api {
namespace {

const char* kTrust =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})";
const char* kPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:CreateThing","iot:DescribeCertificate"],"Resource":"*"}]})";
const char* kBasic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

std::string form(std::vector<std::pair<std::string, std::string>> fields) {
  std::string out = "Version=2010-05-08";
  for (auto& [name, value] : fields) out += "&" + name + "=" + aws::uri_encode(value, false);
  return out;
}

// The text of the first <name>…</name> in `xml`.
std::string element(const std::string& xml, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(xml, match, std::regex("<" + name + ">([^<]*)</" + name + ">"))) return "";
  return match[1];
}

class IamApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("zt-iam-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    registry_ = std::move(*registry::Registry::open(dir_ / "registry.db"));
    ASSERT_TRUE(registry_->add_access_key("AKIDROOT", "root-secret"));
    ASSERT_TRUE(registry_->set_setting("account_id", "123456789012"));
    context_ = std::make_unique<ServiceContext>(ServiceContext{.registry = *registry_,
                                                               .account_id = "123456789012",
                                                               .region = "eu-west-1",
                                                               .endpoint_prefix = "abc"});
    server_ = std::make_unique<ApiServer>(
        io_, *context_,
        ServiceRouters{.iot = make_control_plane_router(), .iam = make_iam_router()},
        ServerOptions{});
  }
  void TearDown() override {
    server_.reset();
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }

  Reply signed_call(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& service, const std::string& region,
                    const aws::Credentials& credentials) {
    aws::HttpRequest r{method, target, {{"Host", "127.0.0.1:4580"}}, body};
    if (!body.empty()) {
      r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    }
    EXPECT_TRUE(aws::sign_request(r, credentials, {.region = region, .service = service}));
    return server_->handle(r);
  }
  Reply iam(const std::string& action, std::vector<std::pair<std::string, std::string>> fields = {},
            const aws::Credentials& credentials = {"AKIDROOT", "root-secret", ""}) {
    fields.insert(fields.begin(), {"Action", action});
    return signed_call("POST", "/", form(std::move(fields)), "iam", "us-east-1", credentials);
  }
  static void expect_error(const Reply& reply, int status, const std::string& code,
                           const std::string& message = "") {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(element(reply.body, "Code"), code) << reply.body;
    EXPECT_NE(
        reply.body.find("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"),
        std::string::npos);
    EXPECT_EQ(element(reply.body, "Type"), status < 500 ? "Sender" : "Receiver");
    if (!message.empty()) {
      EXPECT_EQ(element(reply.body, "Message"), message);
    }
  }
  void create_role(const std::string& name = "ZTLambdaJITRRole") {
    Reply created = iam("CreateRole", {{"RoleName", name}, {"AssumeRolePolicyDocument", kTrust}});
    ASSERT_EQ(created.status, 200) << created.body;
  }

  std::filesystem::path dir_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<ServiceContext> context_;
  boost::asio::io_context io_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(IamApiTest, RoutesBySigningServiceAndSignsIamForUsEast1) {
  aws::Credentials root{"AKIDROOT", "root-secret", ""};
  // IoT in the cloud's region; IAM in us-east-1 only.
  EXPECT_EQ(signed_call("GET", "/things", "", "iot", "eu-west-1", root).status, 200);
  Reply iot_wrong_region = signed_call("GET", "/things", "", "iot", "us-east-1", root);
  EXPECT_EQ(iot_wrong_region.status, 403);
  Reply listed = iam("ListRoles");
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find("<ListRolesResponse"), std::string::npos);
  Reply iam_wrong_region =
      signed_call("POST", "/", form({{"Action", "ListRoles"}}), "iam", "eu-west-1", root);
  expect_error(iam_wrong_region, 403, "SignatureDoesNotMatch",
               "Credential should be scoped to a valid region, not 'eu-west-1'. ");
  // An IoT path signed for iam reaches IAM's router, not IoT's.
  Reply crossed = signed_call("GET", "/things", "", "iam", "us-east-1", root);
  expect_error(crossed, 400, "InvalidAction");
  // A service this cloud does not serve: AWS's wrong-signing-name answer, rest-json.
  Reply s3 = signed_call("GET", "/things", "", "s3", "eu-west-1", root);
  EXPECT_EQ(s3.status, 403);
  EXPECT_NE(s3.body.find("Credential should be scoped to correct service: 'iot'. "),
            std::string::npos);
  // IAM's names for SigV4 refusals.
  expect_error(iam("ListRoles", {}, {"AKIDNOBODY", "x", ""}), 403, "InvalidClientTokenId",
               "The security token included in the request is invalid.");
  expect_error(iam("ListRoles", {}, {"AKIDROOT", "wrong", ""}), 403, "SignatureDoesNotMatch");
}

TEST_F(IamApiTest, RoleLifecycleWithPolicies) {
  Reply created = iam("CreateRole", {{"RoleName", "ZTLambdaJITRRole"},
                                     {"AssumeRolePolicyDocument", kTrust},
                                     {"Path", "/service-role/"},
                                     {"Description", "JITR <Lambda> & co"},
                                     {"MaxSessionDuration", "7200"}});
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_NE(created.body.find("<CreateRoleResult><Role>"), std::string::npos);
  EXPECT_EQ(element(created.body, "Arn"),
            "arn:aws:iam::123456789012:role/service-role/ZTLambdaJITRRole");
  EXPECT_TRUE(std::regex_match(element(created.body, "RoleId"), std::regex("AROA[A-Z2-7]{17}")));
  EXPECT_TRUE(std::regex_match(element(created.body, "CreateDate"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_EQ(aws::uri_decode(element(created.body, "AssumeRolePolicyDocument")), kTrust);
  EXPECT_EQ(element(created.body, "Description"), "JITR &lt;Lambda&gt; &amp; co");
  EXPECT_EQ(element(created.body, "MaxSessionDuration"), "7200");

  expect_error(
      iam("CreateRole", {{"RoleName", "ztlambdajitrrole"}, {"AssumeRolePolicyDocument", kTrust}}),
      409, "EntityAlreadyExists", "Role with name ztlambdajitrrole already exists.");
  Reply got = iam("GetRole", {{"RoleName", "ZTLambdaJITRRole"}});
  EXPECT_EQ(element(got.body, "RoleId"), element(created.body, "RoleId"));
  expect_error(iam("GetRole", {{"RoleName", "Nope"}}), 404, "NoSuchEntity",
               "The role with name Nope cannot be found.");

  EXPECT_EQ(
      iam("AttachRolePolicy", {{"RoleName", "ZTLambdaJITRRole"}, {"PolicyArn", kBasic}}).status,
      200);
  EXPECT_EQ(
      iam("AttachRolePolicy", {{"RoleName", "ZTLambdaJITRRole"}, {"PolicyArn", kBasic}}).status,
      200);
  expect_error(iam("AttachRolePolicy", {{"RoleName", "ZTLambdaJITRRole"},
                                        {"PolicyArn", "arn:aws:iam::123456789012:policy/Mine"}}),
               404, "NoSuchEntity",
               "Policy arn:aws:iam::123456789012:policy/Mine does not exist or is not attachable.");
  expect_error(iam("AttachRolePolicy",
                   {{"RoleName", "ZTLambdaJITRRole"}, {"PolicyArn", "not-an-arn-at-all-really"}}),
               400, "InvalidInput");
  Reply attached = iam("ListAttachedRolePolicies", {{"RoleName", "ZTLambdaJITRRole"}});
  EXPECT_NE(
      attached.body.find("<member><PolicyName>AWSLambdaBasicExecutionRole</PolicyName><PolicyArn>" +
                         std::string(kBasic) + "</PolicyArn></member>"),
      std::string::npos)
      << attached.body;

  EXPECT_EQ(iam("PutRolePolicy", {{"RoleName", "ZTLambdaJITRRole"},
                                  {"PolicyName", "ZTLambdaJITRPolicy"},
                                  {"PolicyDocument", kPolicy}})
                .status,
            200);
  Reply policy = iam("GetRolePolicy",
                     {{"RoleName", "ZTLambdaJITRRole"}, {"PolicyName", "ZTLambdaJITRPolicy"}});
  EXPECT_EQ(aws::uri_decode(element(policy.body, "PolicyDocument")), kPolicy);
  Reply names = iam("ListRolePolicies", {{"RoleName", "ZTLambdaJITRRole"}});
  EXPECT_NE(names.body.find("<PolicyNames><member>ZTLambdaJITRPolicy</member></PolicyNames>"),
            std::string::npos);
  expect_error(iam("PutRolePolicy", {{"RoleName", "ZTLambdaJITRRole"},
                                     {"PolicyName", "P"},
                                     {"PolicyDocument", "{\"Statement\": ["}}),
               400, "MalformedPolicyDocument", "This policy contains invalid Json");

  // DeleteRole refuses while policies remain, in AWS's order and words.
  expect_error(iam("DeleteRole", {{"RoleName", "ZTLambdaJITRRole"}}), 409, "DeleteConflict",
               "Cannot delete entity, must detach all policies first.");
  EXPECT_EQ(
      iam("DetachRolePolicy", {{"RoleName", "ZTLambdaJITRRole"}, {"PolicyArn", kBasic}}).status,
      200);
  expect_error(iam("DetachRolePolicy", {{"RoleName", "ZTLambdaJITRRole"}, {"PolicyArn", kBasic}}),
               404, "NoSuchEntity", "Policy " + std::string(kBasic) + " was not found.");
  expect_error(iam("DeleteRole", {{"RoleName", "ZTLambdaJITRRole"}}), 409, "DeleteConflict",
               "Cannot delete entity, must delete policies first.");
  EXPECT_EQ(iam("DeleteRolePolicy",
                {{"RoleName", "ZTLambdaJITRRole"}, {"PolicyName", "ZTLambdaJITRPolicy"}})
                .status,
            200);
  EXPECT_EQ(iam("DeleteRole", {{"RoleName", "ZTLambdaJITRRole"}}).status, 200);
  expect_error(iam("GetRole", {{"RoleName", "ZTLambdaJITRRole"}}), 404, "NoSuchEntity");
}

TEST_F(IamApiTest, FindRoleAndTrustForTheLambdaSide) {
  create_role();
  auto role = registry_->find_role("ZTLambdaJITRRole");
  ASSERT_TRUE(role && *role);
  auto trust = iam::parse_policy_document((*role)->trust_policy, iam::PolicyKind::trust);
  ASSERT_TRUE(trust);
  EXPECT_TRUE(iam::trust_allows_service(*trust, "lambda.amazonaws.com"));
  auto by_arn = registry_->find_role_by_arn("arn:aws:iam::123456789012:role/ZTLambdaJITRRole");
  ASSERT_TRUE(by_arn && *by_arn);
  EXPECT_EQ((*by_arn)->id, (*role)->id);
  // Another account, another path or a wrong case is another role.
  EXPECT_FALSE(*registry_->find_role_by_arn("arn:aws:iam::999999999999:role/ZTLambdaJITRRole"));
  EXPECT_FALSE(*registry_->find_role_by_arn("arn:aws:iam::123456789012:role/x/ZTLambdaJITRRole"));
  EXPECT_FALSE(*registry_->find_role_by_arn("arn:aws:iam::123456789012:role/ztlambdajitrrole"));
}

TEST_F(IamApiTest, ValidationAndHostileInput) {
  expect_error(iam("CreateRole", {{"RoleName", "bad name"}, {"AssumeRolePolicyDocument", kTrust}}),
               400, "ValidationError");
  expect_error(iam("CreateRole", {{"RoleName", "R"}}), 400, "ValidationError",
               "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to "
               "satisfy constraint: Member must not be null");
  expect_error(iam("CreateRole", {{"RoleName", "R"},
                                  {"AssumeRolePolicyDocument", kTrust},
                                  {"MaxSessionDuration", "lots"}}),
               400, "ValidationError");
  expect_error(iam("CreateRole", {{"RoleName", "R"}, {"AssumeRolePolicyDocument", kPolicy}}), 400,
               "MalformedPolicyDocument", "Has prohibited field Resource");
  std::string big_trust = std::string(kTrust);
  big_trust.insert(big_trust.size() - 3, ",\"Sid\":\"" + std::string(2100, 'x') + "\"");
  expect_error(iam("CreateRole", {{"RoleName", "R"}, {"AssumeRolePolicyDocument", big_trust}}), 409,
               "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048");
  expect_error(iam("NoSuchAction"), 400, "InvalidAction");
  aws::Credentials root{"AKIDROOT", "root-secret", ""};
  expect_error(signed_call("POST", "/", "Version=2010-05-08", "iam", "us-east-1", root), 400,
               "MissingAction");
  expect_error(signed_call("POST", "/", "Action=ListRoles&RoleName=%zz", "iam", "us-east-1", root),
               400, "MalformedQueryString");
  expect_error(
      signed_call("POST", "/", "Action=ListRoles&Action=GetRole", "iam", "us-east-1", root), 400,
      "ValidationError");
  expect_error(signed_call("POST", "/", "Action=ListRoles&X=" + std::string(70000, 'a'), "iam",
                           "us-east-1", root),
               400, "ValidationError");
  // Nothing was created by any of it.
  EXPECT_EQ(*registry_->count_roles(), 0);
}

TEST_F(IamApiTest, UsersAndAccessKeysThatSign) {
  Reply user = iam("CreateUser", {{"UserName", "ZTUser"}});
  ASSERT_EQ(user.status, 200) << user.body;
  EXPECT_EQ(element(user.body, "Arn"), "arn:aws:iam::123456789012:user/ZTUser");
  EXPECT_TRUE(std::regex_match(element(user.body, "UserId"), std::regex("AIDA[A-Z2-7]{17}")));
  expect_error(iam("CreateUser", {{"UserName", "ZTUser"}}), 409, "EntityAlreadyExists",
               "User with name ZTUser already exists.");
  expect_error(iam("GetUser", {{"UserName", "Nobody"}}), 404, "NoSuchEntity",
               "The user with name Nobody cannot be found.");
  Reply root = iam("GetUser");
  EXPECT_EQ(element(root.body, "Arn"), "arn:aws:iam::123456789012:root");

  Reply key = iam("CreateAccessKey", {{"UserName", "ZTUser"}});
  ASSERT_EQ(key.status, 200) << key.body;
  std::string id = element(key.body, "AccessKeyId");
  std::string secret = element(key.body, "SecretAccessKey");
  EXPECT_TRUE(std::regex_match(id, std::regex("AKIA[A-Z2-7]{16}")));
  EXPECT_EQ(secret.size(), 40u);
  aws::Credentials user_key{id, secret, ""};
  // The new key signs for every service; GetUser without a name is its user.
  EXPECT_EQ(signed_call("GET", "/things", "", "iot", "eu-west-1", user_key).status, 200);
  EXPECT_EQ(element(iam("GetUser", {}, user_key).body, "UserName"), "ZTUser");
  Reply keys = iam("ListAccessKeys", {}, user_key);
  EXPECT_EQ(element(keys.body, "AccessKeyId"), id);
  EXPECT_EQ(keys.body.find("SecretAccessKey"), std::string::npos);  // the secret is shown once
  EXPECT_EQ(iam("CreateAccessKey", {{"UserName", "ZTUser"}}).status, 200);
  expect_error(iam("CreateAccessKey", {{"UserName", "ZTUser"}}), 409, "LimitExceeded",
               "Cannot exceed quota for AccessKeysPerUser: 2");
  expect_error(iam("CreateAccessKey"), 400, "ValidationError");  // the root key is not IAM's

  expect_error(iam("DeleteUser", {{"UserName", "ZTUser"}}), 409, "DeleteConflict",
               "Cannot delete entity, must delete access keys first.");
  EXPECT_EQ(iam("DeleteAccessKey", {{"UserName", "ZTUser"}, {"AccessKeyId", id}}).status, 200);
  // A deleted key is refused at once (the server's cache forgot it).
  Reply refused = signed_call("GET", "/things", "", "iot", "eu-west-1", user_key);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("The security token included in the request is invalid."),
            std::string::npos);
  expect_error(iam("DeleteAccessKey", {{"UserName", "ZTUser"}, {"AccessKeyId", id}}), 404,
               "NoSuchEntity", "The Access Key with id " + id + " cannot be found.");
  EXPECT_FALSE(*registry_->find_secret(id));
}

}  // namespace
}  // namespace zt::cloud::api
