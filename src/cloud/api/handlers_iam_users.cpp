// IAM users and their access keys: CreateUser, GetUser, DeleteUser, CreateAccessKey,
// ListAccessKeys, DeleteAccessKey (IAM API Reference). A new key signs requests to every service
// of the cloud at once: its secret joins the registry's access keys, where SigV4 looks.
#include "cloud/api/handlers_iam.hpp"
#include "cloud/iam/names.hpp"
#include "common/bytes.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::api::iam_api {
namespace {

using registry::IamAccessKey;
using registry::IamUser;

// IAM User Guide, "IAM and AWS STS quotas": users per account 5,000; access keys per user 2.
constexpr int64_t kUsersPerAccount = 5000;
constexpr size_t kAccessKeysPerUser = 2;

std::string user_not_found(std::string_view name) {
  return "The user with name " + std::string(name) + " cannot be found.";
}

ApiResult<std::string> user_name_param(const IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, required(call, "UserName", "userName"));
  ZT_IAM_TRY(iam::check_name("userName", name, iam::kMaxUserName));
  return name;
}

ApiResult<IamUser> existing_user(IamCall& call, const std::string& name) {
  ZT_IAM_TRY_ASSIGN(auto user, call.ctx.registry.find_user(name));
  if (!user) return no_such_entity(user_not_found(name));
  return std::move(*user);
}

// The user an access-key action is about: UserName, or else the caller. The account's own key
// (the root user's) lives in the cloud's state directory, not in IAM: an action on it names no
// user this cloud keeps.
ApiResult<IamUser> subject_user(IamCall& call) {
  if (optional(call, "UserName")) {
    ZT_IAM_TRY_ASSIGN(std::string name, user_name_param(call));
    return existing_user(call, name);
  }
  ZT_IAM_TRY_ASSIGN(auto caller, calling_user(call));
  if (!caller) {
    return validation_error(
        "The account's own access key is kept in the cloud's state directory, not in IAM: name "
        "a user with UserName.");
  }
  return std::move(*caller);
}

void write_user(iam::XmlWriter& xml, const ServiceContext& ctx, const IamUser& user) {
  xml.open("User");
  xml.element("Path", user.path);
  xml.element("UserName", user.name);
  xml.element("UserId", user.id);
  xml.element("Arn", iam::user_arn(ctx.account_id, user.path, user.name));
  xml.element("CreateDate", iam_date(user.create_date));
  xml.close();
}

ApiResult<std::string> create_user(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, user_name_param(call));
  std::string path = optional(call, "Path").value_or("/");
  ZT_IAM_TRY(iam::check_path("path", path));
  ZT_IAM_TRY_ASSIGN(auto existing, call.ctx.registry.find_user(name));
  if (existing) return entity_already_exists("User with name " + name + " already exists.");
  ZT_IAM_TRY_ASSIGN(int64_t users, call.ctx.registry.count_users());
  if (users >= kUsersPerAccount) {
    return limit_exceeded("Cannot exceed quota for UsersPerAccount: " +
                          std::to_string(kUsersPerAccount));
  }
  IamUser user{.name = name,
               .id = new_iam_id("AIDA", 21),
               .path = path,
               .create_date = static_cast<double>(unix_now())};
  ZT_IAM_TRY(call.ctx.registry.insert_user(user));
  iam::XmlWriter xml;
  write_user(xml, call.ctx, user);
  return xml.take();
}

// GetUser without UserName describes the caller; for the account's own key that is the root
// user, which IAM describes by the account id and the ARN arn:aws:iam::<account>:root.
ApiResult<std::string> get_user(IamCall& call) {
  iam::XmlWriter xml;
  if (!optional(call, "UserName")) {
    ZT_IAM_TRY_ASSIGN(auto caller, calling_user(call));
    if (!caller) {
      ZT_IAM_TRY_ASSIGN(auto created, call.ctx.registry.get_setting("iam_root_create_date"));
      if (!created) {
        created = std::to_string(unix_now());
        ZT_IAM_TRY(call.ctx.registry.set_setting("iam_root_create_date", *created));
      }
      xml.open("User");
      xml.element("UserId", call.ctx.account_id);
      xml.element("Arn", "arn:aws:iam::" + call.ctx.account_id + ":root");
      xml.element("CreateDate", iam_date(std::strtod(created->c_str(), nullptr)));
      xml.close();
      return xml.take();
    }
    write_user(xml, call.ctx, *caller);
    return xml.take();
  }
  ZT_IAM_TRY_ASSIGN(std::string name, user_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamUser user, existing_user(call, name));
  write_user(xml, call.ctx, user);
  return xml.take();
}

