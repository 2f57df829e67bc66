// CA and device certificate rows.
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kCaColumns =
    "SELECT id, pem, subject, status, auto_registration, registration_config, certificate_mode, "
    "creation_date, last_modified, customer_version, generation_id, not_before, not_after "
    "FROM ca_certificates";

CaCertificate read_ca(const Statement& st) {
  return CaCertificate{.id = st.text(0),
                       .pem = st.text(1),
                       .subject = st.text(2),
                       .status = st.text(3),
                       .auto_registration = st.text(4),
                       .registration_config = st.text(5),
                       .certificate_mode = st.text(6),
                       .creation_date = st.real(7),
                       .last_modified = st.real(8),
                       .customer_version = st.integer(9),
                       .generation_id = st.text(10),
                       .not_before = st.integer(11),
                       .not_after = st.integer(12)};
}

constexpr const char* kCertificateColumns =
    "SELECT id, pem, ca_id, status, certificate_mode, creation_date, last_modified, "
    "customer_version, generation_id, not_before, not_after FROM certificates";

Certificate read_certificate(const Statement& st) {
  return Certificate{.id = st.text(0),
                     .pem = st.text(1),
                     .ca_id = st.optional_text(2),
                     .status = st.text(3),
                     .certificate_mode = st.text(4),
                     .creation_date = st.real(5),
                     .last_modified = st.real(6),
                     .customer_version = st.integer(7),
                     .generation_id = st.text(8),
                     .not_before = st.integer(9),
                     .not_after = st.integer(10)};
}

}  // namespace

Status Registry::insert_ca(const CaCertificate& ca) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO ca_certificates VALUES(?1, ?2, ?3, ?4, "
                                            "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    ZT_TRY(st.bind(1, ca.id)
               .bind(2, ca.pem)
               .bind(3, ca.subject)
               .bind(4, ca.status)
               .bind(5, ca.auto_registration)
               .bind(6, ca.registration_config)
               .bind(7, ca.certificate_mode)
               .bind(8, ca.creation_date)
               .bind(9, ca.last_modified)
               .bind(10, ca.customer_version)
               .bind(11, ca.generation_id)
               .bind(12, ca.not_before)
               .bind(13, ca.not_after)
               .run());
    note_change({.kind = Change::Kind::ca, .id = ca.id, .status = ca.status});
    return ok();
  });
}

Result<std::optional<CaCertificate>> Registry::find_ca(std::string_view id) {
  return transaction([&]() -> Result<std::optional<CaCertificate>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kCaColumns) + " WHERE id = ?1"));
    st.bind(1, id);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<CaCertificate>();
    return std::optional<CaCertificate>(read_ca(st));
  });
}

Result<Page<CaCertificate>> Registry::list_cas(const PageRequest& page) {
  return transaction([&] {
    return paged_query<CaCertificate>(db_, kCaColumns, "1", "id", page, no_binds(), read_ca,
                                      [](const CaCertificate& ca) { return ca.id; });
  });
}

Result<std::vector<CaCertificate>> Registry::list_active_cas() {
  return transaction([&]() -> Result<std::vector<CaCertificate>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare(std::string(kCaColumns) + " WHERE status = 'ACTIVE' ORDER BY id"));
    std::vector<CaCertificate> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) return out;
      out.push_back(read_ca(st));
    }
  });
}

Result<int64_t> Registry::count_cas_with_subject(std::string_view subject) {
  return transaction([&]() -> Result<int64_t> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("SELECT COUNT(*) FROM ca_certificates WHERE subject = ?1"));
    st.bind(1, subject);
    ZT_TRY(st.step());
    return st.integer(0);
  });
}

Status Registry::update_ca(const CaCertificate& ca) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare(
            "UPDATE ca_certificates SET status = ?2, auto_registration = ?3, registration_config = "
            "?4, "
            "last_modified = ?5, customer_version = customer_version + 1, generation_id = ?6 "
            "WHERE id = ?1"));
    ZT_TRY(st.bind(1, ca.id)
               .bind(2, ca.status)
               .bind(3, ca.auto_registration)
               .bind(4, ca.registration_config)
               .bind(5, ca.last_modified)
               .bind(6, ca.generation_id)
               .run());
    if (db_.changes() == 0)
      return make_error(Errc::not_found, "CA certificate " + ca.id + " not found");
    note_change({.kind = Change::Kind::ca, .id = ca.id, .status = ca.status});
    return ok();
  });
}

