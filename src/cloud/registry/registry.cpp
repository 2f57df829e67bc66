#include "cloud/registry/registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/hex.hpp"
#include "common/log.hpp"
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
    // Step 2 (jitr): the data plane's tables, which `ztp cloud run` used to create at start with
    // CREATE TABLE IF NOT EXISTS. IF NOT EXISTS here too: a version-1 database written by such a
    // build already has them, with this schema, and keeps their rows.
    R"sql(
CREATE TABLE IF NOT EXISTS shadows (
  thing_name TEXT NOT NULL, shadow_name TEXT NOT NULL, document TEXT NOT NULL,
  PRIMARY KEY (thing_name, shadow_name));
CREATE TABLE IF NOT EXISTS function_invocations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, invocation_id TEXT NOT NULL, function_name TEXT NOT NULL,
  attempt INTEGER NOT NULL, succeeded INTEGER NOT NULL, final INTEGER NOT NULL,
  detail TEXT NOT NULL, started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL);
)sql",
    // Step 3 (fleet): the fleet view's data (issue 8). device_events is each device's zero-touch
    // story, keyed by certificate id (a JITR device has no thing at first connect) and joinable to
    // its thing; registry changes are recorded by triggers, so every writer (REST handlers, the
    // in-process JITR function, an external function through the API, ztp commands) records them in
    // its own transaction at no extra commit. Broker-side events (refused connects, lifecycle) come
    // from cloud/events/recorder.cpp. device_presence: live connection count and last activity.
    // function_invocations gains the rule and the device; step 2 creates it.
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
    // Step 4 (iam): IAM roles, their managed (attached) and inline policies, users and the access
    // keys of users (issue 16). Names compare without regard to case, as IAM's do. A user's key
    // has its secret in access_keys like the account's own key, so SigV4 finds it; deleting the
    // secret deletes the ownership row.
    R"sql(
CREATE TABLE iam_roles (
  name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
  trust_policy TEXT NOT NULL, description TEXT NOT NULL, max_session_duration INTEGER NOT NULL,
  create_date REAL NOT NULL);
CREATE TABLE iam_role_attached_policies (
  role_name TEXT NOT NULL COLLATE NOCASE REFERENCES iam_roles(name), policy_arn TEXT NOT NULL,
  PRIMARY KEY (role_name, policy_arn));
CREATE TABLE iam_role_inline_policies (
  role_name TEXT NOT NULL COLLATE NOCASE REFERENCES iam_roles(name),
  policy_name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,
  PRIMARY KEY (role_name, policy_name));
CREATE TABLE iam_users (
  name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
  create_date REAL NOT NULL);
CREATE TABLE iam_access_keys (
  access_key_id TEXT PRIMARY KEY REFERENCES access_keys(access_key_id) ON DELETE CASCADE,
  user_name TEXT NOT NULL COLLATE NOCASE REFERENCES iam_users(name), status TEXT NOT NULL,
  create_date REAL NOT NULL);
CREATE INDEX iam_access_keys_by_user ON iam_access_keys(user_name, access_key_id);
)sql",
    // Step 5 (lambda, issue 16): Lambda functions and their resource-based policies. The functions
    // `ztp cloud function add --exec` stored as settings "function.<name>" (and ".timeout") become
    // `provided` functions with that command, each granted lambda:InvokeFunction for
    // iot.amazonaws.com as `function add` now does, and so does the built-in ZTLambdaJITR when a
    // rule already names it: rules that worked before the upgrade keep working.
    R"sql(
CREATE TABLE lambda_functions (
  name TEXT PRIMARY KEY, runtime TEXT NOT NULL, handler TEXT NOT NULL, role TEXT NOT NULL,
  command TEXT, code BLOB, code_sha256 TEXT NOT NULL, code_size INTEGER NOT NULL,
  environment TEXT NOT NULL, timeout INTEGER NOT NULL, memory_size INTEGER NOT NULL,
  description TEXT NOT NULL, last_modified TEXT NOT NULL, revision_id TEXT NOT NULL);
CREATE TABLE lambda_permissions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, function_name TEXT NOT NULL, sid TEXT NOT NULL,
  statement TEXT NOT NULL, UNIQUE (function_name, sid));
