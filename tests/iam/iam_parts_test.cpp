// The pure parts of IAM (src/cloud/iam): the form parser, names and ARNs, policy documents and the
// trust check, the XML writer.
#include <gtest/gtest.h>

#include "cloud/iam/form.hpp"
#include "cloud/iam/names.hpp"
#include "cloud/iam/policy_document.hpp"
#include "cloud/iam/xml.hpp"

namespace zt::cloud::iam {
namespace {

using nlohmann::json;

TEST(IamForm, DecodesFieldsInOrder) {
  auto fields = parse_form("Action=CreateRole&RoleName=a%2Bb+c&Empty=&Flag&&Version=2010-05-08");
  ASSERT_TRUE(fields) << fields.error().message;
  ASSERT_EQ(fields->size(), 5u);
  EXPECT_EQ((*fields)[0], std::make_pair(std::string("Action"), std::string("CreateRole")));
  EXPECT_EQ(form_value(*fields, "RoleName"), "a+b c");
  EXPECT_EQ(form_value(*fields, "Empty"), "");
  EXPECT_EQ(form_value(*fields, "Flag"), "");
  EXPECT_EQ(form_value(*fields, "Missing"), std::nullopt);
}

TEST(IamForm, RefusesHostileInput) {
  EXPECT_EQ(parse_form("A=%zz").error().code, Errc::parse);
  EXPECT_EQ(parse_form("A=%4").error().code, Errc::parse);
  EXPECT_EQ(parse_form("A=%").error().code, Errc::parse);
  EXPECT_EQ(parse_form("A=%C0%AF").error().code, Errc::parse);     // overlong '/'
  EXPECT_EQ(parse_form("A=%ED%A0%80").error().code, Errc::parse);  // a UTF-16 surrogate
  EXPECT_EQ(parse_form("A=%FF").error().code, Errc::parse);
  EXPECT_EQ(parse_form("A=1&A=2").error().code, Errc::invalid_argument);
  EXPECT_EQ(parse_form("=1").error().code, Errc::invalid_argument);
  std::string many;
  for (int i = 0; i < 65; ++i) many += "P" + std::to_string(i) + "=x&";
  EXPECT_EQ(parse_form(many).error().code, Errc::invalid_argument);
  EXPECT_EQ(parse_form(std::string(64 * 1024 + 1, 'a')).error().code, Errc::invalid_argument);
  EXPECT_EQ(parse_form(std::string(129, 'n') + "=1").error().code, Errc::invalid_argument);
  EXPECT_TRUE(parse_form("A=%E2%82%AC%F0%9F%98%80"));  // € and an emoji are UTF-8
}

TEST(IamNames, ChecksNamesPathsAndDurations) {
  EXPECT_TRUE(check_name("roleName", "ZTLambdaJITRRole", kMaxRoleName));
  EXPECT_TRUE(check_name("roleName", "a_b+c=d,e.f@g-h", kMaxRoleName));
  auto bad = check_name("roleName", "bad name", kMaxRoleName);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  EXPECT_FALSE(check_name("roleName", std::string(65, 'a'), kMaxRoleName));
  EXPECT_FALSE(check_name("roleName", "", kMaxRoleName));
  EXPECT_TRUE(check_path("path", "/"));
  EXPECT_TRUE(check_path("path", "/service-role/"));
  EXPECT_FALSE(check_path("path", "service-role/"));
  EXPECT_FALSE(check_path("path", "/a b/"));
  EXPECT_FALSE(check_path("path", "/x"));
  EXPECT_EQ(*parse_max_session_duration("43200"), 43200);
  EXPECT_FALSE(parse_max_session_duration("3599"));
  EXPECT_FALSE(parse_max_session_duration("43201"));
  EXPECT_FALSE(parse_max_session_duration("1h"));
  EXPECT_FALSE(parse_max_session_duration(""));
  EXPECT_TRUE(check_description("Role for the JITR Lambda \xC3\xA9"));
  EXPECT_FALSE(check_description("\x01"));
  EXPECT_FALSE(check_description(std::string(1001, 'd')));
  EXPECT_TRUE(same_name("ZTRole", "ztrole"));
  EXPECT_FALSE(same_name("ZTRole", "ZTRole2"));
}

TEST(IamNames, ParsesArnsAndKnowsAwsManagedPolicies) {
  EXPECT_EQ(role_arn("123456789012", "/service-role/", "R"),
            "arn:aws:iam::123456789012:role/service-role/R");
  auto role = parse_iam_arn("arn:aws:iam::123456789012:role/service-role/R", "role");
  ASSERT_TRUE(role);
  EXPECT_EQ(role->account, "123456789012");
  EXPECT_EQ(role->path, "/service-role/");
  EXPECT_EQ(role->name, "R");
  EXPECT_FALSE(parse_iam_arn("arn:aws:iam::12345:role/R", "role"));
  EXPECT_FALSE(parse_iam_arn("arn:aws:iam::123456789012:user/R", "role"));
  EXPECT_FALSE(parse_iam_arn("arn:aws:iam::123456789012:role/", "role"));
  EXPECT_FALSE(parse_iam_arn("arn:aws:iam::123456789012:role/a b", "role"));
  EXPECT_TRUE(
      parse_iam_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "policy"));
  EXPECT_EQ(
      aws_managed_policy_name("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
      "AWSLambdaBasicExecutionRole");
  EXPECT_EQ(aws_managed_policy_name("arn:aws:iam::aws:policy/AWSIoTFullAccess"),
            "AWSIoTFullAccess");
  // The right name on the wrong path is not the policy.
  EXPECT_FALSE(aws_managed_policy_name("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole"));
  EXPECT_FALSE(aws_managed_policy_name("arn:aws:iam::123456789012:policy/Mine"));
}

const char* kLambdaTrust = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]})";

