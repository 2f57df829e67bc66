// Thing groups: the hierarchy of static groups, dynamic groups' stored queries, and the members of
// both (table thing_group_members). AWS's rules are checked here, where the rows are, so every
// caller (the API, provisioning templates) gets them: a dynamic group has no parent and no
// children, a hierarchy is at most kMaxThingGroupDepth deep, a thing is in at most
// kMaxThingGroupsPerThing groups, a group with children is not deleted.
#include <algorithm>

#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kGroupColumns =
    "SELECT name, id, parent_name, description, attributes, version, creation_date, dynamic, "
    "query_string, query_version, index_name, status FROM thing_groups";

ThingGroup read_group(const Statement& st) {
  return ThingGroup{.name = st.text(0),
                    .id = st.text(1),
                    .parent_name = st.optional_text(2),
                    .description = st.text(3),
                    .attributes = st.text(4),
                    .version = st.integer(5),
                    .creation_date = st.real(6),
                    .dynamic = st.integer(7) != 0,
                    .query_string = st.text(8),
                    .query_version = st.text(9),
                    .index_name = st.text(10),
                    .status = st.text(11)};
}

// The group ?3 and its descendants (a CTE named `tree`), for recursive listings.
constexpr const char* kTree =
    "WITH RECURSIVE tree(name) AS (SELECT ?3 UNION "
    "SELECT g.name FROM thing_groups g JOIN tree ON g.parent_name = tree.name) ";

Result<std::vector<std::string>> column_strings(Statement& st) {
  std::vector<std::string> out;
  while (true) {
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return out;
    out.push_back(st.text(0));
  }
}

Error missing_group(std::string_view name) {
  return make_error(Errc::not_found, "Thing group " + std::string(name) + " does not exist");
}

}  // namespace

// Only thing-group targets: a certificate's own attachments reach the broker through its cache's
// short expiry, as before.
void Registry::note_policy_target_change(std::string_view policy_name, std::string_view target) {
  if (target.find(":thinggroup/") == std::string_view::npos) return;
  note_change({.kind = Change::Kind::policy_target,
               .id = std::string(policy_name),
               .status = std::string(target)});
}

Result<std::optional<ThingGroup>> Registry::find_thing_group(std::string_view name) {
  return transaction([&]() -> Result<std::optional<ThingGroup>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kGroupColumns) + " WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<ThingGroup>();
    return std::optional<ThingGroup>(read_group(st));
  });
}

Result<std::vector<ThingGroup>> Registry::thing_group_path(std::string_view name) {
  return transaction([&]() -> Result<std::vector<ThingGroup>> {
    std::vector<ThingGroup> path;
    std::optional<std::string> next = std::string(name);
    // Bounded: a stored hierarchy is never deeper than kMaxThingGroupDepth (insert checks).
    while (next && path.size() <= static_cast<size_t>(kMaxThingGroupDepth)) {
      ZT_TRY_ASSIGN(auto group, find_thing_group(*next));
      if (!group) {
        if (path.empty()) return missing_group(name);
        break;
      }
      next = group->parent_name;
      path.push_back(std::move(*group));
    }
    std::reverse(path.begin(), path.end());
    return path;
  });
}