Status Registry::delete_ca(std::string_view id) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM ca_certificates WHERE id = ?1"));
    ZT_TRY(st.bind(1, id).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "CA certificate not found");
    note_change({.kind = Change::Kind::ca, .id = std::string(id), .status = {}});
    return ok();
  });
}

Status Registry::insert_certificate(const Certificate& c) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare(
            "INSERT INTO certificates VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    ZT_TRY(st.bind(1, c.id)
               .bind(2, c.pem)
               .bind(3, c.ca_id)
               .bind(4, c.status)
               .bind(5, c.certificate_mode)
               .bind(6, c.creation_date)
               .bind(7, c.last_modified)
               .bind(8, c.customer_version)
               .bind(9, c.generation_id)
               .bind(10, c.not_before)
               .bind(11, c.not_after)
               .run());
    // An ACTIVE certificate is news to the broker's trust store (one registered without a CA is
    // its own anchor); a new certificate of another status has no session to close.
    if (c.status == kActive)
      note_change({.kind = Change::Kind::certificate, .id = c.id, .status = c.status});
    return ok();
  });
}

Result<std::optional<Certificate>> Registry::find_certificate(std::string_view id) {
  return transaction([&]() -> Result<std::optional<Certificate>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kCertificateColumns) + " WHERE id = ?1"));
    st.bind(1, id);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<Certificate>();
    return std::optional<Certificate>(read_certificate(st));
  });
}

Result<Page<Certificate>> Registry::list_certificates(const PageRequest& page,
                                                      std::optional<std::string> ca_id) {
  return transaction([&] {
    return paged_query<Certificate>(
        db_, kCertificateColumns, ca_id ? "ca_id = ?3" : "1", "id", page,
        [&](Statement& st) {
          if (ca_id) st.bind(3, *ca_id);
        },
        read_certificate, [](const Certificate& c) { return c.id; });
  });
}

Result<std::vector<Certificate>> Registry::list_active_certificates_without_ca() {
  return transaction([&]() -> Result<std::vector<Certificate>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kCertificateColumns) +
                                            " WHERE ca_id IS NULL AND status = 'ACTIVE' AND "
                                            "certificate_mode = 'SNI_ONLY' ORDER BY id"));
    std::vector<Certificate> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) return out;
      out.push_back(read_certificate(st));
    }
  });
}

Status Registry::update_certificate_status(std::string_view id, std::string_view status) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("UPDATE certificates SET status = ?2, last_modified = "
                              "(julianday('now') - 2440587.5) * 86400.0, "
                              "customer_version = customer_version + 1 WHERE id = ?1"));
    ZT_TRY(st.bind(1, id).bind(2, status).run());
    if (db_.changes() == 0) {
      return make_error(Errc::not_found, "certificate " + std::string(id) + " not found");
    }
    note_change(
        {.kind = Change::Kind::certificate, .id = std::string(id), .status = std::string(status)});
    return ok();
  });
}

Status Registry::delete_certificate(std::string_view id) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM certificates WHERE id = ?1"));
    ZT_TRY(st.bind(1, id).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "certificate not found");
    note_change({.kind = Change::Kind::certificate, .id = std::string(id), .status = {}});
    return ok();
  });
}

Result<Certificate> Registry::register_pending_certificate(const Certificate& certificate) {
  return transaction([&]() -> Result<Certificate> {
    ZT_TRY_ASSIGN(auto existing, find_certificate(certificate.id));
    if (existing) return *existing;
    Certificate pending = certificate;
    pending.status = kPendingActivation;
    ZT_TRY(insert_certificate(pending));
    return pending;
  });
}

}  // namespace zt::cloud::registry
