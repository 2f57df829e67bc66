// Thing types, things, thing ↔ principal attachments.
#include <nlohmann/json.hpp>

#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kThingColumns = "SELECT name, id, type_name, attributes, version FROM things";

Thing read_thing(const Statement& st) {
  return Thing{.name = st.text(0),
               .id = st.text(1),
               .type_name = st.optional_text(2),
               .attributes = st.text(3),
               .version = st.integer(4)};
}

std::string text_key(const std::string& s) { return s; }

Result<Page<std::string>> string_page(Database& db, std::string_view select, std::string_view where,
                                      std::string_view key, const PageRequest& page,
                                      std::string_view bound) {
  return paged_query<std::string>(
      db, select, where, key, page, [&](Statement& st) { st.bind(3, bound); },
      [](const Statement& st) { return st.text(0); }, text_key);
}

}  // namespace

Status Registry::insert_thing_type(const ThingType& type) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO thing_types VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    return st.bind(1, type.name)
        .bind(2, type.id)
        .bind(3, type.properties)
        .bind(4, type.creation_date)
        .bind(5, type.deprecated ? 1 : 0)
        .bind(6, type.deprecation_date)
        .run();
  });
}

Result<std::optional<ThingType>> Registry::find_thing_type(std::string_view name) {
  return transaction([&]() -> Result<std::optional<ThingType>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("SELECT name, id, properties, creation_date, deprecated, deprecation_date "
                    "FROM thing_types WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<ThingType>();
    return std::optional<ThingType>(ThingType{.name = st.text(0),
                                              .id = st.text(1),
                                              .properties = st.text(2),
                                              .creation_date = st.real(3),
                                              .deprecated = st.integer(4) != 0,
                                              .deprecation_date = st.real(5)});
  });
}

Status Registry::insert_thing(const Thing& thing) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO things VALUES(?1, ?2, ?3, ?4, ?5)"));
    ZT_TRY(st.bind(1, thing.name)
               .bind(2, thing.id)
               .bind(3, thing.type_name)
               .bind(4, thing.attributes)
               .bind(5, thing.version)
               .run());
    return refresh_dynamic_thing_groups_for_thing(thing.name);
  });
}

Result<std::optional<Thing>> Registry::find_thing(std::string_view name) {
  return transaction([&]() -> Result<std::optional<Thing>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kThingColumns) + " WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<Thing>();
    return std::optional<Thing>(read_thing(st));
  });
}

Result<Page<Thing>> Registry::list_things(const PageRequest& page, const ThingFilter& filter) {
  std::string where = "1";
  if (filter.type_name) where += " AND type_name = ?3";
  if (filter.attribute_name) {
    where += filter.attribute_value
                 ? (filter.attribute_prefix
                        ? " AND substr(json_extract(attributes, '$.' || ?4), 1, length(?5)) = ?5"
                        : " AND json_extract(attributes, '$.' || ?4) = ?5")
                 : " AND json_extract(attributes, '$.' || ?4) IS NOT NULL";
  }
  return transaction([&] {
    return paged_query<Thing>(
        db_, kThingColumns, where, "name", page,
        [&](Statement& st) {
          if (filter.type_name) st.bind(3, *filter.type_name);
          if (filter.attribute_name) st.bind(4, "\"" + *filter.attribute_name + "\"");
          if (filter.attribute_value) st.bind(5, *filter.attribute_value);
        },
        read_thing, [](const Thing& t) { return t.name; });
  });
}

Status Registry::update_thing(const Thing& thing) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare(
            "UPDATE things SET type_name = ?2, attributes = ?3, version = ?4 WHERE name = ?1"));
    ZT_TRY(st.bind(1, thing.name)
               .bind(2, thing.type_name)
               .bind(3, thing.attributes)
               .bind(4, thing.version)
               .run());
    if (db_.changes() == 0)
      return make_error(Errc::not_found, "thing " + thing.name + " not found");
    return refresh_dynamic_thing_groups_for_thing(thing.name);
  });
}

Status Registry::delete_thing(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM things WHERE name = ?1"));
    return st.bind(1, name).run();
  });
}

Status Registry::attach_thing_principal(std::string_view thing_name, std::string_view principal,
                                        std::string_view type) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("INSERT INTO thing_principals VALUES(?1, ?2, ?3) "
                    "ON CONFLICT(thing_name, principal) DO UPDATE SET type = excluded.type"));
    return st.bind(1, thing_name).bind(2, principal).bind(3, type).run();
  });
}

Result<bool> Registry::detach_thing_principal(std::string_view thing_name,
                                              std::string_view principal) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("DELETE FROM thing_principals WHERE thing_name = ?1 AND principal = ?2"));
    ZT_TRY(st.bind(1, thing_name).bind(2, principal).run());
    return db_.changes() > 0;
  });
}

Result<Page<std::string>> Registry::list_principal_things(std::string_view principal,
                                                          const PageRequest& page) {
  return transaction([&] {
    return string_page(db_, "SELECT thing_name FROM thing_principals", "principal = ?3",
                       "thing_name", page, principal);
  });
}

Result<Page<std::string>> Registry::list_thing_principals(std::string_view thing_name,
                                                          const PageRequest& page) {
  return transaction([&] {
    return string_page(db_, "SELECT principal FROM thing_principals", "thing_name = ?3",
                       "principal", page, thing_name);
  });
}

}  // namespace zt::cloud::registry
