#include "cloud/registry/registry.hpp"

#include <sys/stat.h>

#include "common/hex.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::registry {
namespace {

// Schema migrations, applied in order; PRAGMA user_version = number applied. Never edit an
// applied step: add a new one.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE access_keys (access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL);
CREATE TABLE ca_certificates (
  id TEXT PRIMARY KEY, pem TEXT NOT NULL, subject TEXT NOT NULL, status TEXT NOT NULL,
  auto_registration TEXT NOT NULL, registration_config TEXT NOT NULL, certificate_mode TEXT NOT NULL,
  creation_date REAL NOT NULL, last_modified REAL NOT NULL, customer_version INTEGER NOT NULL,
  generation_id TEXT NOT NULL, not_before INTEGER NOT NULL, not_after INTEGER NOT NULL);
CREATE INDEX ca_by_subject ON ca_certificates(subject);
CREATE TABLE certificates (
  id TEXT PRIMARY KEY, pem TEXT NOT NULL, ca_id TEXT, status TEXT NOT NULL,
  certificate_mode TEXT NOT NULL, creation_date REAL NOT NULL, last_modified REAL NOT NULL,
  customer_version INTEGER NOT NULL, generation_id TEXT NOT NULL,
  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL);
CREATE INDEX certificates_by_ca ON certificates(ca_id, id);
CREATE TABLE thing_types (
  name TEXT PRIMARY KEY, id TEXT NOT NULL, properties TEXT NOT NULL, creation_date REAL NOT NULL,
  deprecated INTEGER NOT NULL DEFAULT 0, deprecation_date REAL NOT NULL DEFAULT 0);
CREATE TABLE things (
  name TEXT PRIMARY KEY, id TEXT NOT NULL, type_name TEXT REFERENCES thing_types(name),
  attributes TEXT NOT NULL, version INTEGER NOT NULL);
CREATE TABLE policies (
  name TEXT PRIMARY KEY, default_version INTEGER NOT NULL, creation_date REAL NOT NULL,
  last_modified REAL NOT NULL, generation_id TEXT NOT NULL);
CREATE TABLE policy_versions (
  policy_name TEXT NOT NULL REFERENCES policies(name) ON DELETE CASCADE, version INTEGER NOT NULL,
  document TEXT NOT NULL, creation_date REAL NOT NULL, PRIMARY KEY (policy_name, version));
CREATE TABLE policy_targets (
  policy_name TEXT NOT NULL REFERENCES policies(name), target TEXT NOT NULL,
  PRIMARY KEY (policy_name, target));
CREATE INDEX policy_targets_by_target ON policy_targets(target, policy_name);
CREATE TABLE thing_principals (
  thing_name TEXT NOT NULL REFERENCES things(name), principal TEXT NOT NULL, type TEXT NOT NULL,
  PRIMARY KEY (thing_name, principal));
CREATE INDEX thing_principals_by_principal ON thing_principals(principal, thing_name);
CREATE TABLE topic_rules (name TEXT PRIMARY KEY, payload TEXT NOT NULL, created_at REAL NOT NULL);
)sql",
    // The fleet view's data (issue 8). device_events is each device's zero-touch story, keyed by
    // certificate id (a JITR device has no thing at first connect) and joinable to its thing;
    // registry changes are recorded by triggers, so every writer (REST handlers, the in-process
    // JITR function, an external function through the API, ztp commands) records them in its own
    // transaction at no extra commit. Broker-side events (refused connects, lifecycle) come from
    // cloud/console/events.cpp. device_presence: live connection count and last activity.
    // function_invocations gains the rule and the device; it is created here only if missing (an
    // older build created it at start, another step may create it), so this step applies after any.
    R"sql(
