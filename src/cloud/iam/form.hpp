// The body of an AWS query-protocol request (IAM): application/x-www-form-urlencoded, as botocore
// sends it (Action=CreateRole&Version=2010-05-08&RoleName=…). Every byte is the client's: the
// parser is bounded (size, number of fields, name length), strict about percent-escapes and
// UTF-8, and refuses a parameter given twice rather than guessing which one counts.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::iam {

struct FormLimits {
  // IAM's largest parameter is a policy document of 10,240 characters (inline role policies,
  // IAM User Guide "IAM and AWS STS quotas"); percent-encoded it can triple.
  size_t max_bytes = 64 * 1024;
  size_t max_fields = 64;
  size_t max_name_bytes = 128;
};

// Fields in the order sent; names and values percent-decoded ('+' is a space).
using FormFields = std::vector<std::pair<std::string, std::string>>;

// Errors: Errc::invalid_argument for a body over the limits or a repeated name; Errc::parse for a
// malformed escape or a field that is not UTF-8. The message names the field.
Result<FormFields> parse_form(std::string_view body, const FormLimits& limits = {});

// The value of `name`, or nullopt.
std::optional<std::string> form_value(const FormFields& fields, std::string_view name);

// Whether `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view text);

}  // namespace zt::cloud::iam
