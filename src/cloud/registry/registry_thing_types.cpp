// Thing types beyond create/find (registry_things.cpp): listing, deprecation, deletion; and the
// typed thing ↔ principal lists of ListThingPrincipalsV2 / ListPrincipalThingsV2.
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

ThingType read_type(const Statement& st) {
  return ThingType{.name = st.text(0),
                   .id = st.text(1),
                   .properties = st.text(2),
                   .creation_date = st.real(3),
                   .deprecated = st.integer(4) != 0,
                   .deprecation_date = st.real(5)};
}

ThingPrincipal read_thing_principal(const Statement& st) {
  return ThingPrincipal{.thing_name = st.text(0), .principal = st.text(1), .type = st.text(2)};
}

}  // namespace

Result<Page<ThingType>> Registry::list_thing_types(const PageRequest& page,
                                                   std::optional<std::string> name) {
  return transaction([&] {
    return paged_query<ThingType>(
        db_,
        "SELECT name, id, properties, creation_date, deprecated, deprecation_date FROM thing_types",
        name ? "name = ?3" : "1", "name", page,
        [&](Statement& st) {
          if (name) st.bind(3, *name);
        },
        read_type, [](const ThingType& t) { return t.name; });
  });
}

Status Registry::set_thing_type_deprecation(std::string_view name, bool deprecated, double date) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("UPDATE thing_types SET deprecated = ?2, "
                                            "deprecation_date = ?3 WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).bind(2, deprecated ? 1 : 0).bind(3, date).run());
    if (db_.changes() == 0)
      return make_error(Errc::not_found, "Thing Type " + std::string(name) + " does not exist");
    return ok();
  });
}

Status Registry::delete_thing_type(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM thing_types WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0)
      return make_error(Errc::not_found, "Thing Type " + std::string(name) + " does not exist");
    return ok();
  });
}

Result<int64_t> Registry::count_things_of_type(std::string_view name) {
  return transaction([&]() -> Result<int64_t> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT COUNT(*) FROM things WHERE type_name = ?1"));
    st.bind(1, name);
    ZT_TRY(st.step());
    return st.integer(0);
  });
}

Result<Page<ThingPrincipal>> Registry::list_thing_principals_v2(std::string_view thing_name,
                                                                const PageRequest& page,
                                                                std::string_view type) {
  return transaction([&] {
    return paged_query<ThingPrincipal>(
        db_, "SELECT thing_name, principal, type FROM thing_principals",
        "thing_name = ?3 AND (?4 = '' OR type = ?4)", "principal", page,
        [&](Statement& st) { st.bind(3, thing_name).bind(4, type); }, read_thing_principal,
        [](const ThingPrincipal& p) { return p.principal; });
  });
}

Result<Page<ThingPrincipal>> Registry::list_principal_things_v2(std::string_view principal,
                                                                const PageRequest& page,
                                                                std::string_view type) {
  return transaction([&] {
    return paged_query<ThingPrincipal>(
        db_, "SELECT thing_name, principal, type FROM thing_principals",
        "principal = ?3 AND (?4 = '' OR type = ?4)", "thing_name", page,
        [&](Statement& st) { st.bind(3, principal).bind(4, type); }, read_thing_principal,
        [](const ThingPrincipal& p) { return p.thing_name; });
  });
}

}  // namespace zt::cloud::registry
