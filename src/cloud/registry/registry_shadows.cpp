// Device shadows (table shadows): one stored document per thing and shadow name ("" = the classic
// shadow). The document logic (versions, delta, deletion) is cloud/shadow; this is storage.
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {

Result<std::optional<std::string>> Registry::find_shadow(std::string_view thing_name,
                                                         std::string_view shadow_name) {
  return transaction([&]() -> Result<std::optional<std::string>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("SELECT document FROM shadows WHERE thing_name = ?1 AND shadow_name = ?2"));
    st.bind(1, thing_name).bind(2, shadow_name);
    ZT_TRY_ASSIGN(bool found, st.step());
    if (!found) return std::optional<std::string>();
    return std::optional<std::string>(st.text(0));
  });
}

Status Registry::put_shadow(std::string_view thing_name, std::string_view shadow_name,
                            std::string_view document) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("INSERT INTO shadows VALUES(?1, ?2, ?3) ON CONFLICT(thing_name, shadow_name) "
                    "DO UPDATE SET document = excluded.document"));
    ZT_TRY(st.bind(1, thing_name).bind(2, shadow_name).bind(3, document).run());
    return refresh_dynamic_thing_groups_for_thing(thing_name);  // shadow.* queries
  });
}

Result<Page<std::string>> Registry::list_named_shadows(std::string_view thing_name,
                                                       const PageRequest& page) {
  return transaction([&]() -> Result<Page<std::string>> {
    // A deleted shadow keeps its row (its version continues if it is created again, §4.2), marked
    // "exists": false in the stored document.
    return paged_query<std::string>(
        db_, "SELECT shadow_name FROM shadows",
        "thing_name = ?3 AND shadow_name <> '' AND json_extract(document, '$.exists') = 1",
        "shadow_name", page, [&](Statement& statement) { statement.bind(3, thing_name); },
        [](const Statement& statement) { return statement.text(0); },
        [](const std::string& name) { return name; });
  });
}

}  // namespace zt::cloud::registry
