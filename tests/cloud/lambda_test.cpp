// cloud/lambda: deployment packages (zip checks and extraction: traversal, links, bombs), resource
// policies (what lets a rule invoke a function) and the runtimes (python3.x through our bootstrap,
// provided commands), run for real with the machine's python3.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>

#include <fstream>
#include <iterator>

#include "cloud/lambda/permissions.hpp"
#include "cloud/lambda/runtime.hpp"
#include "cloud/lambda/zip_archive.hpp"
#include "support/temp_dir.hpp"

namespace zt::cloud::lambda {
namespace {

struct Entry {
  std::string name;
  std::string content;
  uint32_t unix_mode = 0;  // with the file type bits; 0 = none recorded
};

// A zip made with libzip's writer, read back as bytes.
std::vector<uint8_t> make_zip(const std::vector<Entry>& entries) {
  zt::testing::TempDir dir("lambda-zip");
  auto path = dir / "package.zip";
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  EXPECT_NE(archive, nullptr);
  for (const auto& entry : entries) {
    zip_source_t* source =
        zip_source_buffer(archive, entry.content.data(), entry.content.size(), 0);
    zip_int64_t index = entry.name.back() == '/'
                            ? zip_dir_add(archive, entry.name.c_str(), ZIP_FL_ENC_UTF_8)
                            : zip_file_add(archive, entry.name.c_str(), source, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(index, 0) << entry.name;
    if (entry.name.back() == '/') zip_source_free(source);
    if (entry.unix_mode) {
      zip_file_set_external_attributes(archive, static_cast<zip_uint64_t>(index), 0, ZIP_OPSYS_UNIX,
                                       entry.unix_mode << 16);
    }
  }
  EXPECT_EQ(zip_close(archive), 0);
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(LambdaZip, ExtractsFilesDirectoriesAndTheExecutableBit) {
  auto zip = make_zip({{"lambda_function.py", "x = 1\n"},
                       {"pkg/", ""},
                       {"pkg/mod/util.py", "y = 2\n"},
                       {"bootstrap", "#!/bin/sh\n", 0100755}});
  auto entries = inspect_zip(zip, {});
  ASSERT_TRUE(entries) << entries.error().message;
  EXPECT_EQ(entries->size(), 4u);
  zt::testing::TempDir dir("lambda-extract");
  ASSERT_TRUE(extract_zip(zip, dir / "code", {}));
  EXPECT_EQ(read_text(dir / "code/lambda_function.py"), "x = 1\n");
  EXPECT_EQ(read_text(dir / "code/pkg/mod/util.py"), "y = 2\n");
  struct stat info {};
  ASSERT_EQ(::stat((dir / "code/bootstrap").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u);
  ASSERT_EQ(::stat((dir / "code/lambda_function.py").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
}

TEST(LambdaZip, RefusesNamesThatLeaveThePackage) {
  for (const char* name :
       {"../escape.py", "a/../../escape.py", "/etc/cron.d/x", "a//b", "./a", "a\\..\\b"}) {
    auto zip = make_zip({{"ok.py", "1"}, {name, "2"}});
    auto checked = inspect_zip(zip, {});
    ASSERT_FALSE(checked) << name;
    EXPECT_EQ(checked.error().code, Errc::invalid_argument) << name;
    zt::testing::TempDir dir("lambda-escape");
    EXPECT_FALSE(extract_zip(zip, dir / "code", {}));
    EXPECT_FALSE(std::filesystem::exists(dir / "code")) << "a failed extraction leaves nothing";
    EXPECT_FALSE(std::filesystem::exists(dir / "escape.py"));
  }
}

TEST(LambdaZip, RefusesSymbolicLinksAndSpecialFiles) {
  for (uint32_t type : {0120777u, 0010644u, 0060644u}) {
    auto zip = make_zip({{"lambda_function.py", "/etc/passwd", type}});
    auto checked = inspect_zip(zip, {});
    ASSERT_FALSE(checked);
    EXPECT_NE(checked.error().message.find("symbolic link"), std::string::npos);
  }
}

TEST(LambdaZip, BoundsEntriesAndUnzippedBytes) {
  auto many = make_zip({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  EXPECT_FALSE(inspect_zip(many, {.max_entries = 2}));
  EXPECT_TRUE(inspect_zip(many, {.max_entries = 3}));
  // 1 MiB of zeros deflates to ~1 KiB: the limit counts what is unpacked.
  auto bomb = make_zip({{"zeros", std::string(1 << 20, '\0')}});
  EXPECT_LT(bomb.size(), 16u * 1024);
  zt::testing::TempDir dir("lambda-bomb");
  auto extracted = extract_zip(bomb, dir / "code", {.max_unzipped_bytes = 64 * 1024});
  ASSERT_FALSE(extracted);
  EXPECT_NE(extracted.error().message.find("Unzipped size must be smaller than 65536"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "code"));
  EXPECT_FALSE(inspect_zip(bomb, {.max_zipped_bytes = 100}));
}

TEST(LambdaZip, NotAZipIsAParseError) {
  for (std::string text :
       {std::string(), std::string("PK\x03\x04 nothing"), std::string(100, 'x')}) {
    auto checked = inspect_zip(std::vector<uint8_t>(text.begin(), text.end()), {});
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, Errc::parse);
  }
}

std::string statement(const PermissionRequest& request) {
  return permission_statement(request, "arn:aws:lambda:us-east-1:123456789012:function:f").dump();
}

TEST(LambdaPermissions, TheRuleNeedsAStatementForIotThatItsConditionsAllow) {
  const std::string rule = "arn:aws:iot:us-east-1:123456789012:rule/JITR";
  auto check = [&](const std::vector<std::string>& statements) {
    return allows(statements, "lambda:InvokeFunction", "iot.amazonaws.com", rule, "123456789012");
  };
  EXPECT_FALSE(check({}));
  EXPECT_TRUE(check({statement({"s", "lambda:InvokeFunction", "iot.amazonaws.com"})}));
  EXPECT_TRUE(check({statement({"s", "lambda:*", "iot.amazonaws.com"})}));
  EXPECT_FALSE(check({statement({"s", "lambda:GetFunction", "iot.amazonaws.com"})}));
  EXPECT_FALSE(check({statement({"s", "lambda:InvokeFunction", "s3.amazonaws.com"})}));
  EXPECT_FALSE(check({statement({"s", "lambda:InvokeFunction", "123456789012"})}));
  EXPECT_TRUE(check({statement({"s", "lambda:InvokeFunction", "iot.amazonaws.com",
                                "arn:aws:iot:us-east-1:123456789012:rule/*", "123456789012"})}));
  EXPECT_FALSE(check({statement({"s", "lambda:InvokeFunction", "iot.amazonaws.com",
                                 "arn:aws:iot:us-east-1:123456789012:rule/Other"})}));
  EXPECT_FALSE(check({statement(
      {"s", "lambda:InvokeFunction", "iot.amazonaws.com", std::nullopt, "999999999999"})}));
  EXPECT_FALSE(check({"not json", R"({"Effect":"Deny"})"}));
}

TEST(LambdaPermissions, StatementsHaveAwsShape) {
  auto account = permission_statement({"a", "lambda:InvokeFunction", "123456789012"}, "arn");
  EXPECT_EQ(account["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
  auto service = permission_statement(
      {"b", "lambda:InvokeFunction", "iot.amazonaws.com", "arn:aws:iot:*", "123456789012"}, "arn");
  EXPECT_EQ(service["Principal"]["Service"], "iot.amazonaws.com");
  EXPECT_EQ(service["Condition"]["ArnLike"]["AWS:SourceArn"], "arn:aws:iot:*");
  EXPECT_EQ(service["Condition"]["StringEquals"]["AWS:SourceAccount"], "123456789012");
  EXPECT_EQ(service["Effect"], "Allow");
  EXPECT_EQ(service["Resource"], "arn");
}

class LambdaRuntime : public ::testing::Test {
 protected:
  FunctionSpec python(const std::string& source, int timeout_seconds = 5) {
    std::filesystem::create_directories(dir_ / "code");
    std::ofstream(dir_ / "code/lambda_function.py") << source;
    return {.name = "f",
            .arn = "arn:aws:lambda:us-east-1:123456789012:function:f",
            .runtime = "python3.11",
            .handler = "lambda_function.handler",
            .command = std::nullopt,
            .code_directory = dir_ / "code",
            .variables = {{"STAGE", "unit"}},
            .timeout = std::chrono::seconds(timeout_seconds),
            .memory_size = 128};
  }
  CloudEndpoint cloud_{.endpoint_url = "http://127.0.0.1:9",
                       .access_key_id = "AKIDEXAMPLE",
                       .secret_access_key = "secret",
                       .region = "eu-west-1"};
  zt::testing::TempDir dir_{"lambda-runtime"};
};

TEST_F(LambdaRuntime, PythonHandlerGetsEventContextAndEnvironment) {
  auto spec = python(R"(import os
def handler(event, context):
    print("log line")
    return {"echo": event["x"], "request": context.aws_request_id,
            "arn": context.invoked_function_arn, "stage": os.environ["STAGE"],
            "region": os.environ["AWS_REGION"], "group": context.log_group_name,
            "left": 0 < context.get_remaining_time_in_millis() <= 5000}
)");
  auto outcome = run_function(spec, R"({"x": [1, 2]})", "req-1", cloud_);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_FALSE(outcome->function_error) << outcome->payload;
  auto result = nlohmann::json::parse(outcome->payload);
  EXPECT_EQ(result["echo"], nlohmann::json::array({1, 2}));
  EXPECT_EQ(result["request"], "req-1");
  EXPECT_EQ(result["arn"], spec.arn);
  EXPECT_EQ(result["stage"], "unit");
  EXPECT_EQ(result["region"], "eu-west-1");
  EXPECT_EQ(result["group"], "/aws/lambda/f");
  EXPECT_EQ(result["left"], true);
  EXPECT_NE(outcome->log.find("log line"), std::string::npos);
  EXPECT_EQ(outcome->log.rfind("START RequestId: req-1 Version: $LATEST\n", 0), 0u);
  EXPECT_NE(outcome->log.find("REPORT RequestId: req-1"), std::string::npos);
}

TEST_F(LambdaRuntime, ARaisedExceptionIsTheAwsErrorShape) {
  auto outcome = run_function(python("def handler(event, context):\n    raise KeyError('k')\n"),
                              "{}", "req-2", cloud_);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->function_error);
  EXPECT_EQ(outcome->error_type, "KeyError");
  auto shape = nlohmann::json::parse(outcome->payload);
  EXPECT_EQ(shape["errorType"], "KeyError");
  EXPECT_EQ(shape["errorMessage"], "'k'");
  EXPECT_EQ(shape["requestId"], "req-2");
  ASSERT_TRUE(shape["stackTrace"].is_array());
  EXPECT_NE(shape["stackTrace"][0].get<std::string>().find("lambda_function.py"),
            std::string::npos);
}

TEST_F(LambdaRuntime, MissingModuleHandlerAndUnserialisableResult) {
  auto spec = python("def other(event, context):\n    return object()\n");
  spec.handler = "nothere.handler";
  auto missing = run_function(spec, "{}", "r", cloud_);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->error_type, "Runtime.ImportModuleError");
  spec.handler = "lambda_function.handler";
  EXPECT_EQ(run_function(spec, "{}", "r", cloud_)->error_type, "Runtime.HandlerNotFound");
  spec.handler = "lambda_function.other";
  EXPECT_EQ(run_function(spec, "{}", "r", cloud_)->error_type, "Runtime.MarshalError");
  spec.handler = "nodot";
  EXPECT_EQ(run_function(spec, "{}", "r", cloud_)->error_type, "Runtime.MalformedHandlerName");
}

TEST_F(LambdaRuntime, TimeoutKillsTheFunction) {
  auto outcome =
      run_function(python("import time\ndef handler(event, context):\n    time.sleep(60)\n", 1),
                   "{}", "r", cloud_);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->function_error);
  EXPECT_EQ(outcome->error_type, "Sandbox.Timedout");
  EXPECT_NE(outcome->payload.find("Task timed out after 1.00 seconds"), std::string::npos);
}

TEST_F(LambdaRuntime, ProvidedCommandReadsTheEventAndAnswersOnStdout) {
  FunctionSpec spec{.name = "cmd",
                    .arn = "arn",
                    .runtime = "provided",
                    .handler = "command",
                    .command = "cat; printf ' %s' \"$AWS_LAMBDA_FUNCTION_NAME\" >&2",
                    .code_directory = {},
                    .variables = {},
                    .timeout = std::chrono::seconds(5),
                    .memory_size = 128};
  auto outcome = run_function(spec, R"({"a":1})", "r", cloud_);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->function_error);
  EXPECT_EQ(outcome->payload, R"({"a":1})");
  EXPECT_NE(outcome->log.find(" cmd"), std::string::npos);
  spec.command = "echo boom >&2; exit 3";
  auto failed = run_function(spec, "{}", "r", cloud_);
  ASSERT_TRUE(failed);
  EXPECT_TRUE(failed->function_error);
  EXPECT_EQ(failed->error_type, "Runtime.ExitError");
  EXPECT_NE(failed->payload.find("exit status 3"), std::string::npos);
  EXPECT_NE(failed->payload.find("boom"), std::string::npos);
}

}  // namespace
}  // namespace zt::cloud::lambda
