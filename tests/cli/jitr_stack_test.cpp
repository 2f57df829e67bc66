// `ztp aws deploy-jitr` / `teardown-jitr` without a network: a dry run prints the aws CLI commands
// of a fresh deployment in the seed's order and sends nothing; the printed values survive a POSIX
// shell (quoting); the rule and policies are the seed's.
#include <gtest/gtest.h>

#include <cstdio>

#include "cli/aws_command_line.hpp"
#include "cli/jitr_stack.hpp"

namespace zt::cli {
namespace {

// What /bin/sh makes of `word` (printf '%s' WORD), with ACCOUNT_ID set.
std::string through_shell(const std::string& word) {
  std::string command = "ACCOUNT_ID=123456789012; printf '%s' " + word;
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  char buffer[256];
  for (size_t n; pipe && (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    out.append(buffer, n);
  if (pipe) ::pclose(pipe);
  return out;
}

TEST(ShellQuote, EveryValueComesBackFromTheShellUnchanged) {
  for (std::string value :
       {std::string("ZTLambdaJITRRole"), std::string("arn:aws:iam::aws:policy/x"),
        std::string("SELECT * FROM '$aws/events/certificates/registered/#'"),
        std::string("it's \"quoted\" `x` $HOME \\n"), jitr_role_policy(), std::string("")}) {
    EXPECT_EQ(through_shell(shell_quote(value)), value) << shell_quote(value);
  }
  EXPECT_EQ(shell_quote("plain-name_1.2"), "plain-name_1.2");
  std::string rule = jitr_rule_payload("arn:aws:lambda:us-west-2:${ACCOUNT_ID}:function:F").dump();
  std::string expanded = rule;
  expanded.replace(expanded.find("${ACCOUNT_ID}"), 13, "123456789012");
  EXPECT_EQ(through_shell(shell_quote(rule)), expanded) << shell_quote(rule);
}

aws::ClientConfig config() {
  return aws::ClientConfig{{"AKIDEXAMPLE", "secret-never-printed", ""}, "us-west-2", "", "default"};
}

TEST(JitrStack, DryRunPrintsAFreshDeploymentAndSendsNothing) {
  aws::IamClient iam(config());
  aws::LambdaClient lambda(config());
  aws::IotClient iot(config());
  int sent = 0;
  auto refuse = [&](const aws::HttpRequest&) -> Result<aws::HttpResponse> {
    ++sent;
    return make_error(Errc::io, "a dry run sent a request");
  };
  iam.service().set_transport(refuse);
  lambda.service().set_transport(refuse);
  iot.service().set_transport(refuse);
  std::vector<std::string> lines;
  JitrStackOptions options;
  options.dry_run = true;
  options.code = "def lambda_handler(event, context):\n    return event\n";
  options.code_label = "lambda_function.py";
  options.aws_options = aws_global_options("", "us-west-2", "");
  options.print = [&](std::string_view line) { lines.emplace_back(line); };
  options.sleep = [](std::chrono::milliseconds) { FAIL() << "a dry run waited"; };

  auto report = deploy_jitr_stack({iam, lambda, iot}, options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(sent, 0);
  EXPECT_EQ(report->changes, 6);
  EXPECT_EQ(report->rule_arn,
            "arn:aws:iot:us-west-2:${ACCOUNT_ID}:rule/ZeroTouchJustInTimeRegistration");
  std::vector<std::string> commands;
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("secret-never-printed"), std::string::npos) << line;
    if (line.starts_with("$ aws ")) commands.push_back(line.substr(2, line.find(" --", 20) - 2));
  }
  EXPECT_EQ(commands, (std::vector<std::string>{
                          "aws --region us-west-2 iam create-role",
                          "aws --region us-west-2 iam put-role-policy",
                          "aws --region us-west-2 iam attach-role-policy",
                          "aws --region us-west-2 lambda create-function",
                          "aws --region us-west-2 lambda add-permission",
                          "aws --region us-west-2 iot create-topic-rule",
                      }));

  lines.clear();
  auto removed = teardown_jitr_stack({iam, lambda, iot}, options);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(sent, 0);
  EXPECT_EQ(removed->changes, 0);
  ASSERT_GE(lines.size(), 5u);
  EXPECT_NE(lines[0].find("iot delete-topic-rule"), std::string::npos);
  EXPECT_NE(lines[4].find("iam delete-role --role-name ZTLambdaJITRRole"), std::string::npos);
}

TEST(JitrStack, TheSeedsRuleAndRolePolicy) {
  auto rule = jitr_rule_payload("arn:aws:lambda:r:1:function:F");
  EXPECT_EQ(rule["sql"], "SELECT * FROM '$aws/events/certificates/registered/#'");
  EXPECT_EQ(rule["awsIotSqlVersion"], "2016-03-23");
  EXPECT_EQ(rule["actions"][0]["lambda"]["functionArn"], "arn:aws:lambda:r:1:function:F");
  auto policy = nlohmann::json::parse(jitr_role_policy());
  auto actions = policy["Statement"][0]["Action"];
  for (const char* action :
       {"iot:UpdateCertificate", "iot:CreatePolicy", "iot:AttachPrincipalPolicy", "iot:CreateThing",
        "iot:CreateThingType", "iot:DescribeCertificate", "iot:AttachThingPrincipal"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), action), actions.end()) << action;
  }
  auto trust = nlohmann::json::parse(lambda_trust_policy());
  EXPECT_EQ(trust["Statement"][0]["Principal"]["Service"], "lambda.amazonaws.com");
  EXPECT_NE(builtin_jitr_function_source().find("def lambda_handler(event, context)"),
            std::string_view::npos);
}

}  // namespace
}  // namespace zt::cli
