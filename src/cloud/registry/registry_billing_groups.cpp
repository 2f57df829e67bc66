// Billing groups and their members: a thing is in at most one billing group (thing_name is the key
// of billing_group_members), as AWS documents for AddThingToBillingGroup.
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kBillingColumns =
    "SELECT name, id, description, version, creation_date FROM billing_groups";

BillingGroup read_billing_group(const Statement& st) {
  return BillingGroup{.name = st.text(0),
                      .id = st.text(1),
                      .description = st.text(2),
                      .version = st.integer(3),
                      .creation_date = st.real(4)};
}

Error missing_billing_group(std::string_view name) {
  return make_error(Errc::not_found, "Billing group " + std::string(name) + " does not exist");
}

}  // namespace

Result<std::optional<BillingGroup>> Registry::find_billing_group(std::string_view name) {
  return transaction([&]() -> Result<std::optional<BillingGroup>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kBillingColumns) + " WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<BillingGroup>();
    return std::optional<BillingGroup>(read_billing_group(st));
  });
}

Status Registry::insert_billing_group(const BillingGroup& group) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO billing_groups VALUES(?1, ?2, ?3, ?4, ?5)"));
    return st.bind(1, group.name)
        .bind(2, group.id)
        .bind(3, group.description)
        .bind(4, group.version)
        .bind(5, group.creation_date)
        .run();
  });
}

Status Registry::update_billing_group(const BillingGroup& group) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("UPDATE billing_groups SET description = ?2, version = ?3 WHERE name = ?1"));
    ZT_TRY(st.bind(1, group.name).bind(2, group.description).bind(3, group.version).run());
    if (db_.changes() == 0) return missing_billing_group(group.name);
    return ok();
  });
}

Status Registry::delete_billing_group(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM billing_groups WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return missing_billing_group(name);
    return ok();
  });
}

Result<Page<BillingGroup>> Registry::list_billing_groups(const PageRequest& page,
                                                         std::string_view name_prefix) {
  return transaction([&] {
    return paged_query<BillingGroup>(
        db_, kBillingColumns, "?3 = '' OR substr(name, 1, length(?3)) = ?3", "name", page,
        [&](Statement& st) { st.bind(3, name_prefix); }, read_billing_group,
        [](const BillingGroup& g) { return g.name; });
  });
}

Status Registry::add_thing_to_billing_group(std::string_view group_name,
                                            std::string_view thing_name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto group, find_billing_group(group_name));
    if (!group) return missing_billing_group(group_name);
    ZT_TRY_ASSIGN(auto thing, find_thing(thing_name));
    if (!thing)
      return make_error(Errc::not_found, "Thing " + std::string(thing_name) + " not found");
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("INSERT INTO billing_group_members VALUES(?1, ?2) "
                    "ON CONFLICT(thing_name) DO UPDATE SET group_name = excluded.group_name"));
    return st.bind(1, thing_name).bind(2, group_name).run();
  });
}

Result<bool> Registry::remove_thing_from_billing_group(std::string_view group_name,
                                                       std::string_view thing_name) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(auto group, find_billing_group(group_name));
    if (!group) return missing_billing_group(group_name);
    ZT_TRY_ASSIGN(auto thing, find_thing(thing_name));
    if (!thing)
      return make_error(Errc::not_found, "Thing " + std::string(thing_name) + " not found");
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM billing_group_members "
                                            "WHERE group_name = ?1 AND thing_name = ?2"));
    ZT_TRY(st.bind(1, group_name).bind(2, thing_name).run());
    return db_.changes() > 0;
  });
}

Result<std::optional<std::string>> Registry::find_billing_group_for_thing(
    std::string_view thing_name) {
  return transaction([&]() -> Result<std::optional<std::string>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("SELECT group_name FROM billing_group_members WHERE thing_name = ?1"));
    st.bind(1, thing_name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(st.text(0));
  });
}

Result<Page<std::string>> Registry::list_things_in_billing_group(std::string_view group_name,
                                                                 const PageRequest& page) {
  return transaction([&] {
    return paged_query<std::string>(
        db_, "SELECT thing_name FROM billing_group_members", "group_name = ?3", "thing_name", page,
        [&](Statement& st) { st.bind(3, group_name); },
        [](const Statement& st) { return st.text(0); }, [](const std::string& s) { return s; });
  });
}

}  // namespace zt::cloud::registry
