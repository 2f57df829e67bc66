#include "cli/aws_command_line.hpp"

namespace zt::cli {
namespace {

bool is_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_-./:=@%+,").find(c) != std::string_view::npos;
}

// Inside double quotes only \ " ` $ are special (POSIX Shell Command Language §2.2.3).
std::string double_quoted_piece(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"' || c == '`' || c == '$') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string shell_quote(std::string_view text) {
  if (text.find(kAccountIdVariable) != std::string_view::npos) {
    std::string out = "\"";
    size_t start = 0;
    for (size_t at; (at = text.find(kAccountIdVariable, start)) != std::string_view::npos;) {
      out += double_quoted_piece(text.substr(start, at - start));
      out += kAccountIdVariable;
      start = at + kAccountIdVariable.size();
    }
    return out + double_quoted_piece(text.substr(start)) + "\"";
  }
  bool safe = !text.empty();
  for (char c : text) safe = safe && is_safe(c);
  if (safe) return std::string(text);
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

AwsCommand::AwsCommand(std::string_view global_options, std::string_view service,
                       std::string_view operation)
    : line_("aws") {
  if (!global_options.empty()) line_ += " " + std::string(global_options);
  line_ += " " + std::string(service) + " " + std::string(operation);
}

AwsCommand& AwsCommand::option(std::string_view name, std::string_view value) {
  line_ += " " + std::string(name) + " " + shell_quote(value);
  return *this;
}

AwsCommand& AwsCommand::flag(std::string_view name) {
  line_ += " " + std::string(name);
  return *this;
}

std::string aws_global_options(std::string_view endpoint_url, std::string_view region,
                               std::string_view profile) {
  std::string options;
  auto add = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    if (!options.empty()) options += ' ';
    options += std::string(name) + " " + shell_quote(value);
  };
  add("--endpoint-url", endpoint_url);
  add("--region", region);
  add("--profile", profile);
  return options;
}

}  // namespace zt::cli
