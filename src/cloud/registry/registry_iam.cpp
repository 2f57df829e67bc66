// IAM roles, role policies, users and users' access keys (issue 16; step 4 of the schema).
#include "cloud/iam/names.hpp"
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kRoleColumns =
    "SELECT name, id, path, trust_policy, description, max_session_duration, create_date "
    "FROM iam_roles";

IamRole read_role(const Statement& st) {
  return IamRole{.name = st.text(0),
                 .id = st.text(1),
                 .path = st.text(2),
                 .trust_policy = st.text(3),
                 .description = st.text(4),
                 .max_session_duration = st.integer(5),
                 .create_date = st.real(6)};
}

IamAccessKey read_key(const Statement& st) {
  return IamAccessKey{.access_key_id = st.text(0),
                      .user_name = st.text(1),
                      .status = st.text(2),
                      .create_date = st.real(3)};
}

Result<int64_t> count(Database& db, const char* sql) {
  ZT_TRY_ASSIGN(Statement st, db.prepare(sql));
  ZT_TRY(st.step());
  return st.integer(0);
}

}  // namespace

Status Registry::insert_role(const IamRole& role) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO iam_roles VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    return st.bind(1, role.name)
        .bind(2, role.id)
        .bind(3, role.path)
        .bind(4, role.trust_policy)
        .bind(5, role.description)
        .bind(6, role.max_session_duration)
        .bind(7, role.create_date)
        .run();
  });
}

Result<std::optional<IamRole>> Registry::find_role(std::string_view name) {
  return transaction([&]() -> Result<std::optional<IamRole>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kRoleColumns) + " WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<IamRole>();
    return std::optional<IamRole>(read_role(st));
  });
}

Result<std::optional<IamRole>> Registry::find_role_by_arn(std::string_view arn) {
  return transaction([&]() -> Result<std::optional<IamRole>> {
    auto parsed = iam::parse_iam_arn(arn, "role");
    if (!parsed) return std::optional<IamRole>();
    ZT_TRY_ASSIGN(auto account, get_setting("account_id"));
    if (!account || parsed->account != *account) return std::optional<IamRole>();
    ZT_TRY_ASSIGN(auto role, find_role(parsed->name));
    // The ARN names the role exactly: its path and the name's case as created.
    if (!role || iam::role_arn(*account, role->path, role->name) != arn)
      return std::optional<IamRole>();
    return role;
  });
}

Result<Page<IamRole>> Registry::list_roles(const PageRequest& page, std::string_view path_prefix) {
  return transaction([&] {
    return paged_query<IamRole>(
        db_, kRoleColumns, "substr(path, 1, length(?3)) = ?3", "name", page,
        [&](Statement& st) { st.bind(3, path_prefix); }, read_role,
        [](const IamRole& role) { return role.name; });
  });
}

Status Registry::delete_role(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM iam_roles WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "role not found");
    return ok();
  });
}

Result<bool> Registry::attach_role_policy(std::string_view role_name, std::string_view policy_arn) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT OR IGNORE INTO iam_role_attached_policies VALUES(?1, ?2)"));
    ZT_TRY(st.bind(1, role_name).bind(2, policy_arn).run());
    return db_.changes() > 0;
  });
}

Result<bool> Registry::detach_role_policy(std::string_view role_name, std::string_view policy_arn) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM iam_role_attached_policies "
                                            "WHERE role_name = ?1 AND policy_arn = ?2"));
    ZT_TRY(st.bind(1, role_name).bind(2, policy_arn).run());
    return db_.changes() > 0;
  });
}

Result<std::vector<std::string>> Registry::list_attached_role_policies(std::string_view role_name) {
  return transaction([&]() -> Result<std::vector<std::string>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT policy_arn FROM iam_role_attached_policies "
                                            "WHERE role_name = ?1 ORDER BY policy_arn"));
    st.bind(1, role_name);
    std::vector<std::string> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) break;
      out.push_back(st.text(0));
    }
    return out;
  });
}

Status Registry::put_role_policy(const IamRolePolicy& policy) {
  return transaction([&]() -> Status {
    // Replacing keeps the name as first put (names compare without regard to case).
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO iam_role_inline_policies VALUES(?1, ?2, ?3) "
                              "ON CONFLICT(role_name, policy_name) "
                              "DO UPDATE SET document = excluded.document"));
    return st.bind(1, policy.role_name).bind(2, policy.policy_name).bind(3, policy.document).run();
  });
}

