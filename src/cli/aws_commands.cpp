// `ztp aws deploy-jitr` and `ztp aws teardown-jitr`: the seed guide's AWS side (the JITR role,
// function, permission and rule: cli/jitr_stack.hpp) through the IAM, Lambda and IoT APIs, to
// real AWS in the configured region or to the local cloud with --endpoint-url. Credentials,
// region and endpoint come from the same chain as `ztp ca register` (aws/config.hpp).
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/aws_command_line.hpp"
#include "cli/commands.hpp"
#include "cli/jitr_stack.hpp"
#include "cli/steps.hpp"
#include "common/file.hpp"

namespace zt::cli {
namespace {

// A dry run sends nothing, so it needs no credentials: only the region, for the ARNs it prints.
Result<aws::ClientConfig> client_config(const AwsJitrOptions& options) {
  auto config = aws::load_client_config({options.profile, options.region, options.endpoint_url});
  if (config || !options.dry_run) return config;
  std::string region = options.region.value_or("");
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    const char* value = std::getenv(name);
    if (region.empty() && value) region = value;
  }
  if (region.empty()) return config;
  return aws::ClientConfig{
      {}, region, options.endpoint_url.value_or(""), options.profile.value_or("")};
}

Result<JitrStackReport> run_stack(const AwsJitrOptions& options, bool teardown,
                                  const std::function<void(std::string_view)>& print) {
  ZT_TRY_ASSIGN(aws::ClientConfig config, client_config(options));
  JitrStackOptions stack;
  stack.dry_run = options.dry_run;
  stack.runtime = options.runtime;
  if (options.code_file.empty()) {
    stack.code = std::string(builtin_jitr_function_source());
    stack.code_label = "functions/jitr/lambda_function.py";
  } else {
    ZT_TRY_ASSIGN(stack.code,
                  with_context(read_text_file(options.code_file, 50 << 20), options.code_file));
    stack.code_label = options.code_file;
  }
  stack.aws_options = aws_global_options(config.endpoint_url, options.region.value_or(""),
                                         options.profile.value_or(""));
  stack.print = print;
  stack.sleep = [](std::chrono::milliseconds wait) { std::this_thread::sleep_for(wait); };
  aws::IamClient iam(config);
  aws::LambdaClient lambda(config);
  aws::IotClient iot(config);
  std::string where = config.endpoint_url.empty() ? fmt::format("AWS ({}, {}, {})", iam.endpoint(),
                                                                lambda.endpoint(), iot.endpoint())
                                                  : config.endpoint_url;
  const char* command = teardown ? "teardown-jitr" : "deploy-jitr";
  if (options.dry_run) {
    print(
        fmt::format("# ztp aws {} --dry-run: the calls as aws CLI commands, region {}; nothing "
                    "is sent",
                    command, config.region));
  } else {
    print(fmt::format("ztp aws {}: {}, region {}", command, where, config.region));
  }
  JitrClients clients{iam, lambda, iot};
  return teardown ? teardown_jitr_stack(clients, stack) : deploy_jitr_stack(clients, stack);
}

void add_connection_options(CLI::App* command, AwsJitrOptions& options) {
  command->add_option("--endpoint-url", options.endpoint_url,
                      "API endpoint of IAM, Lambda and IoT (the local cloud's); default: real AWS");
  command->add_option("--region", options.region, "Region (default: AWS_REGION / profile)");
  command->add_option("--profile", options.profile, "Profile in ~/.aws/credentials and config");
  command->add_flag("--dry-run", options.dry_run,
                    "Print the aws CLI commands of the calls; send nothing");
}

}  // namespace

Status deploy_jitr(const AwsJitrOptions& options,
                   const std::function<void(std::string_view)>& print) {
  ZT_TRY(run_stack(options, false, print));
  return ok();
}

Status teardown_jitr(const AwsJitrOptions& options,
                     const std::function<void(std::string_view)>& print) {
  ZT_TRY(run_stack(options, true, print));
  return ok();
}

void register_aws_commands(CLI::App& app) {
  auto* aws = app.add_subcommand(
      "aws",
      "The seed's AWS side through the AWS APIs: real AWS, or the local cloud with "
      "--endpoint-url");
  aws->require_subcommand(1);
  auto print = [](std::string_view line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };

  auto deploy_options = std::make_shared<AwsJitrOptions>();
  auto* deploy = aws->add_subcommand(
      "deploy-jitr",
      "Deploy the JITR stack (role ZTLambdaJITRRole, function ZTLambdaJITR, its permission, rule "
      "ZeroTouchJustInTimeRegistration); idempotent");
  add_connection_options(deploy, *deploy_options);
  deploy->add_option("--code", deploy_options->code_file,
                     "lambda_function.py to deploy (default: the project's functions/jitr, built "
                     "into ztp)");
  deploy->add_option("--runtime", deploy_options->runtime, "Lambda runtime")->capture_default_str();
  deploy->callback(
      run_command([deploy_options, print] { return deploy_jitr(*deploy_options, print); }));

  auto teardown_options = std::make_shared<AwsJitrOptions>();
  auto* teardown = aws->add_subcommand(
      "teardown-jitr", "Remove what deploy-jitr deployed (what is already gone is skipped)");
  add_connection_options(teardown, *teardown_options);
  teardown->callback(
      run_command([teardown_options, print] { return teardown_jitr(*teardown_options, print); }));
}

}  // namespace zt::cli
