// The pieces under the IAM and Lambda clients: the XML reader for IAM's answers (hostile bytes
// included), IAM's ErrorResponse and result parsing over a fake transport, the deployment
// package's zip bytes, and the shared request path against the SigV4 suite's vectors.
#include <gtest/gtest.h>

#include <filesystem>

#include "aws/iam_client.hpp"
#include "aws/lambda_client.hpp"
#include "aws/xml_reader.hpp"
#include "aws/zip_writer.hpp"
#include "common/file.hpp"

namespace zt::aws {
namespace {

constexpr int64_t kSuiteTime = 1440938160;  // 2015-08-30T12:36:00Z
const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

std::string vector_file(const std::string& name, const std::string& file) {
  auto text =
      read_text_file(std::filesystem::path(ZT_SOURCE_DIR) / "tests/vectors/sigv4/v4" / name / file);
  EXPECT_TRUE(text) << name << "/" << file;
  std::string value = text ? *text : std::string();
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

// The suite's service "service" at example.amazonaws.com, through ServiceClient::build.
ServiceClient suite_client() {
  ServiceClient client(ClientConfig{kSuiteCredentials, "us-east-1", "", "default"},
                       ServiceSpec{"service", "example.amazonaws.com", ""});
  client.set_signing_time(kSuiteTime);
  return client;
}

std::string signature_of(const HttpRequest& request) {
  std::string authorization(*request.header("Authorization"));
  return authorization.substr(authorization.find("Signature=") + 10);
}

TEST(ServiceClientVectors, GetVanilla) {
  auto request = suite_client().build("GET", "/", {}, "", "");
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(signature_of(*request), vector_file("get-vanilla", "header-signature.txt"));
}

TEST(ServiceClientVectors, PostFormBodyAsIamSendsIt) {
  // post-x-www-form-urlencoded signs Content-Length and x-amz-content-sha256 too.
  auto request =
      suite_client().build("POST", "/", {}, "Param1=value1", "application/x-www-form-urlencoded",
                           {{"Content-Length", "13"},
                            {"X-Amz-Content-SHA256",
                             "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(signature_of(*request),
            vector_file("post-x-www-form-urlencoded", "header-signature.txt"));
}

TEST(ServiceClient, GlobalServiceIsSignedForUsEast1WhateverTheRegion) {
  IamClient iam(ClientConfig{kSuiteCredentials, "eu-west-1", "", "default"});
  EXPECT_EQ(iam.endpoint(), "https://iam.amazonaws.com");
  EXPECT_EQ(iam.service().signing_region(), "us-east-1");
  LambdaClient lambda(ClientConfig{kSuiteCredentials, "eu-west-1", "", "default"});
  EXPECT_EQ(lambda.endpoint(), "https://lambda.eu-west-1.amazonaws.com");
  IamClient local(ClientConfig{kSuiteCredentials, "eu-west-1", "http://127.0.0.1:4566", "default"});
  EXPECT_EQ(local.endpoint(), "http://127.0.0.1:4566");
}

TEST(XmlReader, ReadsAnIamAnswer) {
  auto document = parse_xml(R"(<?xml version="1.0"?>
<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetRoleResult>
    <Role>
      <Path>/</Path>
      <AssumeRolePolicyDocument>%7B%22a%22%3A1%7D</AssumeRolePolicyDocument>
      <RoleName>R &amp; D</RoleName>
      <Arn><![CDATA[arn:aws:iam::123456789012:role/R<1>]]></Arn>
      <Tags/>
    </Role>
  </GetRoleResult>
  <!-- a comment -->
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</GetRoleResponse>)");
  ASSERT_TRUE(document) << document.error().message;
  EXPECT_EQ(document->name, "GetRoleResponse");
  EXPECT_EQ(document->text_at("GetRoleResult/Role/RoleName"), "R & D");
  EXPECT_EQ(document->text_at("GetRoleResult/Role/Arn"), "arn:aws:iam::123456789012:role/R<1>");
  EXPECT_EQ(document->text_at("GetRoleResult/Role/Missing"), "");
  EXPECT_NE(document->find("GetRoleResult/Role/Tags"), nullptr);
}

TEST(XmlReader, RefusesMalformedAndHostileDocuments) {
  for (const char* bad : {"", "<a>", "<a></b>", "<a>&bogus;</a>", "<a>&#0;</a>", "<a>&#xD800;</a>",
                          "text<a/>", "<a/><b/>", "<a><!-- x </a>", "<a x='>'",
                          "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>", "</a>", "<>"}) {
    EXPECT_FALSE(parse_xml(bad)) << bad;
  }
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  auto result = parse_xml(deep);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::invalid_argument);
  std::string many = "<a>";
  for (int i = 0; i < 30; ++i) many += "<b/>";
  many += "</a>";
  EXPECT_TRUE(parse_xml(many));
  EXPECT_FALSE(parse_xml(many, {.max_bytes = 1 << 20, .max_depth = 32, .max_elements = 10}));
  EXPECT_FALSE(parse_xml(many, {.max_bytes = 16, .max_depth = 32, .max_elements = 100}));
}

// An IAM client over a transport that answers `status` and `body` and keeps the request.
struct FakeIam {
  IamClient client{ClientConfig{kSuiteCredentials, "us-west-2", "", "default"}};
  HttpRequest request;
  FakeIam(int status, std::string body) {
    client.service().set_transport([this, status, body](const HttpRequest& sent) {
      request = sent;
      return Result<HttpResponse>(HttpResponse{status, {}, body});
    });
  }
};

TEST(IamClient, NoSuchEntityMeansNoRoleAndOtherErrorsCarryCodeAndMessage) {
  FakeIam missing(404, R"(<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <Error><Type>Sender</Type><Code>NoSuchEntity</Code>
  <Message>The role with name ZTLambdaJITRRole cannot be found.</Message></Error>
  <RequestId>x</RequestId></ErrorResponse>)");
  auto role = missing.client.get_role("ZTLambdaJITRRole");
  ASSERT_TRUE(role) << role.error().message;
  EXPECT_FALSE(role->has_value());

  FakeIam conflict(409, R"(<ErrorResponse><Error><Code>DeleteConflict</Code>
  <Message>Cannot delete entity, must detach all policies first.</Message></Error></ErrorResponse>)");
  auto deleted = conflict.client.delete_role("ZTLambdaJITRRole");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, Errc::conflict);
  EXPECT_NE(deleted.error().message.find("DeleteConflict (HTTP 409) calling DeleteRole: Cannot "
                                         "delete entity, must detach all policies first."),
            std::string::npos)
      << deleted.error().message;

  FakeIam html(502, "<html><body>Bad Gateway</body>");
  auto failed = html.client.delete_role("R");
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("HTTP 502"), std::string::npos) << failed.error().message;

  FakeIam wrong(200, "<DeleteUserResponse/>");
  EXPECT_FALSE(wrong.client.delete_role("R"));
}

TEST(IamClient, ReadsTheRoleAndDecodesItsTrustPolicy) {
  FakeIam found(200, R"(<GetRoleResponse><GetRoleResult><Role><RoleName>R</RoleName>
  <Arn>arn:aws:iam::123456789012:role/R</Arn>
  <AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%7D</AssumeRolePolicyDocument>
  </Role></GetRoleResult></GetRoleResponse>)");
  auto role = found.client.get_role("R");
  ASSERT_TRUE(role && role->has_value());
  EXPECT_EQ((*role)->arn, "arn:aws:iam::123456789012:role/R");
  EXPECT_EQ((*role)->assume_role_policy, R"({"Version":"2012-10-17"})");
  EXPECT_EQ(found.request.body, "Action=GetRole&Version=2010-05-08&RoleName=R");
}

TEST(IamClient, ListsAttachedPoliciesAcrossPages) {
  int calls = 0;
  IamClient iam(ClientConfig{kSuiteCredentials, "us-west-2", "", "default"});
  std::vector<std::string> bodies;
  iam.service().set_transport([&](const HttpRequest& request) -> Result<HttpResponse> {
    bodies.push_back(request.body);
    ++calls;
    std::string more = calls == 1 ? "<IsTruncated>true</IsTruncated><Marker>m+1</Marker>"
                                  : "<IsTruncated>false</IsTruncated>";
    return HttpResponse{200,
                        {},
                        "<ListAttachedRolePoliciesResponse><ListAttachedRolePoliciesResult>"
                        "<AttachedPolicies><member><PolicyName>P" +
                            std::to_string(calls) + "</PolicyName><PolicyArn>arn:p" +
                            std::to_string(calls) + "</PolicyArn></member></AttachedPolicies>" +
                            more +
                            "</ListAttachedRolePoliciesResult></ListAttachedRolePoliciesResponse>"};
  });
  auto arns = iam.list_attached_role_policies("R");
  ASSERT_TRUE(arns) << arns.error().message;
  EXPECT_EQ(*arns, (std::vector<std::string>{"arn:p1", "arn:p2"}));
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_NE(bodies[1].find("&Marker=m%2B1"), std::string::npos) << bodies[1];
}

TEST(ZipWriter, StoredEntriesWithTheirCrcAndTheSameBytesEveryTime) {
  auto zip = make_zip({{"lambda_function.py", "123456789"}});
  ASSERT_TRUE(zip) << zip.error().message;
  const Bytes& bytes = *zip;
  ASSERT_GT(bytes.size(), 30u);
  EXPECT_EQ(bytes[0], 'P');
  EXPECT_EQ(bytes[1], 'K');
  // CRC-32 check value of "123456789" is 0xCBF43926 (little-endian at offset 14).
  EXPECT_EQ(bytes[14] | bytes[15] << 8 | bytes[16] << 16 | static_cast<uint32_t>(bytes[17]) << 24,
            0xCBF43926u);
  EXPECT_EQ(*make_zip({{"lambda_function.py", "123456789"}}), bytes);
  EXPECT_NE(code_sha256(*make_zip({{"lambda_function.py", "12345678"}})), code_sha256(bytes));
  for (const char* name : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b"}) {
    EXPECT_FALSE(make_zip({{name, "x"}})) << name;
  }
}

}  // namespace
}  // namespace zt::aws