Result<std::optional<IamRolePolicy>> Registry::find_role_policy(std::string_view role_name,
                                                                std::string_view policy_name) {
  return transaction([&]() -> Result<std::optional<IamRolePolicy>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("SELECT role_name, policy_name, document FROM "
                    "iam_role_inline_policies WHERE role_name = ?1 AND policy_name = ?2"));
    st.bind(1, role_name).bind(2, policy_name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<IamRolePolicy>();
    return std::optional<IamRolePolicy>(IamRolePolicy{st.text(0), st.text(1), st.text(2)});
  });
}

Result<bool> Registry::delete_role_policy(std::string_view role_name,
                                          std::string_view policy_name) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM iam_role_inline_policies "
                                            "WHERE role_name = ?1 AND policy_name = ?2"));
    ZT_TRY(st.bind(1, role_name).bind(2, policy_name).run());
    return db_.changes() > 0;
  });
}

Result<std::vector<IamRolePolicy>> Registry::list_role_policies(std::string_view role_name) {
  return transaction([&]() -> Result<std::vector<IamRolePolicy>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("SELECT role_name, policy_name, document FROM "
                    "iam_role_inline_policies WHERE role_name = ?1 ORDER BY policy_name"));
    st.bind(1, role_name);
    std::vector<IamRolePolicy> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) break;
      out.push_back(IamRolePolicy{st.text(0), st.text(1), st.text(2)});
    }
    return out;
  });
}

Result<int64_t> Registry::count_roles() {
  return transaction([&] { return count(db_, "SELECT count(*) FROM iam_roles"); });
}

Status Registry::insert_user(const IamUser& user) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO iam_users VALUES(?1, ?2, ?3, ?4)"));
    return st.bind(1, user.name)
        .bind(2, user.id)
        .bind(3, user.path)
        .bind(4, user.create_date)
        .run();
  });
}

Result<std::optional<IamUser>> Registry::find_user(std::string_view name) {
  return transaction([&]() -> Result<std::optional<IamUser>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT name, id, path, create_date FROM iam_users "
                                            "WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<IamUser>();
    return std::optional<IamUser>(IamUser{st.text(0), st.text(1), st.text(2), st.real(3)});
  });
}

Status Registry::delete_user(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM iam_users WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "user not found");
    return ok();
  });
}

Result<int64_t> Registry::count_users() {
  return transaction([&] { return count(db_, "SELECT count(*) FROM iam_users"); });
}

Status Registry::insert_user_access_key(const IamAccessKey& key, std::string_view secret) {
  return transaction([&]() -> Status {
    ZT_TRY(add_access_key(key.access_key_id, secret));
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO iam_access_keys VALUES(?1, ?2, ?3, ?4)"));
    return st.bind(1, key.access_key_id)
        .bind(2, key.user_name)
        .bind(3, key.status)
        .bind(4, key.create_date)
        .run();
  });
}

Result<std::vector<IamAccessKey>> Registry::list_user_access_keys(std::string_view user_name) {
  return transaction([&]() -> Result<std::vector<IamAccessKey>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("SELECT access_key_id, user_name, status, create_date FROM "
                              "iam_access_keys WHERE user_name = ?1 ORDER BY create_date, "
                              "access_key_id"));
    st.bind(1, user_name);
    std::vector<IamAccessKey> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) break;
      out.push_back(read_key(st));
    }
    return out;
  });
}

Result<std::optional<IamAccessKey>> Registry::find_user_access_key(std::string_view access_key_id) {
  return transaction([&]() -> Result<std::optional<IamAccessKey>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("SELECT access_key_id, user_name, status, create_date FROM "
                              "iam_access_keys WHERE access_key_id = ?1"));
    st.bind(1, access_key_id);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<IamAccessKey>();
    return std::optional<IamAccessKey>(read_key(st));
  });
}

Result<bool> Registry::delete_user_access_key(std::string_view user_name,
                                              std::string_view access_key_id) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement owned, db_.prepare("SELECT 1 FROM iam_access_keys "
                                               "WHERE access_key_id = ?1 AND user_name = ?2"));
    owned.bind(1, access_key_id).bind(2, user_name);
    ZT_TRY_ASSIGN(bool row, owned.step());
    if (!row) return false;
    // The ownership row goes with the secret (ON DELETE CASCADE).
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM access_keys WHERE access_key_id = ?1"));
    ZT_TRY(st.bind(1, access_key_id).run());
    return db_.changes() > 0;
  });
}

}  // namespace zt::cloud::registry
