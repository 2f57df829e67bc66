// The records of the local cloud's Lambda (registry_lambda.cpp): functions with their code and
// configuration, and each function's resource-based policy, one statement per row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace zt::cloud::registry {

// One function at $LATEST (the local cloud keeps no published versions or aliases). The code (the
// zip as uploaded) is stored beside it and read only to run it (Registry::lambda_function_code).
struct LambdaFunction {
  std::string name{};
  std::string runtime{};  // python3.x, provided, provided.al2
  std::string handler{};  // module.function (python); informational for provided
  std::string role{};     // arn:aws:iam::<account>:role/<name>
  // A `provided` function added by `ztp cloud function add --exec`: the command run by /bin/sh
  // -c instead of a zip's `bootstrap`. nullopt for functions created with code.
  std::optional<std::string> command{};
  std::string code_sha256{};       // base64 of the zip's SHA-256, as AWS's CodeSha256
  int64_t code_size = 0;           // bytes of the zip
  std::string environment = "{}";  // Environment.Variables: JSON object of string → string
  int64_t timeout = 3;             // seconds, 1..900
  int64_t memory_size = 128;       // MB; stored, not enforced
  std::string description{};
  std::string last_modified{};  // AWS's form: 2024-01-01T12:00:00.000+0000
  std::string revision_id{};    // a new UUID at every change
};

// One statement of a function's resource-based policy (AddPermission), as the JSON AWS returns.
struct LambdaPermission {
  std::string function_name{};
  std::string sid{};
  std::string statement{};
};

}  // namespace zt::cloud::registry