Status Registry::insert_thing_group(const ThingGroup& group) {
  return transaction([&]() -> Status {
    if (group.parent_name) {
      if (group.dynamic)
        return make_error(Errc::invalid_argument, "Dynamic thing groups can't have a parent");
      ZT_TRY_ASSIGN(auto parent, find_thing_group(*group.parent_name));
      if (!parent) return missing_group(*group.parent_name);
      if (parent->dynamic) {
        return make_error(Errc::invalid_argument,
                          "Dynamic thing group " + parent->name + " can't have child groups");
      }
      ZT_TRY_ASSIGN(auto path, thing_group_path(parent->name));
      if (path.size() >= static_cast<size_t>(kMaxThingGroupDepth)) {
        return make_error(Errc::invalid_argument, "Thing group hierarchy can't be deeper than " +
                                                      std::to_string(kMaxThingGroupDepth) +
                                                      " levels");
      }
    }
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO thing_groups VALUES(?1, ?2, ?3, ?4, ?5, "
                                            "?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
    Status inserted = st.bind(1, group.name)
                          .bind(2, group.id)
                          .bind(3, group.parent_name)
                          .bind(4, group.description)
                          .bind(5, group.attributes)
                          .bind(6, group.version)
                          .bind(7, group.creation_date)
                          .bind(8, group.dynamic ? 1 : 0)
                          .bind(9, group.query_string)
                          .bind(10, group.query_version)
                          .bind(11, group.index_name)
                          .bind(12, group.status)
                          .run();
    if (!inserted && inserted.error().code == Errc::already_exists) {
      return make_error(Errc::already_exists,
                        "Thing group " + group.name + " already exists with different tags");
    }
    return inserted;
  });
}

Status Registry::update_thing_group(const ThingGroup& group) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("UPDATE thing_groups SET description = ?2, "
                                            "attributes = ?3, version = ?4, query_string = ?5, "
                                            "query_version = ?6, index_name = ?7, status = ?8 "
                                            "WHERE name = ?1"));
    ZT_TRY(st.bind(1, group.name)
               .bind(2, group.description)
               .bind(3, group.attributes)
               .bind(4, group.version)
               .bind(5, group.query_string)
               .bind(6, group.query_version)
               .bind(7, group.index_name)
               .bind(8, group.status)
               .run());
    if (db_.changes() == 0) return missing_group(group.name);
    return ok();
  });
}

Status Registry::delete_thing_group(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement children,
                  db_.prepare("SELECT COUNT(*) FROM thing_groups WHERE parent_name = ?1"));
    children.bind(1, name);
    ZT_TRY(children.step());
    if (children.integer(0) > 0) {
      // DeleteThingGroup: "a thing group with child groups can't be deleted".
      return make_error(Errc::invalid_argument,
                        "Cannot delete thing group : " + std::string(name) +
                            " when it still has child groups. Delete child groups first.");
    }
    ZT_TRY_ASSIGN(auto members, list_things_in_thing_group(name, false));
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM thing_groups WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return missing_group(name);
    for (auto& thing : members) {
      note_change({.kind = Change::Kind::thing_group_member_removed,
                   .id = std::string(name),
                   .status = std::move(thing)});
    }
    return ok();
  });
}

Result<Page<ThingGroup>> Registry::list_thing_groups(const PageRequest& page,
                                                     const ThingGroupFilter& filter) {
  std::string select = kGroupColumns;
  std::string where = "(?4 = '' OR substr(name, 1, length(?4)) = ?4)";
  if (filter.parent_name) {
    if (filter.recursive) {
      select = std::string(kTree) + kGroupColumns;
      where += " AND name IN (SELECT name FROM tree) AND name != ?3";
    } else {
      where += " AND parent_name = ?3";
    }
  } else if (filter.roots_only) {
    where += " AND parent_name IS NULL";
  }
  if (filter.dynamic) where += *filter.dynamic ? " AND dynamic = 1" : " AND dynamic = 0";
  return transaction([&] {
    return paged_query<ThingGroup>(
        db_, select, where, "name", page,
        [&](Statement& st) {
          st.bind(3, filter.parent_name.value_or(""));
          st.bind(4, filter.name_prefix);
        },
        read_group, [](const ThingGroup& g) { return g.name; });
  });
}

Result<std::vector<ThingGroup>> Registry::list_dynamic_thing_groups() {
  return transaction([&]() -> Result<std::vector<ThingGroup>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare(std::string(kGroupColumns) + " WHERE dynamic = 1 ORDER BY name"));
    std::vector<ThingGroup> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) return out;
      out.push_back(read_group(st));
    }
  });
}