CREATE TABLE device_events (
  seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, certificate_id TEXT, thing_name TEXT,
  kind TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX device_events_by_certificate ON device_events(certificate_id, time_us);
CREATE INDEX device_events_by_thing ON device_events(thing_name, time_us);
CREATE TABLE device_presence (
  certificate_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, connections INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL);
CREATE INDEX certificates_by_status ON certificates(status, id);
CREATE TABLE IF NOT EXISTS function_invocations(seq INTEGER PRIMARY KEY AUTOINCREMENT,
  invocation_id TEXT NOT NULL, function_name TEXT NOT NULL, attempt INTEGER NOT NULL,
  succeeded INTEGER NOT NULL, final INTEGER NOT NULL, detail TEXT NOT NULL,
  started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL);
ALTER TABLE function_invocations ADD COLUMN rule_name TEXT NOT NULL DEFAULT '';
ALTER TABLE function_invocations ADD COLUMN certificate_id TEXT;
CREATE INDEX function_invocations_by_outcome ON function_invocations(succeeded, seq);
CREATE TRIGGER certificate_registered AFTER INSERT ON certificates BEGIN
  INSERT INTO device_events(time_us, certificate_id, kind, detail) VALUES(
    zt_now_us(), NEW.id, 'certificate-registered',
    NEW.status || COALESCE(', CA ' || NEW.ca_id, ''));
END;
CREATE TRIGGER certificate_status AFTER UPDATE OF status ON certificates
WHEN NEW.status IS NOT OLD.status BEGIN
  INSERT INTO device_events(time_us, certificate_id, kind, detail) VALUES(
    zt_now_us(), NEW.id,
    'certificate-' || lower(replace(NEW.status, '_', '-')), OLD.status || ' -> ' || NEW.status);
END;
CREATE TRIGGER certificate_deleted AFTER DELETE ON certificates BEGIN
  INSERT INTO device_events(time_us, certificate_id, kind, detail) VALUES(
    zt_now_us(), OLD.id, 'certificate-deleted',
    'was ' || OLD.status);
END;
CREATE TRIGGER thing_created AFTER INSERT ON things BEGIN
  INSERT INTO device_events(time_us, thing_name, kind, detail) VALUES(
    zt_now_us(), NEW.name, 'thing-created',
    'thing ' || NEW.name || COALESCE(', type ' || NEW.type_name, ''));
END;
CREATE TRIGGER thing_deleted AFTER DELETE ON things BEGIN
  INSERT INTO device_events(time_us, thing_name, kind, detail) VALUES(
    zt_now_us(), OLD.name, 'thing-deleted',
    'thing ' || OLD.name);
END;
CREATE TRIGGER principal_attached AFTER INSERT ON thing_principals
WHEN instr(NEW.principal, ':cert/') > 0 BEGIN
  INSERT INTO device_events(time_us, certificate_id, thing_name, kind, detail) VALUES(
    zt_now_us(),
    substr(NEW.principal, instr(NEW.principal, ':cert/') + 6), NEW.thing_name,
    'principal-attached', 'certificate attached to thing ' || NEW.thing_name);
END;
CREATE TRIGGER principal_detached AFTER DELETE ON thing_principals
WHEN instr(OLD.principal, ':cert/') > 0 BEGIN
  INSERT INTO device_events(time_us, certificate_id, thing_name, kind, detail) VALUES(
    zt_now_us(),
    substr(OLD.principal, instr(OLD.principal, ':cert/') + 6), OLD.thing_name,
    'principal-detached', 'certificate detached from thing ' || OLD.thing_name);
END;
CREATE TRIGGER policy_attached AFTER INSERT ON policy_targets
WHEN instr(NEW.target, ':cert/') > 0 BEGIN
  INSERT INTO device_events(time_us, certificate_id, kind, detail) VALUES(
    zt_now_us(),
    substr(NEW.target, instr(NEW.target, ':cert/') + 6), 'policy-attached', NEW.policy_name);
END;
CREATE TRIGGER policy_detached AFTER DELETE ON policy_targets
WHEN instr(OLD.target, ':cert/') > 0 BEGIN
  INSERT INTO device_events(time_us, certificate_id, kind, detail) VALUES(
    zt_now_us(),
    substr(OLD.target, instr(OLD.target, ':cert/') + 6), 'policy-detached', OLD.policy_name);
END;
)sql",
};

}  // namespace

