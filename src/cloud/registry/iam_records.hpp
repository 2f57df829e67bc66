// What the registry stores for IAM (issue 16): roles with their trust policies and policies,
// users and the access keys of users. The secrets of access keys live with every other key's in
// access_keys (so the API server's SigV4 lookup finds them); iam_access_keys says whose they are.
#pragma once

#include <cstdint>
#include <string>

namespace zt::cloud::registry {

struct IamRole {
  std::string name{};
  std::string id{};  // AROA + 17 characters
  std::string path = "/";
  std::string trust_policy{};  // AssumeRolePolicyDocument as given (JSON text)
  std::string description{};
  int64_t max_session_duration = 3600;
  double create_date = 0;  // unix seconds
};

struct IamRolePolicy {
  std::string role_name{};
  std::string policy_name{};
  std::string document{};
};

struct IamUser {
  std::string name{};
  std::string id{};  // AIDA + 17 characters
  std::string path = "/";
  double create_date = 0;
};

struct IamAccessKey {
  std::string access_key_id{};
  std::string user_name{};
  std::string status = "Active";
  double create_date = 0;
};

}  // namespace zt::cloud::registry