Status Registry::add_thing_to_thing_group(std::string_view group_name,
                                          std::string_view thing_name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto group, find_thing_group(group_name));
    if (!group) return missing_group(group_name);
    if (group->dynamic) {
      return make_error(Errc::invalid_argument,
                        "Cannot add thing to dynamic thing group " + group->name);
    }
    // "You can't add a thing to more than one group in the same hierarchy" (developer guide,
    // static thing groups): another static group of the thing with the same root is refused.
    ZT_TRY_ASSIGN(auto path, thing_group_path(group_name));
    ZT_TRY_ASSIGN(auto groups, list_thing_groups_for_thing(thing_name));
    for (const auto& other : groups) {
      if (other == group->name) return ok();
      ZT_TRY_ASSIGN(auto other_path, thing_group_path(other));
      if (!other_path.front().dynamic && other_path.front().name == path.front().name) {
        return make_error(Errc::invalid_argument, "Thing " + std::string(thing_name) +
                                                      " is already in thing group " + other +
                                                      " of the same hierarchy as " + group->name);
      }
    }
    ZT_TRY(set_thing_group_member(group_name, thing_name, true));
    return refresh_dynamic_thing_groups_for_thing(thing_name);  // thingGroupNames queries
  });
}

Result<bool> Registry::remove_thing_from_thing_group(std::string_view group_name,
                                                     std::string_view thing_name) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(auto group, find_thing_group(group_name));
    if (!group) return missing_group(group_name);
    if (group->dynamic) {
      return make_error(Errc::invalid_argument,
                        "Cannot remove thing from dynamic thing group " + group->name);
    }
    ZT_TRY_ASSIGN(auto thing, find_thing(thing_name));
    if (!thing)
      return make_error(Errc::not_found, "Thing " + std::string(thing_name) + " not found");
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM thing_group_members "
                                            "WHERE group_name = ?1 AND thing_name = ?2"));
    ZT_TRY(st.bind(1, group_name).bind(2, thing_name).run());
    if (db_.changes() == 0) return false;
    note_change({.kind = Change::Kind::thing_group_member_removed,
                 .id = std::string(group_name),
                 .status = std::string(thing_name)});
    ZT_TRY(refresh_dynamic_thing_groups_for_thing(thing_name));
    return true;
  });
}

Status Registry::set_thing_group_member(std::string_view group_name, std::string_view thing_name,
                                        bool member) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto thing, find_thing(thing_name));
    if (!thing)
      return make_error(Errc::not_found, "Thing " + std::string(thing_name) + " not found");
    if (!member) {
      ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM thing_group_members "
                                              "WHERE group_name = ?1 AND thing_name = ?2"));
      ZT_TRY(st.bind(1, group_name).bind(2, thing_name).run());
      if (db_.changes() > 0) {
        note_change({.kind = Change::Kind::thing_group_member_removed,
                     .id = std::string(group_name),
                     .status = std::string(thing_name)});
      }
      return ok();
    }
    ZT_TRY_ASSIGN(auto groups, list_thing_groups_for_thing(thing_name));
    if (std::find(groups.begin(), groups.end(), group_name) != groups.end()) return ok();
    if (groups.size() >= static_cast<size_t>(kMaxThingGroupsPerThing)) {
      return make_error(Errc::invalid_argument,
                        "Thing " + std::string(thing_name) + " can't be in more than " +
                            std::to_string(kMaxThingGroupsPerThing) + " thing groups");
    }
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO thing_group_members VALUES(?1, ?2)"));
    Status inserted = st.bind(1, group_name).bind(2, thing_name).run();
    if (!inserted && inserted.error().code == Errc::already_exists)
      return missing_group(group_name);  // the foreign key: no such group
    ZT_TRY(inserted);
    note_change({.kind = Change::Kind::thing_group_member_added,
                 .id = std::string(group_name),
                 .status = std::string(thing_name)});
    return ok();
  });
}