INSERT INTO lambda_functions
  SELECT substr(s.key, 10), 'provided', 'command', '', s.value, NULL, '', 0, '{}',
    COALESCE((SELECT CAST(t.value AS INTEGER) FROM settings t WHERE t.key = s.key || '.timeout'), 30),
    128, '', strftime('%Y-%m-%dT%H:%M:%S.000+0000', 'now'), lower(hex(randomblob(16)))
  FROM settings s WHERE s.key LIKE 'function.%' AND s.key NOT LIKE 'function.%.%';
DELETE FROM settings WHERE key LIKE 'function.%';
INSERT INTO lambda_permissions(function_name, sid, statement)
  SELECT f.name, 'ztp-iot-rules', json_object('Sid', 'ztp-iot-rules', 'Effect', 'Allow',
    'Principal', json_object('Service', 'iot.amazonaws.com'), 'Action', 'lambda:InvokeFunction',
    'Resource', 'arn:aws:lambda:' || (SELECT value FROM settings WHERE key = 'region') || ':' ||
      (SELECT value FROM settings WHERE key = 'account_id') || ':function:' || f.name)
  FROM (SELECT name FROM lambda_functions UNION
        SELECT 'ZTLambdaJITR' WHERE EXISTS (SELECT 1 FROM topic_rules
          WHERE payload LIKE '%:function:ZTLambdaJITR"%')) f;
)sql",
    // Step 6 (templates, issue 15): provisioning templates: a template and its versions; versions
    // are numbered per template from 1 and never reused (last_version_id), as AWS numbers them.
    R"sql(
CREATE TABLE provisioning_templates (
  name TEXT PRIMARY KEY, description TEXT NOT NULL, type TEXT NOT NULL, enabled INTEGER NOT NULL,
  role_arn TEXT NOT NULL, hook_target_arn TEXT, hook_payload_version TEXT NOT NULL,
  default_version_id INTEGER NOT NULL, last_version_id INTEGER NOT NULL,
  creation_date REAL NOT NULL, last_modified_date REAL NOT NULL);
CREATE TABLE provisioning_template_versions (
  template_name TEXT NOT NULL, version_id INTEGER NOT NULL, body TEXT NOT NULL,
  creation_date REAL NOT NULL, PRIMARY KEY (template_name, version_id));
)sql",
    // Step 7 (jobs, issue 17): AWS IoT Jobs: jobs, their executions and job templates. The
    // records' less-queried fields are JSON text (job_records.hpp).
    R"sql(
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY, status TEXT NOT NULL, target_selection TEXT NOT NULL,
  document TEXT NOT NULL, spec TEXT NOT NULL, created_at REAL NOT NULL,
  last_updated_at REAL NOT NULL, completed_at REAL NOT NULL);
CREATE TABLE job_executions (
  job_id TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE, thing_name TEXT NOT NULL,
  execution_number INTEGER NOT NULL, status TEXT NOT NULL, status_details TEXT NOT NULL,
  version INTEGER NOT NULL, queued_at REAL NOT NULL, started_at REAL NOT NULL,
  last_updated_at REAL NOT NULL, timeout_at REAL NOT NULL, force_canceled INTEGER NOT NULL,
  history TEXT NOT NULL, PRIMARY KEY (job_id, thing_name));
CREATE INDEX job_executions_by_thing ON job_executions(thing_name, job_id);
CREATE INDEX job_executions_by_timeout ON job_executions(timeout_at) WHERE timeout_at > 0;
CREATE TABLE job_templates (
  template_id TEXT PRIMARY KEY, spec TEXT NOT NULL, created_at REAL NOT NULL);
)sql",
    // Step 8 (groups, issue 17): thing groups (static with a parent, or dynamic with a
    // fleet-indexing query), their members (both kinds in one table; a dynamic group's rows are
    // kept current by the registry from its query), billing groups and their members (a thing in at
    // most one: thing_name is the key). Deleting a thing or a group deletes its memberships.
    // Joining or leaving a group is on the device's timeline. Thing types already have their
    // deprecation columns (step 1).
    R"sql(
