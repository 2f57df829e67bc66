// The requests our IAM, Lambda and IoT clients build for real AWS, compared with the ones
// botocore (the AWS SDK the aws CLI is built on) sends for the same calls: tests/aws/data/
// botocore_requests.json, written by tests/aws/botocore_requests.py at the SigV4 suite's time and
// credentials. Same method, URL (host per service and region, path), Content-Type and body (IAM's
// form bytes exactly; JSON bodies as documents), same credential scope and signed headers. Where
// the bodies are byte-identical the Authorization headers must be too; otherwise our signature
// must verify, and our signer must reproduce botocore's Authorization on botocore's own request.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "aws/iam_client.hpp"
#include "aws/iot_client.hpp"
#include "aws/lambda_client.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"

namespace zt::aws {
namespace {

using nlohmann::json;

constexpr int64_t kSuiteTime = 1440938160;  // 2015-08-30T12:36:00Z, the SigV4 suite's time
const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

ClientConfig real_aws(std::string region) {
  return ClientConfig{kSuiteCredentials, std::move(region), "", "default"};
}

template <class T>
Status status_of(Result<T> result) {
  if (!result) return std::move(result).error();
  return ok();
}

// Runs `make_call` with a transport that records the request and answers an empty 200.
template <class Client, class Call>
HttpRequest capture(Client& client, Call make_call) {
  HttpRequest seen;
  client.service().set_signing_time(kSuiteTime);
  client.service().set_transport([&](const HttpRequest& request) -> Result<HttpResponse> {
    seen = request;
    return HttpResponse{200, {}, ""};
  });
  (void)make_call(client);
  return seen;
}

HttpRequest ours_for(const json& expected) {
  std::string service = expected["service"], operation = expected["operation"];
  const json& p = expected["params"];
  auto s = [&](const char* key) { return p[key].get<std::string>(); };
  if (service == "iam") {
    IamClient iam(real_aws("us-west-2"));
    return capture(iam, [&](IamClient& c) -> Status {
      if (operation == "create_role")
        return status_of(c.create_role(s("RoleName"), s("AssumeRolePolicyDocument")));
      if (operation == "get_role") return status_of(c.get_role(s("RoleName")));
      if (operation == "put_role_policy")
        return c.put_role_policy(s("RoleName"), s("PolicyName"), s("PolicyDocument"));
      if (operation == "attach_role_policy")
        return c.attach_role_policy(s("RoleName"), s("PolicyArn"));
      if (operation == "list_attached_role_policies")
        return status_of(c.list_attached_role_policies(s("RoleName")));
      if (operation == "delete_role") return c.delete_role(s("RoleName"));
      ADD_FAILURE() << operation;
      return ok();
    });
  }
  if (service == "lambda") {
    LambdaClient lambda(real_aws("us-west-2"));
    return capture(lambda, [&](LambdaClient& c) -> Status {
      if (operation == "create_function") {
        std::string zip = p["Code"]["ZipFile"];  // bytes below 0x80: the text is the bytes
        Bytes bytes(zip.begin(), zip.end());
        FunctionDefinition function{
            s("FunctionName"), s("Runtime"), s("Role"), s("Handler"), p["Timeout"].get<int>(), ""};
        return status_of(c.create_function(function, bytes));
      }
      if (operation == "get_function") return status_of(c.get_function(s("FunctionName")));
      if (operation == "add_permission") {
        json statement = p;
        statement.erase("FunctionName");
        return c.add_permission(s("FunctionName"), statement);
      }
      if (operation == "remove_permission")
        return c.remove_permission(s("FunctionName"), s("StatementId"));
      if (operation == "delete_function") return c.delete_function(s("FunctionName"));
      ADD_FAILURE() << operation;
      return ok();
    });
  }
  IotClient iot(real_aws("us-west-2"));
  return capture(iot, [&](IotClient& c) -> Status {
    if (operation == "create_topic_rule")
      return c.create_topic_rule(s("ruleName"), p["topicRulePayload"]);
    if (operation == "get_topic_rule") return status_of(c.get_topic_rule(s("ruleName")));
    if (operation == "delete_topic_rule") return c.delete_topic_rule(s("ruleName"));
    ADD_FAILURE() << operation;
    return ok();
  });
}

std::string header_or_empty(const json& headers, const char* name) {
  return headers.contains(name) ? headers[name].get<std::string>() : std::string();
}

// "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…" without the signature.
std::string scope_part(std::string_view authorization) {
  return std::string(authorization.substr(0, authorization.find(", Signature=")));
}

class BotocoreRequests : public ::testing::TestWithParam<json> {};

std::vector<json> load_requests() {
  auto text = read_text_file(std::filesystem::path(ZT_SOURCE_DIR) /
                             "tests/aws/data/botocore_requests.json");
  EXPECT_TRUE(text);
  json all = text ? json::parse(*text) : json::array();
  std::vector<json> requests;
  for (const auto& entry : all) {
    if (entry.contains("operation")) requests.push_back(entry);
  }
  return requests;
}

TEST(BotocoreRequestsFile, CoversEveryServiceAndCallDeployJitrMakes) {
  auto requests = load_requests();
  ASSERT_GE(requests.size(), 14u);
}

TEST_P(BotocoreRequests, OurRequestMatchesBotocores) {
  const json& expected = GetParam();
  HttpRequest ours = ours_for(expected);
  ASSERT_FALSE(ours.method.empty()) << "no request was sent";
  std::string url = "https://" + std::string(*ours.header("Host")) + ours.target;
  EXPECT_EQ(ours.method, expected["method"]);
  EXPECT_EQ(url, expected["url"]);
  const json& headers = expected["headers"];
  EXPECT_EQ(std::string(ours.header("Content-Type").value_or("")),
            header_or_empty(headers, "Content-Type"));
  EXPECT_EQ(std::string(*ours.header("X-Amz-Date")), header_or_empty(headers, "X-Amz-Date"));
  std::string expected_body = expected["body"];
  if (expected["service"] == "iam" || expected_body.empty()) {
    EXPECT_EQ(ours.body, expected_body);
  } else {
    EXPECT_EQ(json::parse(ours.body), json::parse(expected_body)) << ours.body;
  }
  std::string authorization(*ours.header("Authorization"));
  std::string botocore_authorization = header_or_empty(headers, "Authorization");
  EXPECT_EQ(scope_part(authorization), scope_part(botocore_authorization));
  if (ours.body == expected_body) {
    EXPECT_EQ(authorization, botocore_authorization);
  } else {
    auto verified =
        verify_request(ours, [](std::string_view) { return kSuiteCredentials.secret_access_key; },
                       {.now = kSuiteTime});
    EXPECT_TRUE(verified) << verified.error().message;
  }

  // Our signer on botocore's own request gives botocore's Authorization.
  HttpRequest theirs;
  theirs.method = expected["method"];
  std::string host_and_path = url.substr(8);
  theirs.target = host_and_path.substr(host_and_path.find('/'));
  theirs.headers.emplace_back("Host", host_and_path.substr(0, host_and_path.find('/')));
  if (headers.contains("Content-Type"))
    theirs.headers.emplace_back("Content-Type", headers["Content-Type"]);
  theirs.body = expected_body;
  AuthorizationHeader parsed = *parse_authorization(botocore_authorization);
  ASSERT_TRUE(
      sign_request(theirs, kSuiteCredentials,
                   {.region = parsed.region, .service = parsed.service, .unix_time = kSuiteTime}));
  EXPECT_EQ(std::string(*theirs.header("Authorization")), botocore_authorization);
}

INSTANTIATE_TEST_SUITE_P(DeployJitrCalls, BotocoreRequests, ::testing::ValuesIn(load_requests()),
                         [](const auto& info) {
                           return info.param["service"].template get<std::string>() + "_" +
                                  info.param["operation"].template get<std::string>();
                         });

}  // namespace
}  // namespace zt::aws