Status Registry::set_dynamic_thing_group_members(std::string_view group_name,
                                                 const std::vector<std::string>& things) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto current, list_things_in_thing_group(group_name, false));
    std::vector<std::string> wanted = things;
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    for (const auto& thing : current) {
      if (!std::binary_search(wanted.begin(), wanted.end(), thing))
        ZT_TRY(set_thing_group_member(group_name, thing, false));
    }
    for (const auto& thing : wanted) {
      if (std::binary_search(current.begin(), current.end(), thing)) continue;
      // A thing deleted meanwhile is simply not a member; one already in the most groups it may
      // join stays out (AWS leaves it out too). Checked here: a failing inner call would roll the
      // whole transaction back.
      ZT_TRY_ASSIGN(auto found, find_thing(thing));
      if (!found) continue;
      ZT_TRY_ASSIGN(auto groups, list_thing_groups_for_thing(thing));
      if (groups.size() >= static_cast<size_t>(kMaxThingGroupsPerThing)) continue;
      ZT_TRY(set_thing_group_member(group_name, thing, true));
    }
    return ok();
  });
}

Result<std::vector<std::string>> Registry::list_thing_groups_for_thing(
    std::string_view thing_name) {
  return transaction([&]() -> Result<std::vector<std::string>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT group_name FROM thing_group_members "
                                            "WHERE thing_name = ?1 ORDER BY group_name"));
    st.bind(1, thing_name);
    return column_strings(st);
  });
}

Result<std::vector<std::string>> Registry::list_thing_groups_for_thing_with_ancestors(
    std::string_view thing_name) {
  return transaction([&]() -> Result<std::vector<std::string>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("WITH RECURSIVE up(name, depth) AS ("
                    "SELECT group_name, 0 FROM thing_group_members WHERE thing_name = ?1 UNION "
                    "SELECT g.parent_name, up.depth + 1 FROM thing_groups g JOIN up "
                    "ON g.name = up.name WHERE g.parent_name IS NOT NULL AND up.depth < ?2) "
                    "SELECT DISTINCT name FROM up ORDER BY name"));
    st.bind(1, thing_name).bind(2, kMaxThingGroupDepth);
    return column_strings(st);
  });
}

Result<std::vector<std::string>> Registry::list_things_in_thing_group(std::string_view group_name,
                                                                      bool recursive) {
  return transaction([&]() -> Result<std::vector<std::string>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare(recursive
                        ? std::string(kTree) +
                              "SELECT DISTINCT thing_name FROM thing_group_members "
                              "WHERE group_name IN (SELECT name FROM tree) ORDER BY thing_name"
                        : std::string("SELECT thing_name FROM thing_group_members "
                                      "WHERE group_name = ?3 ORDER BY thing_name")));
    st.bind(3, group_name);
    return column_strings(st);
  });
}

Result<Page<std::string>> Registry::page_things_in_thing_group(std::string_view group_name,
                                                               bool recursive,
                                                               const PageRequest& page) {
  std::string select =
      recursive ? std::string(kTree) + "SELECT DISTINCT thing_name FROM thing_group_members"
                : std::string("SELECT thing_name FROM thing_group_members");
  std::string where = recursive ? "group_name IN (SELECT name FROM tree)" : "group_name = ?3";
  return transaction([&] {
    return paged_query<std::string>(
        db_, select, where, "thing_name", page, [&](Statement& st) { st.bind(3, group_name); },
        [](const Statement& st) { return st.text(0); }, [](const std::string& s) { return s; });
  });
}

Result<Page<std::string>> Registry::page_thing_groups_for_thing(std::string_view thing_name,
                                                                const PageRequest& page) {
  return transaction([&] {
    return paged_query<std::string>(
        db_, "SELECT group_name FROM thing_group_members", "thing_name = ?3", "group_name", page,
        [&](Statement& st) { st.bind(3, thing_name); },
        [](const Statement& st) { return st.text(0); }, [](const std::string& s) { return s; });
  });
}

}  // namespace zt::cloud::registry