ApiResult<std::string> delete_user(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string name, user_name_param(call));
  ZT_IAM_TRY_ASSIGN(IamUser user, existing_user(call, name));
  ZT_IAM_TRY_ASSIGN(auto keys, call.ctx.registry.list_user_access_keys(user.name));
  // DeleteUser: the user's access keys must be deleted first (AWS: DeleteConflict).
  if (!keys.empty()) return delete_conflict("Cannot delete entity, must delete access keys first.");
  ZT_IAM_TRY(call.ctx.registry.delete_user(user.name));
  return std::string();
}

void write_key_metadata(iam::XmlWriter& xml, const IamAccessKey& key, std::string_view element) {
  xml.open(element);
  xml.element("UserName", key.user_name);
  xml.element("AccessKeyId", key.access_key_id);
  xml.element("Status", key.status);
  xml.element("CreateDate", iam_date(key.create_date));
  xml.close();
}

ApiResult<std::string> create_access_key(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(IamUser user, subject_user(call));
  ZT_IAM_TRY_ASSIGN(auto keys, call.ctx.registry.list_user_access_keys(user.name));
  if (keys.size() >= kAccessKeysPerUser) {
    return limit_exceeded("Cannot exceed quota for AccessKeysPerUser: " +
                          std::to_string(kAccessKeysPerUser));
  }
  // AWS's shapes, as the account's own key (cloud/state.cpp): AKIA + 16 base32 characters, a
  // 40-character secret. The secret is in this one answer and the registry, nowhere else.
  IamAccessKey key{.access_key_id = new_iam_id("AKIA", 20),
                   .user_name = user.name,
                   .status = "Active",
                   .create_date = static_cast<double>(unix_now())};
  std::string secret =
      crypto::random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  Status stored = call.ctx.registry.insert_user_access_key(key, secret);
  if (!stored) {
    secure_zero(secret.data(), secret.size());
    return to_iam_error(stored.error());
  }
  iam::XmlWriter xml;
  xml.open("AccessKey");
  xml.element("UserName", key.user_name);
  xml.element("AccessKeyId", key.access_key_id);
  xml.element("Status", key.status);
  xml.element("SecretAccessKey", secret);
  xml.element("CreateDate", iam_date(key.create_date));
  xml.close();
  secure_zero(secret.data(), secret.size());
  return xml.take();
}

ApiResult<std::string> list_access_keys(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(IamUser user, subject_user(call));
  ZT_IAM_TRY_ASSIGN(auto keys, call.ctx.registry.list_user_access_keys(user.name));
  iam::XmlWriter xml;
  xml.element("UserName", user.name);
  xml.open("AccessKeyMetadata");
  for (const IamAccessKey& key : keys) write_key_metadata(xml, key, "member");
  xml.close();
  xml.element("IsTruncated", "false");
  return xml.take();
}

ApiResult<std::string> delete_access_key(IamCall& call) {
  ZT_IAM_TRY_ASSIGN(std::string key_id, required(call, "AccessKeyId", "accessKeyId"));
  ZT_IAM_TRY_ASSIGN(IamUser user, subject_user(call));
  ZT_IAM_TRY_ASSIGN(bool deleted, call.ctx.registry.delete_user_access_key(user.name, key_id));
  if (!deleted) {
    return no_such_entity("The Access Key with id " + key_id.substr(0, 128) + " cannot be found.");
  }
  // The server's cache of secrets forgets it now: the next request signed with it is refused.
  if (call.ctx.forget_access_key) call.ctx.forget_access_key(key_id);
  return std::string();
}

}  // namespace

void add_user_actions(ActionTable& table) {
  table.emplace("CreateUser", create_user);
  table.emplace("GetUser", get_user);
  table.emplace("DeleteUser", delete_user);
  table.emplace("CreateAccessKey", create_access_key);
  table.emplace("ListAccessKeys", list_access_keys);
  table.emplace("DeleteAccessKey", delete_access_key);
}

}  // namespace zt::cloud::api::iam_api
