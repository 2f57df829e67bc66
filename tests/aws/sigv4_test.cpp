// SigV4 against the public AWS test suite (aws-c-auth v4 vectors, shared/vectors/sigv4/v4):
// our signer must produce header-signature.txt, our verifier must accept
// header-signed-request.txt and refuse it after any one-byte change.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "aws/sigv4.hpp"
#include "common/file.hpp"
#include "common/time.hpp"

namespace zt::aws {
namespace {

const std::filesystem::path kVectors =
    std::filesystem::path(ZT_SOURCE_DIR) / "tests/vectors/sigv4/v4";

std::string read(const std::filesystem::path& path) {
  auto text = read_text_file(path);
  EXPECT_TRUE(text) << path;
  return text ? *text : std::string();
}

// Parses the suite's request files: "METHOD target HTTP/1.1", "Name:value" lines (a line that
// starts with whitespace continues the previous value), blank line, body.
HttpRequest parse_request_file(const std::string& text) {
  HttpRequest request;
  size_t line_end = text.find('\n');
  std::string first = text.substr(0, line_end);
  size_t space = first.find(' ');
  size_t version = first.rfind(" HTTP/");
  request.method = first.substr(0, space);
  request.target = first.substr(space + 1, version - space - 1);
  size_t pos = line_end == std::string::npos ? text.size() : line_end + 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      if (pos < text.size()) request.body = text.substr(pos);
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      request.headers.back().second += "\n" + line;
      continue;
    }
    size_t colon = line.find(':');
    request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return request;
}

std::string strip_trailing_newlines(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

struct Case {
  std::string name;
  nlohmann::json context;
  int64_t time = 0;
};

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kVectors)) {
    if (std::filesystem::exists(entry.path() / "header-signature.txt")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Case load_case(const std::string& name) {
  Case c{name, nlohmann::json::parse(read(kVectors / name / "context.json"))};
  std::string timestamp = c.context["timestamp"];  // 2015-08-30T12:36:00Z
  std::string amz = timestamp.substr(0, 4) + timestamp.substr(5, 2) + timestamp.substr(8, 2) + "T" +
                    timestamp.substr(11, 2) + timestamp.substr(14, 2) + timestamp.substr(17, 2) +
                    "Z";
  c.time = *parse_amz_date(amz);
  return c;
}

SecretLookup lookup_for(const Case& c) {
  std::string key = c.context["credentials"]["access_key_id"];
  std::string secret = c.context["credentials"]["secret_access_key"];
  return [key, secret](std::string_view id) -> std::optional<std::string> {
    if (id == key) return secret;
    return std::nullopt;
  };
}

VerifyOptions verify_options(const Case& c) {
  return {.services = {"service"}, .now = c.time, .normalize = c.context.value("normalize", true)};
}

class SigV4Vectors : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4Vectors, SignerProducesExpectedCanonicalRequestAndSignature) {
  Case c = load_case(GetParam());
  HttpRequest request = parse_request_file(read(kVectors / c.name / "request.txt"));
  Credentials credentials{c.context["credentials"]["access_key_id"],
                          c.context["credentials"]["secret_access_key"],
                          c.context["credentials"].value("token", "")};
  SigningOptions options{.region = c.context["region"],
                         .service = c.context["service"],
                         .unix_time = c.time,
                         .normalize = c.context.value("normalize", true),
                         .add_content_sha256 = c.context.value("sign_body", false),
                         .sign_session_token = !c.context.value("omit_session_token", false)};
  ASSERT_TRUE(sign_request(request, credentials, options));
  auto auth = parse_authorization(*request.header("authorization"));
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_EQ(auth->signature,
            strip_trailing_newlines(read(kVectors / c.name / "header-signature.txt")));

  std::string hash =
      std::string(request.header("x-amz-content-sha256").value_or(payload_hash(request.body)));
  auto creq = canonical_request(request, auth->signed_headers, hash, options.normalize);
  ASSERT_TRUE(creq);
  EXPECT_EQ(*creq,
            strip_trailing_newlines(read(kVectors / c.name / "header-canonical-request.txt")));
  std::string scope = credential_scope(auth->date, auth->region, auth->service);
  EXPECT_EQ(string_to_sign(format_amz_date(c.time), scope, *creq),
            strip_trailing_newlines(read(kVectors / c.name / "header-string-to-sign.txt")));
}

TEST_P(SigV4Vectors, VerifierAcceptsSignedRequest) {
  Case c = load_case(GetParam());
  HttpRequest request = parse_request_file(read(kVectors / c.name / "header-signed-request.txt"));
  std::string type;
  auto caller = verify_request(request, lookup_for(c), verify_options(c), &type);
  ASSERT_TRUE(caller) << type << ": " << caller.error().message;
  EXPECT_EQ(caller->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(caller->region, "us-east-1");
}

TEST_P(SigV4Vectors, VerifierRejectsEveryOneByteTamperOfSignedParts) {
  Case c = load_case(GetParam());
  const std::string text = read(kVectors / c.name / "header-signed-request.txt");
  const HttpRequest original = parse_request_file(text);
  auto auth = parse_authorization(*original.header("authorization"));
  ASSERT_TRUE(auth);
  // Tamper one byte at a time in the method, the target, each signed header value, the body
  // and the signature; each variant must fail.
  std::vector<HttpRequest> variants;
  auto flip = [](std::string& s, size_t i) {
    s[i] = s[i] == 'a' ? 'b' : (s[i] == '0' ? '1' : (s[i] ^ 0x01));
  };
  for (size_t i = 0; i < original.method.size(); ++i) {
    variants.push_back(original);
    flip(variants.back().method, i);
  }
  for (size_t i = 0; i < original.target.size(); ++i) {
    HttpRequest v = original;
    flip(v.target, i);
    // Flipping '/'→'.' etc. may produce a path that normalizes to the same canonical form;
    // only count variants whose canonical request differs.
    auto before = canonical_request(original, auth->signed_headers, payload_hash(original.body),
                                    verify_options(c).normalize);
    auto after = canonical_request(v, auth->signed_headers, payload_hash(v.body),
                                   verify_options(c).normalize);
    if (after && *before != *after) variants.push_back(v);
  }
  for (size_t h = 0; h < original.headers.size(); ++h) {
    std::string name = original.headers[h].first;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    bool is_signed = std::find(auth->signed_headers.begin(), auth->signed_headers.end(), name) !=
                     auth->signed_headers.end();
    if (name == "authorization") {
      HttpRequest v = original;
      std::string& value = v.headers[h].second;
      flip(value, value.size() - 1);  // last hex digit of Signature
      variants.push_back(v);
    } else if (is_signed && !original.headers[h].second.empty()) {
      HttpRequest v = original;
      flip(v.headers[h].second, 0);
      variants.push_back(v);
    }
  }
  if (!original.body.empty()) {
    variants.push_back(original);
    flip(variants.back().body, 0);
  }
  ASSERT_GE(variants.size(), 4u);
  for (const auto& v : variants) {
    EXPECT_FALSE(verify_request(v, lookup_for(c), verify_options(c)))
        << "accepted tampered " << v.method << " " << v.target;
  }
}

INSTANTIATE_TEST_SUITE_P(AwsCAuthV4, SigV4Vectors, ::testing::ValuesIn(case_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(SigV4Suite, HasAllThirtyEightCases) { EXPECT_EQ(case_names().size(), 38u); }

// botocore double-encodes an already-encoded wire path (reference §1.2, captured example).
TEST(SigV4, CanonicalUriDoubleEncodesRawWirePath) {
  EXPECT_EQ(canonical_uri("/topics/a%2Fb%20c%2F%24aws%2F%2B%23", true),
            "/topics/a%252Fb%2520c%252F%2524aws%252F%252B%2523");
  EXPECT_EQ(canonical_uri("/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A1%3Acert%2Fab", true),
            "/attached-policies/arn%253Aaws%253Aiot%253Aus-east-1%253A1%253Acert%252Fab");
}

TEST(SigV4, CanonicalQueryDecodesThenReencodesAndSorts) {
  EXPECT_EQ(canonical_query("endpointType=iot%3AData-ATS"), "endpointType=iot%3AData-ATS");
  EXPECT_EQ(canonical_query("b=2&a=x y&a=1&flag"), "a=1&a=x%20y&b=2&flag=");
}

TEST(SigV4, VerifierChecksServiceScopeAndClockSkew) {
  HttpRequest request{"GET", "/things", {{"Host", "127.0.0.1:4580"}}, ""};
  Credentials credentials{"AKIDLOCAL", "secret", ""};
  int64_t now = 1'700'000'000;
  ASSERT_TRUE(sign_request(request, credentials,
                           {.region = "us-east-1", .service = "iot", .unix_time = now}));
  SecretLookup lookup = [](std::string_view id) -> std::optional<std::string> {
    if (id == "AKIDLOCAL") return std::string("secret");
    return std::nullopt;
  };
  std::string type;
  EXPECT_TRUE(
      verify_request(request, lookup, {.services = {"iot", "execute-api"}, .now = now + 899}));
  EXPECT_FALSE(verify_request(request, lookup, {.services = {"iot"}, .now = now + 901}, &type));
  EXPECT_EQ(type, "InvalidSignatureException");
  EXPECT_FALSE(verify_request(request, lookup, {.services = {"iotdata"}, .now = now}, &type));
  EXPECT_EQ(type, "InvalidSignatureException");
  SecretLookup wrong = [](std::string_view) -> std::optional<std::string> { return "other"; };
  EXPECT_FALSE(verify_request(request, wrong, {.services = {}, .now = now}, &type));
  EXPECT_EQ(type, "SignatureDoesNotMatch");
  SecretLookup none = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_FALSE(verify_request(request, none, {.services = {}, .now = now}, &type));
  EXPECT_EQ(type, "UnrecognizedClientException");
  request.headers.pop_back();  // Authorization
  EXPECT_FALSE(verify_request(request, lookup, {.services = {}, .now = now}, &type));
  EXPECT_EQ(type, "MissingAuthenticationTokenException");
}

// Issue 12: a body signed as UNSIGNED-PAYLOAD could be swapped in transit and was applied; a
// credential scope of any region was accepted.
TEST(SigV4, VerifierRefusesUnsignedPayloadAndOtherRegions) {
  HttpRequest request{"POST", "/things/t", {{"Host", "127.0.0.1:4580"}}, R"({"a":1})"};
  Credentials credentials{"AKIDLOCAL", "secret", ""};
  int64_t now = 1'700'000'000;
  ASSERT_TRUE(sign_request(
      request, credentials,
      {.region = "us-east-1", .service = "iot", .unix_time = now, .unsigned_payload = true}));
  EXPECT_EQ(*request.header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  SecretLookup lookup = [](std::string_view) -> std::optional<std::string> { return "secret"; };
  request.body = R"({"a":"tampered"})";
  // S3-style services accept it (the body is not covered)...
  EXPECT_TRUE(verify_request(request, lookup,
                             {.services = {"iot"}, .allow_unsigned_payload = true, .now = now}));
  // ...services that sign the payload do not.
  std::string type;
  auto refused = verify_request(request, lookup, {.services = {"iot"}, .now = now}, &type);
  ASSERT_FALSE(refused);
  EXPECT_EQ(type, "SignatureDoesNotMatch");
  EXPECT_NE(refused.error().message.find("UNSIGNED-PAYLOAD"), std::string::npos);

  HttpRequest signed_request{"GET", "/things", {{"Host", "127.0.0.1:4580"}}, ""};
  ASSERT_TRUE(sign_request(signed_request, credentials,
                           {.region = "eu-west-1", .service = "iot", .unix_time = now}));
  EXPECT_TRUE(verify_request(signed_request, lookup, {.regions = {"eu-west-1"}, .now = now}));
  auto wrong_region =
      verify_request(signed_request, lookup, {.regions = {"us-east-1"}, .now = now}, &type);
  ASSERT_FALSE(wrong_region);
  EXPECT_EQ(type, "InvalidSignatureException");
  EXPECT_EQ(wrong_region.error().message,
            "Credential should be scoped to a valid region, not 'eu-west-1'. ");
}

TEST(SigV4, ParseAuthorizationRefusesMalformedHeaders) {
  EXPECT_FALSE(parse_authorization("AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request"));
  EXPECT_FALSE(parse_authorization("Basic abc"));
  EXPECT_FALSE(parse_authorization(
      "AWS4-HMAC-SHA256 Credential=a/2015/r/s/aws4_request, SignedHeaders=host, Signature=" +
      std::string(64, 'a')));
  EXPECT_FALSE(parse_authorization(
      "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=x-amz-date;host, "
      "Signature=" +
      std::string(64, 'a')));
  EXPECT_TRUE(parse_authorization(
      "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host;x-amz-date, "
      "Signature=" +
      std::string(64, 'a')));
}

}  // namespace
}  // namespace zt::aws
