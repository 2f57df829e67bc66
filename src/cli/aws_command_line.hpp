// The aws CLI command line equivalent to one API call, as `ztp aws deploy-jitr` and `ztp demo`
// print them: `aws [--endpoint-url U] [--region R] [--profile P] <service> <operation> --name
// value …`, every value quoted for a POSIX shell, so a printed line can be pasted and run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zt::cli {

// A shell variable a dry run uses where the account id is not known yet; a value that contains it
// is double-quoted so that the shell expands it (and nothing else).
inline constexpr std::string_view kAccountIdVariable = "${ACCOUNT_ID}";

// `text` as one shell word: unchanged when it has only safe characters, else single-quoted (or
// double-quoted around kAccountIdVariable).
std::string shell_quote(std::string_view text);

class AwsCommand {
 public:
  // `global_options` is what goes between "aws" and the service ("--endpoint-url http://…").
  AwsCommand(std::string_view global_options, std::string_view service, std::string_view operation);
  AwsCommand& option(std::string_view name, std::string_view value);  // "--name value"
  AwsCommand& flag(std::string_view name);                            // "--name"
  const std::string& line() const { return line_; }

 private:
  std::string line_;
};

// "--endpoint-url U --region R --profile P" for the options that were given (empty ones left out).
std::string aws_global_options(std::string_view endpoint_url, std::string_view region,
                               std::string_view profile);

}  // namespace zt::cli
