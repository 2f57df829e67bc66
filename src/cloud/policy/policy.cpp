#include "cloud/policy/policy.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "common/glob.hpp"
#include "common/json.hpp"

namespace zt::cloud::policy {

namespace {

using nlohmann::json;

constexpr size_t kMaxDocumentChars = 2048;  // §6.3: policy document, whitespace excluded
constexpr size_t kMaxVariableValue = 1024;

Result<std::vector<std::string>> string_or_list(const json& value, std::string_view member,
                                                size_t index) {
  std::vector<std::string> out;
  auto bad = [&] {
    return make_error(Errc::invalid_argument, "Statement[" + std::to_string(index) + "]." +
                                                  std::string(member) +
                                                  " must be a non-empty string or list of strings");
  };
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_array() && !value.empty()) {
    for (const auto& item : value) {
      if (!item.is_string()) return bad();
      out.push_back(item.get<std::string>());
    }
  } else {
    return bad();
  }
  for (const auto& item : out) {
    if (item.empty()) return bad();
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> variable_value(std::string_view name, const RequestContext& context) {
  if (name == "iot:ClientId") return context.client_id;
  constexpr std::string_view kThing = "iot:Connection.Thing.";
  if (name.substr(0, kThing.size()) == kThing) {
    std::string_view rest = name.substr(kThing.size());
    if (rest == "IsAttached") return context.thing_name ? "true" : "false";
    if (!context.thing_name) return std::nullopt;
    if (rest == "ThingName") return context.thing_name;
    if (rest == "ThingTypeName") return context.thing_type_name;
    constexpr std::string_view kAttributes = "Attributes[";
    if (rest.substr(0, kAttributes.size()) == kAttributes && rest.back() == ']') {
      auto it = context.thing_attributes.find(
          std::string(rest.substr(kAttributes.size(), rest.size() - kAttributes.size() - 1)));
      if (it != context.thing_attributes.end()) return it->second;
    }
    return std::nullopt;
  }
  constexpr std::string_view kCertificate = "iot:Certificate.";
  if (name.substr(0, kCertificate.size()) == kCertificate) {
    auto it = context.certificate.find(std::string(name.substr(kCertificate.size())));
    if (it != context.certificate.end()) return it->second;
  }
  return std::nullopt;
}

void append_literal(std::string& out, char c) {
  if (c == '*' || c == '?' || c == '\\') out.push_back('\\');
  out.push_back(c);
}

bool statement_matches(const Statement& statement, std::string_view action,
                       std::string_view resource, const RequestContext& context) {
  std::string action_lower = lower(action);
  bool action_matches = std::any_of(
      statement.actions.begin(), statement.actions.end(),
      [&](const std::string& pattern) { return glob_match(lower(pattern), action_lower); });
  if (!action_matches) return false;
  return std::any_of(statement.resources.begin(), statement.resources.end(),
                     [&](const std::string& pattern) {
                       auto substituted = substitute(pattern, context);
                       return substituted && glob_match(*substituted, resource);
                     });
}

}  // namespace

Result<Policy> parse_policy(std::string_view document, std::string name) {
  size_t significant = std::count_if(document.begin(), document.end(), [](char c) {
    return !std::isspace(static_cast<unsigned char>(c));
  });
  if (significant > kMaxDocumentChars) {
    return make_error(Errc::invalid_argument,
                      "policy document has " + std::to_string(significant) +
                          " characters excluding whitespace; the limit is 2048");
  }
  auto read = parse_json(document);
  if (!read) return make_error(Errc::invalid_argument, "policy document: " + read.error().message);
  json parsed = std::move(*read);
  if (!parsed.is_object())
    return make_error(Errc::invalid_argument, "policy document must be a JSON object");
  if (parsed.contains("Version")) {
    const json& version = parsed["Version"];
    if (!version.is_string() || (version != "2012-10-17" && version != "2008-10-17")) {
      return make_error(Errc::invalid_argument, "policy Version must be \"2012-10-17\"");
    }
  }
  if (!parsed.contains("Statement"))
    return make_error(Errc::invalid_argument, "policy document has no Statement");
  json statements = parsed["Statement"];
  if (statements.is_object()) statements = json::array({statements});
  if (!statements.is_array() || statements.empty()) {
    return make_error(Errc::invalid_argument,
                      "policy Statement must be an object or a non-empty list");
  }
  Policy policy{std::move(name), {}};
  for (size_t i = 0; i < statements.size(); ++i) {
    const json& item = statements[i];
    std::string where = "Statement[" + std::to_string(i) + "]";
    if (!item.is_object()) return make_error(Errc::invalid_argument, where + " must be an object");
    for (const auto& [key, value] : item.items()) {
      if (key != "Effect" && key != "Action" && key != "Resource" && key != "Condition" &&
          key != "Sid") {
        return make_error(Errc::invalid_argument,
                          where + " has an unsupported member '" + key + "'");
      }
    }
    Statement statement;
    if (!item.contains("Effect") || !item["Effect"].is_string() ||
        (item["Effect"] != "Allow" && item["Effect"] != "Deny")) {
      return make_error(Errc::invalid_argument, where + ".Effect must be \"Allow\" or \"Deny\"");
    }
    statement.allow = item["Effect"] == "Allow";
    if (!item.contains("Action"))
      return make_error(Errc::invalid_argument, where + " has no Action");
    if (!item.contains("Resource"))
      return make_error(Errc::invalid_argument, where + " has no Resource");
    ZT_TRY_ASSIGN(statement.actions, string_or_list(item["Action"], "Action", i));
    ZT_TRY_ASSIGN(statement.resources, string_or_list(item["Resource"], "Resource", i));
    for (const auto& action : statement.actions) {
      if (!iequals(action.substr(0, 4), "iot:") && action != "*") {
        return make_error(Errc::invalid_argument,
                          where + ".Action '" + action + "' is not an iot: action");
      }
    }
    if (item.contains("Condition")) {
      if (!item["Condition"].is_object())
        return make_error(Errc::invalid_argument, where + ".Condition must be an object");
      statement.has_condition = true;
    }
    policy.statements.push_back(std::move(statement));
  }
  return policy;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  return zt::glob_match(pattern, text, GlobEscapes::backslash);
}

std::optional<std::string> substitute(std::string_view pattern, const RequestContext& context) {
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i, 2) == "${") {
      size_t end = pattern.find('}', i + 2);
      if (end == std::string_view::npos) return std::nullopt;
      std::string_view name = pattern.substr(i + 2, end - i - 2);
      if (name == "*" || name == "?" || name == "$") {
        append_literal(out, name[0]);
      } else {
        auto value = variable_value(name, context);
        if (!value || value->size() > kMaxVariableValue ||
            value->find_first_of("*$+?#") != std::string::npos) {
          return std::nullopt;
        }
        for (char c : *value) append_literal(out, c);
      }
      i = end + 1;
    } else {
      if (pattern[i] == '\\') out.push_back('\\');
      out.push_back(pattern[i]);
      ++i;
    }
  }
  return out;
}

Decision evaluate(const std::vector<Policy>& policies, std::string_view action,
                  std::string_view resource, const RequestContext& context) {
  bool allowed = false;
  for (const auto& policy : policies) {
    for (const auto& statement : policy.statements) {
      if (!statement_matches(statement, action, resource, context)) continue;
      if (!statement.allow) return Decision::explicit_deny;
      if (!statement.has_condition) allowed = true;
    }
  }
  return allowed ? Decision::allow : Decision::implicit_deny;
}

}  // namespace zt::cloud::policy
