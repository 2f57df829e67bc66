// Policies (with versions), policy ↔ target attachments, topic rules.
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kPolicyColumns =
    "SELECT p.name, v.document, p.default_version, p.creation_date, p.last_modified, "
    "p.generation_id FROM policies p JOIN policy_versions v "
    "ON v.policy_name = p.name AND v.version = p.default_version";

Policy read_policy(const Statement& st) {
  return Policy{.name = st.text(0),
                .document = st.text(1),
                .default_version = st.integer(2),
                .creation_date = st.real(3),
                .last_modified = st.real(4),
                .generation_id = st.text(5)};
}

TopicRule read_rule(const Statement& st) {
  return TopicRule{.name = st.text(0), .payload = st.text(1), .created_at = st.real(2)};
}

}  // namespace

Status Registry::insert_policy(std::string_view name, std::string_view document, double now,
                               std::string_view generation_id) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement policy,
                  db_.prepare("INSERT INTO policies(name, default_version, creation_date, "
                              "last_modified, generation_id) VALUES(?1, 1, ?2, ?2, ?3)"));
    ZT_TRY(policy.bind(1, name).bind(2, now).bind(3, generation_id).run());
    ZT_TRY_ASSIGN(Statement version,
                  db_.prepare("INSERT INTO policy_versions VALUES(?1, 1, ?2, ?3)"));
    return version.bind(1, name).bind(2, document).bind(3, now).run();
  });
}

Result<std::optional<Policy>> Registry::find_policy(std::string_view name) {
  return transaction([&]() -> Result<std::optional<Policy>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kPolicyColumns) + " WHERE p.name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<Policy>();
    return std::optional<Policy>(read_policy(st));
  });
}

Result<Page<Policy>> Registry::list_policies(const PageRequest& page) {
  return transaction([&] {
    return paged_query<Policy>(db_, kPolicyColumns, "1", "p.name", page, no_binds(), read_policy,
                               [](const Policy& p) { return p.name; });
  });
}

Status Registry::delete_policy(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement versions,
                  db_.prepare("DELETE FROM policy_versions WHERE policy_name = ?1"));
    ZT_TRY(versions.bind(1, name).run());
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM policies WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "policy not found");
    return ok();
  });
}

Status Registry::attach_policy(std::string_view policy_name, std::string_view target) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT OR IGNORE INTO policy_targets VALUES(?1, ?2)"));
    ZT_TRY(st.bind(1, policy_name).bind(2, target).run());
    if (db_.changes() > 0) note_policy_target_change(policy_name, target);
    return ok();
  });
}

Result<bool> Registry::detach_policy(std::string_view policy_name, std::string_view target) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("DELETE FROM policy_targets WHERE policy_name = ?1 AND target = ?2"));
    ZT_TRY(st.bind(1, policy_name).bind(2, target).run());
    if (db_.changes() == 0) return false;
    note_policy_target_change(policy_name, target);
    return true;
  });
}

Result<Page<Policy>> Registry::list_attached_policies(std::string_view target,
                                                      const PageRequest& page) {
  return transaction([&] {
    return paged_query<Policy>(
        db_, std::string(kPolicyColumns) + " JOIN policy_targets t ON t.policy_name = p.name",
        "t.target = ?3", "p.name", page, [&](Statement& st) { st.bind(3, target); }, read_policy,
        [](const Policy& p) { return p.name; });
  });
}

Result<Page<std::string>> Registry::list_policy_targets(std::string_view policy_name,
                                                        const PageRequest& page) {
  return transaction([&] {
    return paged_query<std::string>(
        db_, "SELECT target FROM policy_targets", "policy_name = ?3", "target", page,
        [&](Statement& st) { st.bind(3, policy_name); },
        [](const Statement& st) { return st.text(0); }, [](const std::string& s) { return s; });
  });
}

Result<int64_t> Registry::count_policy_targets(std::string_view policy_name) {
  return transaction([&]() -> Result<int64_t> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("SELECT COUNT(*) FROM policy_targets WHERE policy_name = ?1"));
    st.bind(1, policy_name);
    ZT_TRY(st.step());
    return st.integer(0);
  });
}

Result<std::vector<Policy>> Registry::get_policies_for_principal(std::string_view principal_arn) {
  ZT_TRY_ASSIGN(auto page, list_attached_policies(principal_arn, {.after = "", .limit = 1000}));
  return std::move(page.items);
}

Status Registry::insert_topic_rule(const TopicRule& rule) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO topic_rules VALUES(?1, ?2, ?3)"));
    ZT_TRY(st.bind(1, rule.name).bind(2, rule.payload).bind(3, rule.created_at).run());
    note_change({.kind = Change::Kind::topic_rule, .id = rule.name, .status = "stored"});
    return ok();
  });
}

Result<std::optional<TopicRule>> Registry::find_topic_rule(std::string_view name) {
  return transaction([&]() -> Result<std::optional<TopicRule>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("SELECT name, payload, created_at FROM topic_rules WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<TopicRule>();
    return std::optional<TopicRule>(read_rule(st));
  });
}

Result<Page<TopicRule>> Registry::list_topic_rules(const PageRequest& page) {
  return transaction([&] {
    return paged_query<TopicRule>(db_, "SELECT name, payload, created_at FROM topic_rules", "1",
                                  "name", page, no_binds(), read_rule,
                                  [](const TopicRule& r) { return r.name; });
  });
}

Result<std::vector<TopicRule>> Registry::get_topic_rules() {
  ZT_TRY_ASSIGN(auto page, list_topic_rules({.after = "", .limit = 100000}));
  return std::move(page.items);
}

Status Registry::replace_topic_rule(std::string_view name, std::string_view payload) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("UPDATE topic_rules SET payload = ?2 WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).bind(2, payload).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "topic rule not found");
    note_change({.kind = Change::Kind::topic_rule, .id = std::string(name), .status = "stored"});
    return ok();
  });
}

Status Registry::delete_topic_rule(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM topic_rules WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    note_change({.kind = Change::Kind::topic_rule, .id = std::string(name), .status = ""});
    return ok();
  });
}

}  // namespace zt::cloud::registry
