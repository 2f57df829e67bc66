// Policy versions: CreatePolicyVersion, SetDefaultPolicyVersion and friends (the API checks AWS's
// rules: five versions at most, the default one not deleted).
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {

Result<std::vector<PolicyVersion>> Registry::list_policy_versions(std::string_view policy_name) {
  return transaction([&]() -> Result<std::vector<PolicyVersion>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("SELECT v.version, v.document, v.creation_date, "
                              "v.version = p.default_version FROM policy_versions v JOIN policies "
                              "p ON p.name = v.policy_name WHERE v.policy_name = ?1 "
                              "ORDER BY v.version DESC"));
    st.bind(1, policy_name);
    std::vector<PolicyVersion> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) break;
      out.push_back(PolicyVersion{.policy_name = std::string(policy_name),
                                  .version = st.integer(0),
                                  .document = st.text(1),
                                  .creation_date = st.real(2),
                                  .is_default = st.integer(3) != 0});
    }
    return out;
  });
}

Result<std::optional<PolicyVersion>> Registry::find_policy_version(std::string_view policy_name,
                                                                   int64_t version) {
  ZT_TRY_ASSIGN(auto versions, list_policy_versions(policy_name));
  for (auto& found : versions) {
    if (found.version == version) return std::optional<PolicyVersion>(std::move(found));
  }
  return std::optional<PolicyVersion>();
}

Result<int64_t> Registry::insert_policy_version(std::string_view policy_name,
                                                std::string_view document, double now,
                                                bool set_default, std::string_view generation_id) {
  return transaction([&]() -> Result<int64_t> {
    ZT_TRY_ASSIGN(Statement bump, db_.prepare("UPDATE policies SET last_version = last_version + "
                                              "1, last_modified = ?2 WHERE name = ?1"));
    ZT_TRY(bump.bind(1, policy_name).bind(2, now).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "policy not found");
    ZT_TRY_ASSIGN(Statement next, db_.prepare("SELECT last_version FROM policies WHERE name = ?1"));
    next.bind(1, policy_name);
    ZT_TRY(next.step());
    int64_t version = next.integer(0);
    ZT_TRY_ASSIGN(Statement insert,
                  db_.prepare("INSERT INTO policy_versions VALUES(?1, ?2, ?3, ?4)"));
    ZT_TRY(insert.bind(1, policy_name).bind(2, version).bind(3, document).bind(4, now).run());
    if (set_default) ZT_TRY(set_default_policy_version(policy_name, version, now, generation_id));
    return version;
  });
}

Status Registry::set_default_policy_version(std::string_view policy_name, int64_t version,
                                            double now, std::string_view generation_id) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("UPDATE policies SET default_version = ?2, "
                                            "last_modified = ?3, generation_id = ?4 WHERE name = "
                                            "?1 AND EXISTS (SELECT 1 FROM policy_versions WHERE "
                                            "policy_name = ?1 AND version = ?2)"));
    ZT_TRY(st.bind(1, policy_name).bind(2, version).bind(3, now).bind(4, generation_id).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "policy version not found");
    return ok();
  });
}

Status Registry::delete_policy_version(std::string_view policy_name, int64_t version) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM policy_versions WHERE policy_name = ?1 "
                                            "AND version = ?2 AND version != (SELECT "
                                            "default_version FROM policies WHERE name = ?1)"));
    ZT_TRY(st.bind(1, policy_name).bind(2, version).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "policy version not found");
    return ok();
  });
}

}  // namespace zt::cloud::registry