Result<std::unique_ptr<Registry>> Registry::open(const std::filesystem::path& path) {
  ZT_TRY_ASSIGN(Database db, Database::open(path));
  ::chmod(path.c_str(), 0600);  // holds the access key secrets
  // WAL: readers never block the writer; synchronous=FULL: a committed transaction is on disk
  // before the API answers 2xx, so kill -9 or power loss never loses an acknowledged change.
  ZT_TRY(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  std::unique_ptr<Registry> registry(new Registry(std::move(db)));
  ZT_TRY(with_context(registry->migrate(), "migrating " + path.string()));
  return registry;
}

Status Registry::migrate() {
  std::lock_guard lock(mutex_);
  ZT_TRY_ASSIGN(Statement version_query, db_.prepare("PRAGMA user_version"));
  ZT_TRY(version_query.step());
  int64_t version = version_query.integer(0);
  constexpr int64_t latest = static_cast<int64_t>(std::size(kMigrations));
  if (version > latest) {
    return make_error(Errc::unsupported, "registry schema version " + std::to_string(version) +
                                             " is newer than this ztp (" + std::to_string(latest) +
                                             ")");
  }
  for (int64_t step = version; step < latest; ++step) {
    ZT_TRY(db_.exec("BEGIN IMMEDIATE"));
    Status applied = db_.exec(kMigrations[step]);
    if (applied) applied = db_.exec("PRAGMA user_version = " + std::to_string(step + 1));
    if (!applied) {
      (void)db_.exec("ROLLBACK");
      return applied;
    }
    ZT_TRY(db_.exec("COMMIT"));
  }
  return ok();
}

Status Registry::begin() {
  if (depth_++ > 0) return ok();
  rollback_only_ = false;
  Status begun = db_.exec("BEGIN IMMEDIATE");
  if (!begun) depth_ = 0;
  return begun;
}

Status Registry::end(bool commit) {
  if (!commit) rollback_only_ = true;
  if (--depth_ > 0) return ok();
  if (rollback_only_) {
    (void)db_.exec("ROLLBACK");
    return commit ? make_error(Errc::conflict, "an inner step of this transaction failed") : ok();
  }
  Status committed = db_.exec("COMMIT");
  if (!committed) (void)db_.exec("ROLLBACK");
  return committed;
}

Result<std::optional<std::string>> Registry::get_setting(std::string_view key) {
  return transaction([&]() -> Result<std::optional<std::string>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT value FROM settings WHERE key = ?1"));
    st.bind(1, key);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(st.text(0));
  });
}

Status Registry::set_setting(std::string_view key, std::string_view value) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO settings(key, value) VALUES(?1, ?2) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    return st.bind(1, key).bind(2, value).run();
  });
}

Result<std::string> Registry::registration_code() {
  return transaction([&]() -> Result<std::string> {
    ZT_TRY_ASSIGN(auto existing, get_setting("registration_code"));
    if (existing) return *existing;
    std::string code = to_hex(crypto::random_bytes(32));  // 64 lowercase hex like AWS's codes
    ZT_TRY(set_setting("registration_code", code));
    return code;
  });
}

Status Registry::add_access_key(std::string_view access_key_id, std::string_view secret) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO access_keys(access_key_id, secret) VALUES(?1, ?2)"));
    return st.bind(1, access_key_id).bind(2, secret).run();
  });
}

Result<std::optional<std::string>> Registry::find_secret(std::string_view access_key_id) {
  return transaction([&]() -> Result<std::optional<std::string>> {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("SELECT secret FROM access_keys WHERE access_key_id = ?1"));
    st.bind(1, access_key_id);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(st.text(0));
  });
}

}  // namespace zt::cloud::registry