CREATE TABLE thing_groups (
  name TEXT PRIMARY KEY, id TEXT NOT NULL, parent_name TEXT REFERENCES thing_groups(name),
  description TEXT NOT NULL, attributes TEXT NOT NULL, version INTEGER NOT NULL,
  creation_date REAL NOT NULL, dynamic INTEGER NOT NULL, query_string TEXT NOT NULL,
  query_version TEXT NOT NULL, index_name TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX thing_groups_by_parent ON thing_groups(parent_name, name);
CREATE TABLE thing_group_members (
  group_name TEXT NOT NULL REFERENCES thing_groups(name) ON DELETE CASCADE,
  thing_name TEXT NOT NULL REFERENCES things(name) ON DELETE CASCADE,
  PRIMARY KEY (group_name, thing_name));
CREATE INDEX thing_group_members_by_thing ON thing_group_members(thing_name, group_name);
CREATE TABLE billing_groups (
  name TEXT PRIMARY KEY, id TEXT NOT NULL, description TEXT NOT NULL, version INTEGER NOT NULL,
  creation_date REAL NOT NULL);
CREATE TABLE billing_group_members (
  thing_name TEXT PRIMARY KEY REFERENCES things(name) ON DELETE CASCADE,
  group_name TEXT NOT NULL REFERENCES billing_groups(name) ON DELETE CASCADE);
CREATE INDEX billing_group_members_by_group ON billing_group_members(group_name, thing_name);
CREATE TRIGGER thing_group_joined AFTER INSERT ON thing_group_members BEGIN
  INSERT INTO device_events(time_us, thing_name, kind, detail) VALUES(
    zt_now_us(), NEW.thing_name, 'thing-group-joined', 'thing group ' || NEW.group_name);
END;
CREATE TRIGGER thing_group_left AFTER DELETE ON thing_group_members BEGIN
  INSERT INTO device_events(time_us, thing_name, kind, detail) VALUES(
    zt_now_us(), OLD.thing_name, 'thing-group-left', 'thing group ' || OLD.group_name);
END;
)sql",
    // Step 9 (awsdiff, issue 17): policy version numbers never come back after a delete (AWS counts
    // on from the highest ever made); role aliases; domain configurations (each an endpoint name
    // the broker accepts by SNI, with the server certificate it presents for it).
    R"sql(
ALTER TABLE policies ADD COLUMN last_version INTEGER NOT NULL DEFAULT 1;
UPDATE policies SET last_version =
  (SELECT MAX(version) FROM policy_versions v WHERE v.policy_name = policies.name);
CREATE TABLE role_aliases (
  name TEXT PRIMARY KEY, role_arn TEXT NOT NULL, credential_duration INTEGER NOT NULL,
  creation_date REAL NOT NULL, last_modified REAL NOT NULL);
CREATE TABLE domain_configurations (
  name TEXT PRIMARY KEY, domain_name TEXT NOT NULL UNIQUE, domain_type TEXT NOT NULL,
  status TEXT NOT NULL, details TEXT NOT NULL, certificate_pem TEXT NOT NULL,
  key_pem TEXT NOT NULL, creation_date REAL NOT NULL, last_status_change REAL NOT NULL);
)sql",
    // Step 10 (search, issue 17): fleet indexing's connectivity is the presence of the client whose
    // id is the thing's name (AWS's connectivity indexing); SearchIndex looks it up per thing.
    R"sql(
CREATE INDEX device_presence_by_client ON device_presence(client_id);
)sql",
};

}  // namespace

Result<std::unique_ptr<Registry>> Registry::open(const std::filesystem::path& path,
                                                 std::optional<int64_t> up_to_version) {
  ZT_TRY_ASSIGN(Database db, Database::open(path));
  ::chmod(path.c_str(), 0600);  // holds the access key secrets
  // WAL: readers never block the writer; synchronous=FULL until group commit takes over the
  // fsync (start_group_commit): either way a committed transaction is on disk before the API
  // answers 2xx, so kill -9 or power loss never loses an acknowledged change.
  // temp_store=MEMORY: statement journals (a savepoint, a multi-row statement in a transaction)
  // stay in memory instead of a temp file in /var/tmp: one file created, written and unlinked per
  // such statement (seen with strace under JITR, about one per 6 registrations), and pages of a
  // database holding secrets never go to a shared temp directory.
  ZT_TRY(
      db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
              "PRAGMA temp_store=MEMORY;"));
  std::unique_ptr<Registry> registry(new Registry(std::move(db)));
  int64_t target = std::min(up_to_version.value_or(schema_version()), schema_version());
  ZT_TRY(with_context(registry->migrate(target), "migrating " + path.string()));
  ZT_TRY(with_context(registry->start_group_commit(path), "opening " + path.string()));
  return registry;
}