TEST(IamPolicyDocument, ValidatesIdentityAndTrustPolicies) {
  const char* identity = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":["iot:CreateThing","iot:DescribeCertificate"],"Resource":"*"}]})";
  EXPECT_TRUE(parse_policy_document(identity, PolicyKind::identity));
  EXPECT_TRUE(parse_policy_document(kLambdaTrust, PolicyKind::trust));
  auto message = [](std::string_view text, PolicyKind kind) {
    auto parsed = parse_policy_document(text, kind);
    EXPECT_FALSE(parsed);
    if (parsed) return std::string();
    EXPECT_EQ(parsed.error().code, Errc::parse);
    return parsed.error().message;
  };
  EXPECT_EQ(message("{not json", PolicyKind::identity), "This policy contains invalid Json");
  EXPECT_EQ(message("[]", PolicyKind::identity), "This policy contains invalid Json");
  EXPECT_EQ(message(kLambdaTrust, PolicyKind::identity),
            "Policy document should not specify a principal.");
  EXPECT_EQ(message(identity, PolicyKind::trust), "Has prohibited field Resource");
  EXPECT_EQ(message(R"({"Statement":[{"Effect":"Allow","Action":"s3:*"}]})", PolicyKind::identity),
            "Policy statement must contain resources.");
  EXPECT_EQ(message(R"({"Statement":[{"Effect":"Allow","Resource":"*"}]})", PolicyKind::identity),
            "Policy statement must contain actions.");
  EXPECT_EQ(message(R"({"Statement":[{"Action":"s3:*","Resource":"*"}]})", PolicyKind::identity),
            "Missing required field Effect");
  // Wrong types.
  EXPECT_FALSE(parse_policy_document(R"({"Statement":[{"Effect":1,"Action":"a","Resource":"*"}]})",
                                     PolicyKind::identity));
  EXPECT_FALSE(parse_policy_document(
      R"({"Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]})", PolicyKind::identity));
  EXPECT_FALSE(parse_policy_document(R"({"Statement":"x"})", PolicyKind::identity));
  EXPECT_FALSE(parse_policy_document(R"({"Statement":[]})", PolicyKind::identity));
  EXPECT_FALSE(parse_policy_document(
      R"({"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"a","Resource":"*"}})",
      PolicyKind::identity));
  EXPECT_FALSE(parse_policy_document(
      R"({"Statement":{"Effect":"Allow","Action":"a","Principal":{"Bogus":"x"}}})",
      PolicyKind::trust));
  // Deep nesting stops in the parser.
  EXPECT_FALSE(parse_policy_document(std::string(10000, '[') + std::string(10000, ']'),
                                     PolicyKind::identity));
}

