// Provisioning templates (tables provisioning_templates, provisioning_template_versions).
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kTemplateColumns =
    "SELECT name, description, type, enabled, role_arn, hook_target_arn, hook_payload_version, "
    "default_version_id, creation_date, last_modified_date FROM provisioning_templates";
constexpr const char* kVersionColumns =
    "SELECT template_name, version_id, body, creation_date FROM provisioning_template_versions";

ProvisioningTemplate read_template(const Statement& st) {
  return ProvisioningTemplate{.name = st.text(0),
                              .description = st.text(1),
                              .type = st.text(2),
                              .enabled = st.integer(3) != 0,
                              .provisioning_role_arn = st.text(4),
                              .hook_target_arn = st.optional_text(5),
                              .hook_payload_version = st.text(6),
                              .default_version_id = st.integer(7),
                              .creation_date = st.real(8),
                              .last_modified_date = st.real(9)};
}

ProvisioningTemplateVersion read_version(const Statement& st) {
  return ProvisioningTemplateVersion{.template_name = st.text(0),
                                     .version_id = st.integer(1),
                                     .body = st.text(2),
                                     .creation_date = st.real(3)};
}

Error missing_template(std::string_view name) {
  return make_error(Errc::not_found,
                    "The provisioning template " + std::string(name) + " does not exist");
}

}  // namespace

Status Registry::insert_provisioning_template(const ProvisioningTemplate& record,
                                              std::string_view body) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO provisioning_templates VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
                              "?7, 1, 1, ?8, ?8)"));
    st.bind(1, record.name)
        .bind(2, record.description)
        .bind(3, record.type)
        .bind(4, record.enabled ? 1 : 0)
        .bind(5, record.provisioning_role_arn)
        .bind(6, record.hook_target_arn)
        .bind(7, record.hook_payload_version)
        .bind(8, record.creation_date);
    Status inserted = st.run();
    if (!inserted && inserted.error().code == Errc::already_exists) {
      return make_error(Errc::already_exists,
                        "The provisioning template " + record.name + " already exists");
    }
    ZT_TRY(inserted);
    ZT_TRY_ASSIGN(Statement version,
                  db_.prepare("INSERT INTO provisioning_template_versions VALUES(?1, 1, ?2, ?3)"));
    return version.bind(1, record.name).bind(2, body).bind(3, record.creation_date).run();
  });
}

Result<std::optional<ProvisioningTemplate>> Registry::find_provisioning_template(
    std::string_view name) {
  return transaction([&]() -> Result<std::optional<ProvisioningTemplate>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kTemplateColumns) + " WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<ProvisioningTemplate>();
    return std::optional<ProvisioningTemplate>(read_template(st));
  });
}

Result<Page<ProvisioningTemplate>> Registry::list_provisioning_templates(const PageRequest& page) {
  return transaction([&] {
    return paged_query<ProvisioningTemplate>(db_, kTemplateColumns, "1", "name", page, no_binds(),
                                             read_template,
                                             [](const ProvisioningTemplate& t) { return t.name; });
  });
}

Status Registry::update_provisioning_template(const ProvisioningTemplate& record) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("UPDATE provisioning_templates SET description = ?2, enabled = ?3, "
                              "role_arn = ?4, hook_target_arn = ?5, hook_payload_version = ?6, "
                              "default_version_id = ?7, last_modified_date = ?8 WHERE name = ?1"));
    st.bind(1, record.name)
        .bind(2, record.description)
        .bind(3, record.enabled ? 1 : 0)
        .bind(4, record.provisioning_role_arn)
        .bind(5, record.hook_target_arn)
        .bind(6, record.hook_payload_version)
        .bind(7, record.default_version_id)
        .bind(8, record.last_modified_date);
    ZT_TRY(st.run());
    if (db_.changes() == 0) return missing_template(record.name);
    return ok();
  });
}

Status Registry::delete_provisioning_template(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM provisioning_templates WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return missing_template(name);
    ZT_TRY_ASSIGN(
        Statement versions,
        db_.prepare("DELETE FROM provisioning_template_versions WHERE template_name = ?1"));
    return versions.bind(1, name).run();
  });
}

Result<int64_t> Registry::insert_provisioning_template_version(std::string_view name,
                                                               std::string_view body, double now,
                                                               bool set_default) {
  return transaction([&]() -> Result<int64_t> {
    ZT_TRY_ASSIGN(Statement bump,
                  db_.prepare("UPDATE provisioning_templates SET last_version_id = "
                              "last_version_id + 1, last_modified_date = ?2 WHERE name = ?1 "
                              "RETURNING last_version_id"));
    bump.bind(1, name).bind(2, now);
    ZT_TRY_ASSIGN(bool row, bump.step());
    if (!row) return missing_template(name);
    int64_t version_id = bump.integer(0);
    ZT_TRY_ASSIGN(bool more, bump.step());
    (void)more;
    ZT_TRY_ASSIGN(Statement insert,
                  db_.prepare("INSERT INTO provisioning_template_versions VALUES(?1, ?2, ?3, ?4)"));
    ZT_TRY(insert.bind(1, name).bind(2, version_id).bind(3, body).bind(4, now).run());
    if (set_default) {
      ZT_TRY_ASSIGN(Statement point, db_.prepare("UPDATE provisioning_templates SET "
                                                 "default_version_id = ?2 WHERE name = ?1"));
      ZT_TRY(point.bind(1, name).bind(2, version_id).run());
    }
    return version_id;
  });
}

Result<std::optional<ProvisioningTemplateVersion>> Registry::find_provisioning_template_version(
    std::string_view name, int64_t version_id) {
  return transaction([&]() -> Result<std::optional<ProvisioningTemplateVersion>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kVersionColumns) +
                                            " WHERE template_name = ?1 AND version_id = ?2"));
    st.bind(1, name).bind(2, version_id);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<ProvisioningTemplateVersion>();
    return std::optional<ProvisioningTemplateVersion>(read_version(st));
  });
}

Result<Page<ProvisioningTemplateVersion>> Registry::list_provisioning_template_versions(
    std::string_view name, const PageRequest& page) {
  return transaction([&] {
    return paged_query<ProvisioningTemplateVersion>(
        db_, kVersionColumns, "template_name = ?3", "version_id", page,
        [&](Statement& st) { st.bind(3, name); }, read_version,
        [](const ProvisioningTemplateVersion& v) { return std::to_string(v.version_id); });
  });
}

Result<int64_t> Registry::count_provisioning_template_versions(std::string_view name) {
  return transaction([&]() -> Result<int64_t> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT COUNT(*) FROM provisioning_template_versions "
                                            "WHERE template_name = ?1"));
    st.bind(1, name);
    ZT_TRY(st.step());
    return st.integer(0);
  });
}

Status Registry::delete_provisioning_template_version(std::string_view name, int64_t version_id) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM provisioning_template_versions WHERE "
                                            "template_name = ?1 AND version_id = ?2"));
    ZT_TRY(st.bind(1, name).bind(2, version_id).run());
    if (db_.changes() == 0) {
      return make_error(Errc::not_found, "The version " + std::to_string(version_id) +
                                             " of provisioning template " + std::string(name) +
                                             " does not exist");
    }
    return ok();
  });
}

}  // namespace zt::cloud::registry