Status Registry::start_group_commit(const std::filesystem::path& path) {
  std::lock_guard lock(mutex_);
  std::filesystem::path wal = path;
  wal += "-wal";
  int fd = ::open(wal.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ok();  // not in WAL mode: every COMMIT syncs itself (synchronous=FULL)
  // The WAL's directory entry must be on disk too before a commit in it counts as durable (SQLite's
  // unix VFS syncs the directory after creating a journal; fsync(2): "an explicit fsync() on a file
  // descriptor for the directory is also needed").
  std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  if (int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  if (Status normal = db_.exec("PRAGMA synchronous=NORMAL"); !normal) {
    ::close(fd);
    return normal;
  }
  wal_fd_ = fd;
  db_.observe_wal_commits(&Registry::count_commit, this, 1000);  // 1000: SQLite's default
  sync_thread_ = std::thread([this] { sync_loop(); });
  return ok();
}

Registry::~Registry() {
  if (sync_thread_.joinable()) {
    {
      std::lock_guard lock(sync_mutex_);
      stopping_ = true;
    }
    sync_wanted_.notify_one();
    sync_thread_.join();  // after the last requested sync
  }
  // No logging here: a registry may be destroyed at exit, after spdlog's own statics (the fuzz
  // harnesses hold one); LocalCloud::stop() logs the group-commit counters.
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

void Registry::count_commit(void* self) {
  static_cast<Registry*>(self)->commits_.fetch_add(1, std::memory_order_release);
}

// One fdatasync covers every commit counted before it started: commits_ is raised by the WAL hook
// after the commit's frames are written.
void Registry::sync_loop() {
  std::unique_lock lock(sync_mutex_);
  while (true) {
    sync_wanted_.wait(lock, [&] { return stopping_ || requested_ > durable_; });
    if (requested_ <= durable_) break;  // stopping, nothing left to sync
    uint64_t target = commits_.load(std::memory_order_acquire);
    bool failed_before = !sync_status_;
    lock.unlock();
    Status synced = ok();
    if (!failed_before) {
      if (::fdatasync(wal_fd_) == 0) {
        wal_syncs_.fetch_add(1, std::memory_order_relaxed);
      } else {
        synced = make_error(Errc::io, std::string("fdatasync of the registry's WAL failed: ") +
                                          std::strerror(errno));
      }
    }
    lock.lock();
    if (!synced) sync_status_ = synced;
    if (sync_status_) synced_.store(std::max(synced_.load(), target), std::memory_order_release);
    // After a failure every requested sequence is settled at once, each waiter getting the error.
    durable_ = std::max({durable_, target, sync_status_ ? 0 : requested_});
    std::vector<std::function<void(Status)>> ready;
    std::erase_if(sync_waiters_, [&](auto& waiter) {
      if (waiter.first > durable_) return false;
      ready.push_back(std::move(waiter.second));
      return true;
    });
    Status outcome = sync_status_;
    sync_done_.notify_all();
    lock.unlock();
    for (auto& done : ready) done(outcome);
    lock.lock();
  }
}

Status Registry::wait_durable(uint64_t sequence) {
  if (sequence == 0 || wal_fd_ < 0) return ok();
  std::unique_lock lock(sync_mutex_);
  if (sequence > requested_) {
    requested_ = sequence;
    sync_wanted_.notify_one();
  }
  sync_done_.wait(lock, [&] { return durable_ >= sequence; });
  return sync_status_;
}

void Registry::when_durable(uint64_t sequence, std::function<void(Status)> done) {
  std::unique_lock lock(sync_mutex_);
  if (sequence == 0 || wal_fd_ < 0 || durable_ >= sequence) {
    Status outcome = sync_status_;
    lock.unlock();
    done(outcome);
    return;
  }
  sync_waiters_.emplace_back(sequence, std::move(done));
  if (sequence > requested_) {
    requested_ = sequence;
    sync_wanted_.notify_one();
  }
}

namespace {
thread_local Registry::DeferredDurability* deferred_durability = nullptr;
}  // namespace

Registry::DeferredDurability::DeferredDurability(Registry& registry)
    : registry_(registry), outer_(deferred_durability) {
  deferred_durability = this;
}

Registry::DeferredDurability::~DeferredDurability() { deferred_durability = outer_; }

Status Registry::settle(uint64_t sequence) {
  for (DeferredDurability* scope = deferred_durability; scope; scope = scope->outer_) {
    if (&scope->registry_ == this) {
      scope->sequence_ = std::max(scope->sequence_, sequence);
      return ok();
    }
  }
  return wait_durable(sequence);
}

int64_t Registry::schema_version() { return static_cast<int64_t>(std::size(kMigrations)); }

Status Registry::migrate(int64_t target) {
  std::lock_guard lock(mutex_);
  ZT_TRY_ASSIGN(Statement version_query, db_.prepare("PRAGMA user_version"));
  ZT_TRY(version_query.step());
  int64_t version = version_query.integer(0);
  const int64_t latest = schema_version();
  if (version > latest) {
    return make_error(Errc::unsupported, "registry schema version " + std::to_string(version) +
                                             " is newer than this ztp (" + std::to_string(latest) +
                                             ")");
  }
  for (int64_t step = version; step < target; ++step) {
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

Status Registry::begin(Durability durability) {
  if (depth_++ > 0) return ok();
  rollback_only_ = false;
  changes_.clear();
  relaxed_ = durability == Durability::relaxed;
  // Without group commit the connection is synchronous=FULL, and a relaxed transaction switches
  // it to NORMAL for its COMMIT (synchronous can only change outside a transaction). With group
  // commit it is NORMAL already and a relaxed commit just does not wait for the sync thread.
  bool switch_sync = relaxed_ && wal_fd_ < 0;
  if (switch_sync) {
    if (Status relaxed = db_.exec("PRAGMA synchronous=NORMAL"); !relaxed) {
      depth_ = 0;
      return relaxed;
    }
  }
  Status begun = db_.exec("BEGIN IMMEDIATE");
  if (!begun) {
    depth_ = 0;
    if (switch_sync) (void)db_.exec("PRAGMA synchronous=FULL");
  }
  return begun;
}

Status Registry::end(bool commit, std::vector<Change>& committed, uint64_t& sequence) {
  if (!commit) rollback_only_ = true;
  if (--depth_ > 0) return ok();
  Status result = ok();
  if (rollback_only_) {
    (void)db_.exec("ROLLBACK");
    if (commit) result = make_error(Errc::conflict, "an inner step of this transaction failed");
  } else {
    uint64_t before = commits_.load(std::memory_order_relaxed);
    result = db_.exec("COMMIT");
    if (!result) {
      (void)db_.exec("ROLLBACK");
    } else if (!relaxed_ && wal_fd_ >= 0) {
      // Only a commit that wrote to the WAL (the hook counted it) has anything to make durable.
      uint64_t after = commits_.load(std::memory_order_relaxed);
      if (after != before) sequence = after;
    }
  }
  if (relaxed_) {
    relaxed_ = false;
    if (wal_fd_ < 0) {
      if (Status restored = db_.exec("PRAGMA synchronous=FULL"); !restored && result)
        result = restored;
    }
  }
  if (result && !rollback_only_) committed = std::move(changes_);
  changes_.clear();
  return result;
}

void Registry::note_change(Change change) { changes_.push_back(std::move(change)); }

struct Registry::GroupEntry {
  std::function<Status()> body;
  Status result = ok();
  bool done = false;
};

// Leader/follower: the first caller that finds no group running leads one with everything queued
// (its own body included) while later callers queue for the next group. The leader gives up the
// lead once its group has committed, so the next group runs while this one's fdatasync is in
// flight; its members are answered once that sync is done.
Status Registry::grouped_transaction(std::function<Status()> body) {
  GroupEntry entry{std::move(body)};
  std::unique_lock lock(group_mutex_);
  group_queue_.push_back(&entry);
  while (!entry.done) {
    // An empty queue with this entry not done: a group that took it is waiting for its fdatasync.
    // Leading an empty group then would spin (BEGIN, ROLLBACK, again) until that sync ends.
    if (group_leader_ || group_queue_.empty()) {
      group_done_.wait(lock);
      continue;
    }
    group_leader_ = true;
    std::vector<GroupEntry*> group;
    group.swap(group_queue_);
    lock.unlock();
    std::vector<Change> committed;
    uint64_t sequence = run_group(group, committed);
    lock.lock();
    group_leader_ = false;
    group_done_.notify_all();  // a queued caller may lead the next group now
    lock.unlock();
    Status durable = wait_durable(sequence);
    if (!committed.empty() && durable) notify(committed);
    lock.lock();
    for (GroupEntry* member : group) {
      if (!durable && member->result) member->result = durable;
      member->done = true;
    }
    group_done_.notify_all();
  }
  return entry.result;
}

uint64_t Registry::run_group(const std::vector<GroupEntry*>& group,
                             std::vector<Change>& committed) {
  uint64_t sequence = 0;
  std::lock_guard lock(mutex_);
  if (Status begun = begin(Durability::full); !begun) {
    for (GroupEntry* member : group) member->result = begun;
    return 0;
  }
  bool any = false;
  for (GroupEntry* member : group) {
    Status saved = db_.exec("SAVEPOINT grouped");
    if (!saved) {
      member->result = saved;
      continue;
    }
    size_t mark = changes_.size();
    rollback_only_ = false;
    // Another thread's body: an exception must not escape into this caller (nor leave the group
    // leaderless), so it becomes that body's error.
    Status result = ok();
    try {
      result = member->body();
    } catch (const std::exception& e) {
      result = make_error(Errc::internal, std::string("grouped transaction: ") + e.what());
    }
    if (result && rollback_only_)
      result = make_error(Errc::conflict, "an inner step of this transaction failed");
    if (!result) {
      (void)db_.exec("ROLLBACK TO grouped");
      changes_.resize(mark);
    } else {
      any = true;
    }
    rollback_only_ = false;
    (void)db_.exec("RELEASE grouped");
    member->result = result;
  }
  Status ended = end(any, committed, sequence);
  if (!ended) {
    for (GroupEntry* member : group) {
      if (member->result) member->result = ended;
    }
  }
  return sequence;
}

Status Registry::savepoint(const std::function<Status()>& body) {
  std::unique_lock lock(mutex_);
  if (depth_ == 0) {
    lock.unlock();
    return transaction(body);
  }
  // Nested: the savepoint's name may repeat (SQLite's savepoints stack); run_group's are undone the
  // same way.
  ZT_TRY(db_.exec("SAVEPOINT isolated"));
  size_t mark = changes_.size();
  bool outer_failed = rollback_only_;
  rollback_only_ = false;
  Status result = ok();
  try {
    result = body();
  } catch (const std::exception& e) {
    result = make_error(Errc::internal, std::string("savepoint: ") + e.what());
  } catch (...) {
    result = make_error(Errc::internal, "savepoint aborted by an unknown exception");
  }
  if (result && rollback_only_)
    result = make_error(Errc::conflict, "an inner step of this transaction failed");
  if (!result) {
    (void)db_.exec("ROLLBACK TO isolated");
    changes_.resize(mark);
  }
  rollback_only_ = outer_failed;
  if (Status released = db_.exec("RELEASE isolated"); !released) {
    rollback_only_ = true;  // the enclosing transaction cannot know what stands: it rolls back
    return result ? released : result;
  }
  return result;
}

Result<int64_t> Registry::data_version() {
  std::lock_guard lock(mutex_);
  ZT_TRY_ASSIGN(Statement st, db_.prepare("PRAGMA data_version"));
  ZT_TRY_ASSIGN(bool row, st.step());
  if (!row) return make_error(Errc::internal, "PRAGMA data_version returned no row");
  return st.integer(0);
}

void Registry::add_change_listener(ChangeListener listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
}

void Registry::notify(const std::vector<Change>& changes) {
  std::vector<ChangeListener> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = listeners_;
  }
  for (const auto& listener : listeners) listener(changes);
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