TEST(IamTrust, AnswersWhetherAServiceMayAssumeTheRole) {
  auto trust = [](const char* text) { return *parse_policy_document(text, PolicyKind::trust); };
  EXPECT_TRUE(trust_allows_service(trust(kLambdaTrust), "lambda.amazonaws.com"));
  EXPECT_FALSE(trust_allows_service(trust(kLambdaTrust), "iot.amazonaws.com"));
  // A list of services, a single statement object, a wildcard action, an action list.
  json listed = trust(R"({"Statement":{"Effect":"Allow","Principal":{"Service":
    ["iot.amazonaws.com","lambda.amazonaws.com"]},"Action":["sts:TagSession","sts:*"]}})");
  EXPECT_TRUE(trust_allows_service(listed, "lambda.amazonaws.com"));
  EXPECT_TRUE(trust_allows_service(listed, "iot.amazonaws.com"));
  // Actions compare without regard to case, as IAM's.
  EXPECT_TRUE(trust_allows_service(
      trust(R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},
      "Action":"STS:assumerole"}]})"),
      "lambda.amazonaws.com"));
  // Another action, an AWS account principal, a Deny that overrides.
  EXPECT_FALSE(trust_allows_service(
      trust(R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},
      "Action":"sts:AssumeRoleWithWebIdentity"}]})"),
      "lambda.amazonaws.com"));
  EXPECT_FALSE(trust_allows_service(
      trust(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},
      "Action":"sts:AssumeRole"}]})"),
      "lambda.amazonaws.com"));
  EXPECT_FALSE(trust_allows_service(
      trust(R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},
      "Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:*"}]})"),
      "lambda.amazonaws.com"));
  EXPECT_TRUE(trust_allows_service(
      trust(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]})"),
      "lambda.amazonaws.com"));
  // From the stored text, as the Lambda side asks.
  EXPECT_TRUE(trust_document_allows_service(kLambdaTrust, "lambda.amazonaws.com"));
  EXPECT_FALSE(trust_document_allows_service(kLambdaTrust, "iot.amazonaws.com"));
  EXPECT_FALSE(trust_document_allows_service("{not json", "lambda.amazonaws.com"));
  // Not a policy at all.
  EXPECT_FALSE(trust_allows_service(json::array(), "lambda.amazonaws.com"));
  EXPECT_FALSE(trust_allows_service(json{{"Statement", 3}}, "lambda.amazonaws.com"));
}

TEST(IamXml, EscapesAndWrapsAnswers) {
  EXPECT_EQ(xml_escape("a<b>&\"c'\r\x01"), "a&lt;b&gt;&amp;\"c'&#xD;\xEF\xBF\xBD");
  XmlWriter xml;
  xml.open("Role");
  xml.element("RoleName", "R&D");
  xml.open("Tags");
  std::string text = xml.take();
  EXPECT_EQ(text, "<Role><RoleName>R&amp;D</RoleName><Tags></Tags></Role>");
  std::string response = query_response("GetRole", text, "rid");
  EXPECT_NE(response.find("<GetRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"),
            std::string::npos);
  EXPECT_NE(response.find("<GetRoleResult><Role>"), std::string::npos);
  EXPECT_NE(response.find("<RequestId>rid</RequestId>"), std::string::npos);
  EXPECT_EQ(query_response("DeleteRole", "", "rid").find("Result"), std::string::npos);
  std::string error =
      query_error(true, "NoSuchEntity", "The role with name <x> cannot be found.", "r");
  EXPECT_NE(error.find("<Type>Sender</Type>"), std::string::npos);
  EXPECT_NE(error.find("<Code>NoSuchEntity</Code>"), std::string::npos);
  EXPECT_NE(error.find("The role with name &lt;x&gt; cannot be found."), std::string::npos);
}

}  // namespace
}  // namespace zt::cloud::iam
