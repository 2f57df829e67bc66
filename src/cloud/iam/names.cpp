#include "cloud/iam/names.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace zt::cloud::iam {
namespace {

Error invalid(std::string_view member, std::string_view value, std::string_view constraint) {
  return make_error(Errc::invalid_argument, validation_message(member, value, constraint));
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_+=,.@-").find(c) != std::string_view::npos;
}

bool valid_path(std::string_view path) {
  if (path.empty() || path.size() > 512 || path.front() != '/' || path.back() != '/') return false;
  return std::all_of(path.begin(), path.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
}

// The AWS managed policies the seed's guide and this project's roles name (IAM console, "AWS
// managed policies"; their ARNs carry the path, e.g. service-role/ for the service roles).
constexpr std::array<std::string_view, 17> kAwsManagedPolicies = {
    "/AdministratorAccess",
    "/AWSIoTConfigAccess",
    "/AWSIoTDataAccess",
    "/AWSIoTFullAccess",
    "/AWSLambda_FullAccess",
    "/AWSLambda_ReadOnlyAccess",
    "/AWSLambdaExecute",
    "/AWSLambdaFullAccess",
    "/AWSXRayDaemonWriteAccess",
    "/CloudWatchLogsFullAccess",
    "/IAMReadOnlyAccess",
    "/ReadOnlyAccess",
    "/service-role/AWSIoTLogging",
    "/service-role/AWSIoTRuleActions",
    "/service-role/AWSIoTThingsRegistration",
    "/service-role/AWSLambdaBasicExecutionRole",
    "/service-role/AWSLambdaRole",
};

}  // namespace

std::string validation_message(std::string_view member, std::string_view value,
                               std::string_view constraint) {
  std::string shown(value.substr(0, 256));
  return "1 validation error detected: Value '" + shown + "' at '" + std::string(member) +
         "' failed to satisfy constraint: " + std::string(constraint);
}

Status check_name(std::string_view member, std::string_view value, size_t max_length) {
  if (value.empty())
    return invalid(member, value, "Member must have length greater than or equal to 1");
  if (value.size() > max_length) {
    return invalid(member, value,
                   "Member must have length less than or equal to " + std::to_string(max_length));
  }
  if (!std::all_of(value.begin(), value.end(), name_char)) {
    return invalid(member, value, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  }
  return ok();
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

Status check_path(std::string_view member, std::string_view value) {
  if (value.size() > 512) {
    return invalid(member, value, "Member must have length less than or equal to 512");
  }
  if (!valid_path(value)) {
    return invalid(member, value,
                   "Member must satisfy regular expression pattern: "
                   "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  }
  return ok();
}

Status check_description(std::string_view value) {
  // UTF-8 of [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]: ASCII, or C2 A1..BF / C3 80..BF.
  size_t characters = 0;
  for (size_t i = 0; i < value.size(); ++i, ++characters) {
    auto c = static_cast<unsigned char>(value[i]);
    bool allowed = c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E);
    if (!allowed && i + 1 < value.size()) {
      auto next = static_cast<unsigned char>(value[i + 1]);
      allowed = (c == 0xC2 && next >= 0xA1 && next <= 0xBF) ||
                (c == 0xC3 && next >= 0x80 && next <= 0xBF);
      if (allowed) ++i;
    }
    if (!allowed) {
      return invalid("description", value,
                     "Member must satisfy regular expression pattern: "
                     "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*");
    }
  }
  if (characters > 1000) {
    return invalid("description", value, "Member must have length less than or equal to 1000");
  }
  return ok();
}

Result<int64_t> parse_max_session_duration(std::string_view value) {
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
    return invalid("maxSessionDuration", value, "Member must be an integer");
  }
  if (seconds < 3600) {
    return invalid("maxSessionDuration", value,
                   "Member must have value greater than or equal to 3600");
  }
  if (seconds > 43200) {
    return invalid("maxSessionDuration", value,
                   "Member must have value less than or equal to 43200");
  }
  return seconds;
}

std::string role_arn(std::string_view account, std::string_view path, std::string_view name) {
  return "arn:aws:iam::" + std::string(account) + ":role" + std::string(path) + std::string(name);
}

std::string user_arn(std::string_view account, std::string_view path, std::string_view name) {
  return "arn:aws:iam::" + std::string(account) + ":user" + std::string(path) + std::string(name);
}

std::optional<ParsedArn> parse_iam_arn(std::string_view arn, std::string_view kind) {
  constexpr std::string_view kPrefix = "arn:aws:iam::";
  if (arn.size() > 2048 || arn.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = arn.substr(kPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view account = rest.substr(0, colon);
  bool digits = account.size() == 12 && std::all_of(account.begin(), account.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (!digits && account != "aws") return std::nullopt;
  std::string_view resource = rest.substr(colon + 1);
  if (resource.substr(0, kind.size()) != kind) return std::nullopt;
  resource.remove_prefix(kind.size());
  size_t slash = resource.rfind('/');
  if (resource.empty() || resource.front() != '/' || slash == std::string_view::npos)
    return std::nullopt;
  std::string_view path = resource.substr(0, slash + 1);
  std::string_view name = resource.substr(slash + 1);
  if (!valid_path(path) || name.empty() || name.size() > kMaxPolicyName ||
      !std::all_of(name.begin(), name.end(), name_char))
    return std::nullopt;
  return ParsedArn{std::string(account), std::string(path), std::string(name)};
}

std::optional<std::string> aws_managed_policy_name(std::string_view arn) {
  constexpr std::string_view kPrefix = "arn:aws:iam::aws:policy";
  if (arn.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = arn.substr(kPrefix.size());
  for (std::string_view known : kAwsManagedPolicies) {
    if (rest == known) return std::string(known.substr(known.rfind('/') + 1));
  }
  return std::nullopt;
}

}  // namespace zt::cloud::iam
