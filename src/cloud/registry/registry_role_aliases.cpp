// Role aliases and domain configurations: two small keyed tables of the control plane.
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kAliasColumns =
    "SELECT name, role_arn, credential_duration, creation_date, last_modified FROM role_aliases";

RoleAlias read_alias(const Statement& st) {
  return RoleAlias{.name = st.text(0),
                   .role_arn = st.text(1),
                   .credential_duration_seconds = st.integer(2),
                   .creation_date = st.real(3),
                   .last_modified = st.real(4)};
}

constexpr const char* kDomainColumns =
    "SELECT name, domain_name, domain_type, status, details, certificate_pem, key_pem, "
    "creation_date, last_status_change FROM domain_configurations";

DomainConfiguration read_domain(const Statement& st) {
  return DomainConfiguration{.name = st.text(0),
                             .domain_name = st.text(1),
                             .domain_type = st.text(2),
                             .status = st.text(3),
                             .details = st.text(4),
                             .certificate_pem = st.text(5),
                             .key_pem = st.text(6),
                             .creation_date = st.real(7),
                             .last_status_change = st.real(8)};
}

template <class T, class Read>
Result<std::optional<T>> find_one(Database& db, const std::string& sql, std::string_view key,
                                  Read read) {
  ZT_TRY_ASSIGN(Statement st, db.prepare(sql));
  st.bind(1, key);
  ZT_TRY_ASSIGN(bool row, st.step());
  if (!row) return std::optional<T>();
  return std::optional<T>(read(st));
}

}  // namespace

Status Registry::insert_role_alias(const RoleAlias& alias) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO role_aliases VALUES(?1, ?2, ?3, ?4, ?5)"));
    return st.bind(1, alias.name)
        .bind(2, alias.role_arn)
        .bind(3, alias.credential_duration_seconds)
        .bind(4, alias.creation_date)
        .bind(5, alias.last_modified)
        .run();
  });
}

Result<std::optional<RoleAlias>> Registry::find_role_alias(std::string_view name) {
  return transaction([&] {
    return find_one<RoleAlias>(db_, std::string(kAliasColumns) + " WHERE name = ?1", name,
                               read_alias);
  });
}

Result<Page<RoleAlias>> Registry::list_role_aliases(const PageRequest& page) {
  return transaction([&] {
    return paged_query<RoleAlias>(db_, kAliasColumns, "1", "name", page, no_binds(), read_alias,
                                  [](const RoleAlias& a) { return a.name; });
  });
}

Status Registry::update_role_alias(const RoleAlias& alias) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("UPDATE role_aliases SET role_arn = ?2, "
                                            "credential_duration = ?3, last_modified = ?4 "
                                            "WHERE name = ?1"));
    ZT_TRY(st.bind(1, alias.name)
               .bind(2, alias.role_arn)
               .bind(3, alias.credential_duration_seconds)
               .bind(4, alias.last_modified)
               .run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "role alias not found");
    return ok();
  });
}

Result<bool> Registry::delete_role_alias(std::string_view name) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM role_aliases WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    return db_.changes() > 0;
  });
}

Status Registry::insert_domain_configuration(const DomainConfiguration& c) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO domain_configurations VALUES(?1, ?2, ?3, "
                                            "?4, ?5, ?6, ?7, ?8, ?9)"));
    return st.bind(1, c.name)
        .bind(2, c.domain_name)
        .bind(3, c.domain_type)
        .bind(4, c.status)
        .bind(5, c.details)
        .bind(6, c.certificate_pem)
        .bind(7, c.key_pem)
        .bind(8, c.creation_date)
        .bind(9, c.last_status_change)
        .run();
  });
}

Result<std::optional<DomainConfiguration>> Registry::find_domain_configuration(
    std::string_view name) {
  return transaction([&] {
    return find_one<DomainConfiguration>(db_, std::string(kDomainColumns) + " WHERE name = ?1",
                                         name, read_domain);
  });
}

Result<std::optional<DomainConfiguration>> Registry::find_domain_configuration_by_domain(
    std::string_view domain_name) {
  return transaction([&] {
    return find_one<DomainConfiguration>(
        db_, std::string(kDomainColumns) + " WHERE domain_name = lower(?1)", domain_name,
        read_domain);
  });
}

Result<Page<DomainConfiguration>> Registry::list_domain_configurations(const PageRequest& page) {
  return transaction([&] {
    return paged_query<DomainConfiguration>(db_, kDomainColumns, "1", "name", page, no_binds(),
                                            read_domain,
                                            [](const DomainConfiguration& c) { return c.name; });
  });
}

Status Registry::update_domain_configuration(const DomainConfiguration& c) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("UPDATE domain_configurations SET status = ?2, "
                                            "details = ?3, last_status_change = ?4 "
                                            "WHERE name = ?1"));
    ZT_TRY(st.bind(1, c.name)
               .bind(2, c.status)
               .bind(3, c.details)
               .bind(4, c.last_status_change)
               .run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "domain configuration not found");
    return ok();
  });
}

Result<bool> Registry::delete_domain_configuration(std::string_view name) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM domain_configurations WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    return db_.changes() > 0;
  });
}

}  // namespace zt::cloud::registry
