// The local cloud's registry: everything AWS IoT's control plane stores, in one SQLite file
// (WAL; schema migrations are versioned with PRAGMA user_version). Thread-safe: one connection
// behind a mutex; every public call is one transaction, and `transaction()` groups several calls
// (nestable) so an API call commits all or nothing.
//
// Durability (group commit): a transaction returns (or, under DeferredDurability, its caller
// acknowledges) only once its commit is on disk, as synchronous=FULL promises; but the fsync is
// not part of COMMIT. The connection runs synchronous=NORMAL (COMMIT appends the transaction's
// frames to the WAL, no fsync) and a sync thread fdatasyncs the WAL file outside the connection's
// mutex: one fdatasync covers every commit before it (the WAL is a sequential log), so concurrent
// writers share it, the next transactions run while it is in flight, and readers never wait
// behind it. Checkpoints sync the WAL before copying it (synchronous=NORMAL's rule), so a frame is
// durable before a WAL restart can overwrite it. What a reader sees may be committed but not yet
// durable (a power cut in that window loses it, a kill -9 does not: the frames are in the page
// cache); no write is acknowledged before everything it could have read is durable, since a later
// commit's fdatasync covers the earlier ones.
//
// Change listeners: certificate and CA writes are reported after their transaction commits, so the
// data plane reacts at once (UpdateCertificate to REVOKED closes live sessions; a new or
// deactivated CA changes the broker's trust anchors) instead of polling.
//
// Used by the REST API (cloud/api), in-process by the MQTT broker / JITR, and by the data plane
// (shadows, device events, the function invocation log) and the console's fleet queries. All SQL
// of the local cloud lives in this folder: everything above it calls the typed functions below.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cloud/registry/data_plane_records.hpp"
#include "cloud/registry/iam_records.hpp"
#include "cloud/registry/index_records.hpp"
#include "cloud/registry/job_records.hpp"
#include "cloud/registry/lambda_records.hpp"
#include "cloud/registry/provisioning_records.hpp"
#include "cloud/registry/security_records.hpp"
#include "cloud/registry/sqlite.hpp"
#include "cloud/registry/thing_group_records.hpp"
#include "common/result.hpp"

namespace zt::cloud::registry {

// Certificate states (reference §1.6 CertificateStatus).
inline constexpr const char* kActive = "ACTIVE";
inline constexpr const char* kInactive = "INACTIVE";
inline constexpr const char* kRevoked = "REVOKED";
inline constexpr const char* kPendingActivation = "PENDING_ACTIVATION";
inline constexpr const char* kPendingTransfer = "PENDING_TRANSFER";
inline constexpr const char* kRegisterInactive = "REGISTER_INACTIVE";

struct CaCertificate {
  std::string id{};  // lowercase hex SHA-256 of DER
  std::string pem{};
  std::string subject{};
  std::string status = kInactive;             // ACTIVE | INACTIVE
  std::string auto_registration = "DISABLE";  // ENABLE | DISABLE
  std::string registration_config = "{}";     // JSON object text
  std::string certificate_mode = "DEFAULT";
  double creation_date = 0;
  double last_modified = 0;
  int64_t customer_version = 1;
  std::string generation_id{};
  int64_t not_before = 0;
  int64_t not_after = 0;
};

struct Certificate {
  std::string id{};
  std::string pem{};
  std::optional<std::string> ca_id{};
  std::string status = kInactive;
  std::string certificate_mode = "DEFAULT";
  double creation_date = 0;
  double last_modified = 0;
  int64_t customer_version = 1;
  std::string generation_id{};
  int64_t not_before = 0;
  int64_t not_after = 0;
};

struct ThingType {
  std::string name{};
  std::string id{};
  std::string properties = "{}";  // thingTypeProperties JSON
  double creation_date = 0;
  bool deprecated = false;
  double deprecation_date = 0;
};

struct Thing {
  std::string name{};
  std::string id{};
  std::optional<std::string> type_name{};
  std::string attributes = "{}";  // JSON object of string → string
  int64_t version = 1;
};

struct Policy {
  std::string name{};
  std::string document{};  // of the default version
  int64_t default_version = 1;
  double creation_date = 0;
  double last_modified = 0;
  std::string generation_id{};
};

struct TopicRule {
  std::string name{};
  std::string payload{};  // TopicRulePayload JSON as given (sql, actions, ruleDisabled, ...)
  double created_at = 0;
};

// A page of a list: items plus the key to continue after (empty when done).
template <class T>
struct Page {
  std::vector<T> items{};
  std::string next_key{};
};

struct PageRequest {
  std::string after{};  // exclusive start key ("" = from the beginning)
  int limit = 250;
  bool ascending = true;
};

struct ThingFilter {
  std::optional<std::string> type_name{};
  std::optional<std::string> attribute_name{};
  std::optional<std::string> attribute_value{};
  bool attribute_prefix = false;
};

// A committed write the data plane reacts to.
struct Change {
  // job_execution: id = the thing, status = the execution's new status ("" when deleted),
  // detail = the job id.
  // thing_group_member_added / _removed: id = the group's name, status = the thing's name (static
  // and dynamic groups alike; a deleted group reports its memberships removed).
  // policy_target: a policy attached to or detached from a thing group (id = the policy's name,
  // status = the group's ARN), which changes what the group's member things may do.
  // topic_rule: a topic rule created, replaced or deleted (id = its name; status "" when deleted).
  enum class Kind {
    certificate,
    ca,
    thing_group_member_added,
    thing_group_member_removed,
    policy_target,
    job_execution,
    topic_rule
  };
  Kind kind = Kind::certificate;
  std::string id{};
  std::string status{};  // the new status; "" when the record was deleted
  std::string detail{};
};
// Called on the committing thread after COMMIT, without the registry lock held (a listener may use
// the registry); must be quick (queue work elsewhere).
using ChangeListener = std::function<void(const std::vector<Change>& changes)>;

class Registry {
 public:
  // `up_to_version`: migrate no further than this schema version (tests of upgrades from an older
  // build's database); default: the latest.
  static Result<std::unique_ptr<Registry>> open(const std::filesystem::path& path,
                                                std::optional<int64_t> up_to_version = {});
  // The schema version this build migrates to (PRAGMA user_version after open()).
  static int64_t schema_version();

  // Runs `body` in one transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on error). Nestable: inner
  // calls join the outer transaction. `body` returns Status or Result<T>.
  template <class F>
  auto transaction(F&& body) -> decltype(body()) {
    return run_transaction(body, Durability::full);
  }
  // The same for diagnostic records (function invocation log): committed with synchronous=NORMAL,
  // so the commit does not wait for an fsync. A process crash loses nothing (the WAL is written
  // before COMMIT returns); power loss may lose the last such records, which become durable with
  // the next ordinary commit. Inside an ordinary transaction it is an ordinary nested one.
  template <class F>
  auto diagnostic_transaction(F&& body) -> decltype(body()) {
    return run_transaction(body, Durability::relaxed);
  }

  // Group commit: `body` runs in a transaction shared with the bodies other threads hand in at the
  // same time, each in its own SAVEPOINT (a failing body is undone alone and gets its own error);
  // the group commits once, so N concurrent writers wait for one fsync instead of N. Returns when
  // the group's COMMIT is durable. For short, independent writes from several threads (JITR
  // registrations on the broker's threads, the JITR function on the service worker). Not from
  // inside another transaction.
  Status grouped_transaction(std::function<Status()> body);

  // A step that fails alone. Inside a transaction: `body` runs in a SAVEPOINT, and when it fails
  // (or an inner step of it did) only its writes are undone and the enclosing transaction may
  // still commit; its error is returned. Outside one: an ordinary transaction. For batching
  // independent requests into one commit (the shadow updates queued on the service worker).
  Status savepoint(const std::function<Status()>& body);
  // PRAGMA data_version: changes when another connection (another process: `ztp cloud setup-jitr`
  // next to `ztp cloud run`) committed to the database since the last call; this connection's own
  // commits do not change it (they are reported to the change listeners). For caches.
  Result<int64_t> data_version();

  // While one lives on a thread, that thread's outermost transactions of this registry return at
  // COMMIT without waiting for the fdatasync; `commit_sequence()` is then what to hand to
  // `when_durable` before acknowledging (0: nothing was written). For servers that answer many
  // requests from few threads (the API server): the thread runs the next request while the
  // previous one's fsync is in flight, and the reply leaves from `when_durable`'s callback.
  class DeferredDurability {
   public:
    explicit DeferredDurability(Registry& registry);
    ~DeferredDurability();
    DeferredDurability(const DeferredDurability&) = delete;
    DeferredDurability& operator=(const DeferredDurability&) = delete;
    uint64_t commit_sequence() const { return sequence_; }

   private:
    friend class Registry;
    Registry& registry_;
    DeferredDurability* outer_;
    uint64_t sequence_ = 0;
  };
  // Calls `done` (on the registry's sync thread: it must only hand the result on, e.g. post it
  // to an executor) once every commit up to `sequence` is on disk, or with the error if the
  // fdatasync failed (then nothing after it is acknowledged: a failed fsync may have dropped the
  // dirty pages, so the registry reports every later sync failed too, as PostgreSQL does).
  void when_durable(uint64_t sequence, std::function<void(Status)> done);
  // Blocks until every commit up to `sequence` is on disk.
  Status wait_durable(uint64_t sequence);
  // Every commit up to this sequence is on disk (a cheap check for a thread that holds answers).
  uint64_t durable_sequence() const { return synced_.load(std::memory_order_acquire); }
  // fdatasync calls the sync thread made on the WAL (checkpoints' own syncs are not counted).
  uint64_t wal_syncs() const { return wal_syncs_.load(std::memory_order_relaxed); }
  // Commits appended to the WAL (each covered by one of those syncs).
  uint64_t wal_commits() const { return commits_.load(std::memory_order_relaxed); }
  ~Registry();

  void add_change_listener(ChangeListener listener);

  // Account-wide values: account_id, region, endpoint_prefix, registration_code.
  Result<std::optional<std::string>> get_setting(std::string_view key);
  Status set_setting(std::string_view key, std::string_view value);
  // GetRegistrationCode: created on first use, the same afterwards.
  Result<std::string> registration_code();

  Status add_access_key(std::string_view access_key_id, std::string_view secret);
  Result<std::optional<std::string>> find_secret(std::string_view access_key_id);

  // CA certificates.
  Status insert_ca(const CaCertificate& ca);
  Result<std::optional<CaCertificate>> find_ca(std::string_view id);
  Result<Page<CaCertificate>> list_cas(const PageRequest& page);
  Result<std::vector<CaCertificate>> list_active_cas();
  Result<int64_t> count_cas_with_subject(std::string_view subject);
  Status update_ca(const CaCertificate& ca);  // replaces mutable fields, bumps customer_version
  Status delete_ca(std::string_view id);

  // Device certificates.
  Status insert_certificate(const Certificate& certificate);
  Result<std::optional<Certificate>> find_certificate(std::string_view id);
  Result<Page<Certificate>> list_certificates(const PageRequest& page,
                                              std::optional<std::string> ca_id = std::nullopt);
  Status update_certificate_status(std::string_view id, std::string_view status);
  Status delete_certificate(std::string_view id);
  // JITR: an unknown certificate of an ACTIVE CA with auto-registration. Inserts it as
  // PENDING_ACTIVATION (or returns the existing record unchanged).
  Result<Certificate> register_pending_certificate(const Certificate& certificate);

  // Thing types and things.
  Status insert_thing_type(const ThingType& type);
  Result<std::optional<ThingType>> find_thing_type(std::string_view name);
  Status insert_thing(const Thing& thing);
  Result<std::optional<Thing>> find_thing(std::string_view name);
  Result<Page<Thing>> list_things(const PageRequest& page, const ThingFilter& filter = {});
  Status update_thing(const Thing& thing);  // caller bumps version
  Status delete_thing(std::string_view name);

  // Policies (version 1 is created and made default; more in "Policy versions" below).
  Status insert_policy(std::string_view name, std::string_view document, double now,
                       std::string_view generation_id);
  Result<std::optional<Policy>> find_policy(std::string_view name);
  Result<Page<Policy>> list_policies(const PageRequest& page);
  Status delete_policy(std::string_view name);

  // principal/target (certificate ARN, thing-group ARN, Cognito id) ↔ policy name.
  Status attach_policy(std::string_view policy_name, std::string_view target);
  Result<bool> detach_policy(std::string_view policy_name, std::string_view target);
  Result<Page<Policy>> list_attached_policies(std::string_view target, const PageRequest& page);
  Result<Page<std::string>> list_policy_targets(std::string_view policy_name,
                                                const PageRequest& page);
  Result<int64_t> count_policy_targets(std::string_view policy_name);
  // For the broker: every policy attached to a certificate ARN (documents of default versions).
  Result<std::vector<Policy>> get_policies_for_principal(std::string_view principal_arn);

  // thing ↔ principal.
  Status attach_thing_principal(std::string_view thing_name, std::string_view principal,
                                std::string_view type);
  Result<bool> detach_thing_principal(std::string_view thing_name, std::string_view principal);
  Result<Page<std::string>> list_principal_things(std::string_view principal,
                                                  const PageRequest& page);
  Result<Page<std::string>> list_thing_principals(std::string_view thing_name,
                                                  const PageRequest& page);

  // Topic rules.
  Status insert_topic_rule(const TopicRule& rule);
  Result<std::optional<TopicRule>> find_topic_rule(std::string_view name);
  Result<Page<TopicRule>> list_topic_rules(const PageRequest& page);
  Result<std::vector<TopicRule>> get_topic_rules();  // all, for the rules engine
  Status replace_topic_rule(std::string_view name, std::string_view payload);
  Status delete_topic_rule(std::string_view name);

  // Function invocation log (registry_rules.cpp). Each attempt is a diagnostic record: committed
  // by diagnostic_transaction, without waiting for an fsync.
  Status record_function_invocation(const InvocationRow& attempt);
  // The most recent attempts, newest first (thing_name is not filled).
  Result<std::vector<InvocationRow>> recent_function_invocations(int limit);
  // The console's page of the log, newest first, each with the device's thing (the first thing
  // attached to `principal_prefix` + certificate id). Bad paging values are an invalid_argument
  // error naming the value.
  Result<InvocationPage> list_function_invocations(const std::string& principal_prefix,
                                                   const InvocationQuery& query);

  // Lambda functions and their resource-based policies (registry_lambda.cpp). insert:
  // already_exists when the name is taken; update/delete: not_found when it is not. update replaces
  // every field of the record, and the code too when `code` is given. Deleting a function deletes
  // its policy.
  Status insert_lambda_function(const LambdaFunction& function, std::span<const uint8_t> code);
  Result<std::optional<LambdaFunction>> find_lambda_function(std::string_view name);
  // The zip as uploaded; nullopt for a function without code (or none of that name).
  Result<std::optional<std::vector<uint8_t>>> lambda_function_code(std::string_view name);
  Result<Page<LambdaFunction>> list_lambda_functions(const PageRequest& page);
  Status update_lambda_function(const LambdaFunction& function,
                                std::optional<std::span<const uint8_t>> code = std::nullopt);
  Status delete_lambda_function(std::string_view name);
  // A statement id is unique per function (already_exists otherwise); statements in added order.
  Status add_lambda_permission(const LambdaPermission& permission);
  Result<bool> remove_lambda_permission(std::string_view function_name, std::string_view sid);
  Result<std::vector<LambdaPermission>> lambda_permissions(std::string_view function_name);

  // Device shadows (registry_shadows.cpp): the stored document (cloud/shadow's storage form) of
  // the classic shadow (shadow_name "") or a named one. A deleted shadow keeps its row, marked
  // "exists": false, so its version continues if it is created again.
  Result<std::optional<std::string>> find_shadow(std::string_view thing_name,
                                                 std::string_view shadow_name);
  Status put_shadow(std::string_view thing_name, std::string_view shadow_name,
                    std::string_view document);
  // The names of the thing's named shadows that exist, in name order (keyset paging).
  Result<Page<std::string>> list_named_shadows(std::string_view thing_name,
                                               const PageRequest& page);

  // Device events and presence (registry_events.cpp). The registry's triggers record what changes
  // rows; these are the data plane's events. All of `events` in one transaction.
  Status append_device_events(const std::vector<DeviceEventRecord>& events);
  // Every device disconnected (a starting broker has no sessions); last seen is kept.
  Status reset_device_presence();
  // A device's zero-touch story: `key` is a thing name or a certificate id; the events of all its
  // certificates and things, the newest `limit`, oldest first. not_found when neither has any
  // record.
  Result<Timeline> device_timeline(const std::string& principal_prefix, const std::string& key,
                                   int limit = 500);

  // The console's fleet queries (registry_fleet.cpp), read-only. A device is a certificate,
  // joined to its thing through thing_principals (`principal_prefix` = "arn:aws:iot:<region>:
  // <account>:cert/") and to its presence.
  Result<std::vector<CaSummary>> list_cas_with_devices();
  // Offset/limit paging (the list jumps anywhere); bad values are an invalid_argument error.
  Result<DevicePage> list_devices(const std::string& principal_prefix, const DeviceQuery& query);

  // IAM (registry_iam.cpp). Names are unique without regard to case, as IAM's ("you cannot create
  // roles named both PRODROLE and prodrole"), and found the same way. Write errors:
  // already_exists for a taken name.
  Status insert_role(const IamRole& role);
  Result<std::optional<IamRole>> find_role(std::string_view name);
  // arn:aws:iam::<account>:role<path><name> of this account (the account_id setting), path and
  // all; nullopt for any other ARN.
  Result<std::optional<IamRole>> find_role_by_arn(std::string_view arn);
  Result<Page<IamRole>> list_roles(const PageRequest& page, std::string_view path_prefix = "/");
  Status delete_role(std::string_view name);  // its policies must be gone (the API checks)
  // Managed policy ARNs attached to a role; attach is idempotent (true = newly attached).
  Result<bool> attach_role_policy(std::string_view role_name, std::string_view policy_arn);
  Result<bool> detach_role_policy(std::string_view role_name, std::string_view policy_arn);
  Result<std::vector<std::string>> list_attached_role_policies(std::string_view role_name);
  // Inline policies: put replaces a policy of the same name.
  Status put_role_policy(const IamRolePolicy& policy);
  Result<std::optional<IamRolePolicy>> find_role_policy(std::string_view role_name,
                                                        std::string_view policy_name);
  Result<bool> delete_role_policy(std::string_view role_name, std::string_view policy_name);
  Result<std::vector<IamRolePolicy>> list_role_policies(std::string_view role_name);
  Result<int64_t> count_roles();

  Status insert_user(const IamUser& user);
  Result<std::optional<IamUser>> find_user(std::string_view name);
  Status delete_user(std::string_view name);  // its keys must be gone (the API checks)
  Result<int64_t> count_users();
  // A user's access key: the secret joins access_keys (it signs requests at once).
  Status insert_user_access_key(const IamAccessKey& key, std::string_view secret);
  Result<std::vector<IamAccessKey>> list_user_access_keys(std::string_view user_name);
  // The user an access key belongs to; nullopt for a key of no user (the account's own key).
  Result<std::optional<IamAccessKey>> find_user_access_key(std::string_view access_key_id);
  Result<bool> delete_user_access_key(std::string_view user_name, std::string_view access_key_id);

  // Multi-account registration (registry_certificates.cpp).
  // ACTIVE certificates registered without a CA (RegisterCertificateWithoutCA, SNI_ONLY): the
  // broker trusts each one as its own anchor, since no registered CA vouches for it.
  Result<std::vector<Certificate>> list_active_certificates_without_ca();
  // Provisioning templates (registry_provisioning.cpp). insert: the template with `body` as its
  // version 1 (already_exists when the name is taken). update replaces the mutable fields.
  // delete: the template and all its versions. not_found when the template is missing.
  Status insert_provisioning_template(const ProvisioningTemplate& record, std::string_view body);
  Result<std::optional<ProvisioningTemplate>> find_provisioning_template(std::string_view name);
  Result<Page<ProvisioningTemplate>> list_provisioning_templates(const PageRequest& page);
  Status update_provisioning_template(const ProvisioningTemplate& record);
  Status delete_provisioning_template(std::string_view name);
  // A new version (the next number), made the default when `set_default`; its id.
  Result<int64_t> insert_provisioning_template_version(std::string_view name, std::string_view body,
                                                       double now, bool set_default);
  Result<std::optional<ProvisioningTemplateVersion>> find_provisioning_template_version(
      std::string_view name, int64_t version_id);
  Result<Page<ProvisioningTemplateVersion>> list_provisioning_template_versions(
      std::string_view name, const PageRequest& page);
  Result<int64_t> count_provisioning_template_versions(std::string_view name);
  Status delete_provisioning_template_version(std::string_view name, int64_t version_id);

  // Jobs (registry_jobs.cpp). Keys: job id; (job id, thing name) for executions; template id.
  // insert: already_exists when taken; update/delete: not_found when missing. Every write of an
  // execution notes a Change::Kind::job_execution (the data plane notifies the device).
  Status insert_job(const Job& job);
  Result<std::optional<Job>> find_job(std::string_view id);
  Status update_job(const Job& job);
  Status delete_job(std::string_view id);  // and its executions
  Result<Page<Job>> list_jobs(const PageRequest& page, const JobFilter& filter);
  Result<std::vector<Job>> list_jobs_with_status(std::string_view status);
  Status put_job_execution(const JobExecution& execution);  // insert or replace
  Result<std::optional<JobExecution>> find_job_execution(std::string_view job_id,
                                                         std::string_view thing_name);
  Status delete_job_execution(std::string_view job_id, std::string_view thing_name);
  // Keyed by thing name (for a job) or job id (for a thing); status "" = any.
  Result<Page<JobExecution>> list_job_executions_for_job(std::string_view job_id,
                                                         std::string_view status,
                                                         const PageRequest& page);
  Result<Page<JobExecution>> list_job_executions_for_thing(std::string_view thing_name,
                                                           std::string_view status,
                                                           const PageRequest& page);
  // A thing's QUEUED and IN_PROGRESS executions, oldest queued first (the device's queue).
  Result<std::vector<JobExecution>> pending_job_executions(std::string_view thing_name);
  // Executions of a job by status (jobProcessDetails).
  Result<std::vector<std::pair<std::string, int64_t>>> count_job_executions(
      std::string_view job_id);
  // IN_PROGRESS executions whose timer ran out at `now`.
  Result<std::vector<JobExecution>> expired_job_executions(double now);
  Status insert_job_template(const JobTemplate& job_template);
  Result<std::optional<JobTemplate>> find_job_template(std::string_view id);
  Result<Page<JobTemplate>> list_job_templates(const PageRequest& page);
  Status delete_job_template(std::string_view id);
  // Thing groups (registry_thing_groups.cpp). Write errors: already_exists for a taken name,
  // not_found for a missing group or thing, invalid_argument for a broken rule (with AWS's
  // reason: a dynamic group in a hierarchy, too deep, a thing in too many groups, children left).
  Result<std::optional<ThingGroup>> find_thing_group(std::string_view name);
  Status insert_thing_group(const ThingGroup& group);
  // Replaces description, attributes, version and (dynamic) query fields and status.
  Status update_thing_group(const ThingGroup& group);
  // Refused (invalid_argument) while the group has child groups; its memberships go with it.
  Status delete_thing_group(std::string_view name);
  Result<Page<ThingGroup>> list_thing_groups(const PageRequest& page,
                                             const ThingGroupFilter& filter = {});
  // The group and its ancestors, root first (the group itself last).
  Result<std::vector<ThingGroup>> thing_group_path(std::string_view name);
  // Every dynamic group (for re-evaluating membership when things change).
  Result<std::vector<ThingGroup>> list_dynamic_thing_groups();
  // Static groups; not_found when the group or the thing is missing; idempotent.
  Status add_thing_to_thing_group(std::string_view group_name, std::string_view thing_name);
  Result<bool> remove_thing_from_thing_group(std::string_view group_name,
                                             std::string_view thing_name);
  // The groups the thing is a direct member of, static and dynamic, in name order.
  Result<std::vector<std::string>> list_thing_groups_for_thing(std::string_view thing_name);
  // Those groups and all their ancestors (the groups whose policies apply to the thing).
  Result<std::vector<std::string>> list_thing_groups_for_thing_with_ancestors(
      std::string_view thing_name);
  // Members of the group (and of its descendants when `recursive`), in name order.
  Result<std::vector<std::string>> list_things_in_thing_group(std::string_view group_name,
                                                              bool recursive);
  Result<Page<std::string>> page_things_in_thing_group(std::string_view group_name, bool recursive,
                                                       const PageRequest& page);
  Result<Page<std::string>> page_thing_groups_for_thing(std::string_view thing_name,
                                                        const PageRequest& page);
  // A dynamic group's members become exactly `things` (the names that exist); changes noted.
  Status set_dynamic_thing_group_members(std::string_view group_name,
                                         const std::vector<std::string>& things);
  // Dynamic groups' members from their queries (cloud/index's matches over indexed_thing): one
  // group against every thing (created, query changed), or every dynamic group against one thing
  // (it, its shadow, connectivity or groups changed). A thing already in kMaxThingGroupsPerThing
  // groups is left out, as AWS leaves it.
  Status refresh_dynamic_thing_group(std::string_view group_name);
  Status refresh_dynamic_thing_groups_for_thing(std::string_view thing_name);
  // Adds or removes the thing in a group, static or dynamic (a dynamic group's query matched or
  // stopped matching); idempotent; adding checks kMaxThingGroupsPerThing.
  Status set_thing_group_member(std::string_view group_name, std::string_view thing_name,
                                bool member);

  // Billing groups (registry_billing_groups.cpp). A thing is in at most one billing group:
  // adding it to another moves it (AWS's AddThingToBillingGroup does the same).
  Result<std::optional<BillingGroup>> find_billing_group(std::string_view name);
  Status insert_billing_group(const BillingGroup& group);
  Status update_billing_group(const BillingGroup& group);  // description and version
  Status delete_billing_group(std::string_view name);      // its memberships go with it
  Result<Page<BillingGroup>> list_billing_groups(const PageRequest& page,
                                                 std::string_view name_prefix = "");
  Status add_thing_to_billing_group(std::string_view group_name, std::string_view thing_name);
  Result<bool> remove_thing_from_billing_group(std::string_view group_name,
                                               std::string_view thing_name);
  Result<std::optional<std::string>> find_billing_group_for_thing(std::string_view thing_name);
  Result<Page<std::string>> list_things_in_billing_group(std::string_view group_name,
                                                         const PageRequest& page);

  // Thing types beyond create/find (registry_thing_types.cpp), and the typed principal lists.
  Result<Page<ThingType>> list_thing_types(const PageRequest& page,
                                           std::optional<std::string> name = std::nullopt);
  Status set_thing_type_deprecation(std::string_view name, bool deprecated, double date);
  Status delete_thing_type(std::string_view name);  // things of the type must be gone
  Result<int64_t> count_things_of_type(std::string_view name);
  // `type`: only EXCLUSIVE_THING or NON_EXCLUSIVE_THING attachments ("" = both).
  Result<Page<ThingPrincipal>> list_thing_principals_v2(std::string_view thing_name,
                                                        const PageRequest& page,
                                                        std::string_view type = "");
  Result<Page<ThingPrincipal>> list_principal_things_v2(std::string_view principal,
                                                        const PageRequest& page,
                                                        std::string_view type = "");
  // Policy versions (registry_policy_versions.cpp). Numbers count on from the highest ever made.
  Result<std::vector<PolicyVersion>> list_policy_versions(std::string_view policy_name);
  Result<std::optional<PolicyVersion>> find_policy_version(std::string_view policy_name,
                                                           int64_t version);
  // The new version's number; set_default makes it the default (new generation id).
  Result<int64_t> insert_policy_version(std::string_view policy_name, std::string_view document,
                                        double now, bool set_default,
                                        std::string_view generation_id);
  Status set_default_policy_version(std::string_view policy_name, int64_t version, double now,
                                    std::string_view generation_id);
  Status delete_policy_version(std::string_view policy_name, int64_t version);

  // Role aliases (registry_role_aliases.cpp).
  Status insert_role_alias(const RoleAlias& alias);
  Result<std::optional<RoleAlias>> find_role_alias(std::string_view name);
  Result<Page<RoleAlias>> list_role_aliases(const PageRequest& page);
  Status update_role_alias(const RoleAlias& alias);
  Result<bool> delete_role_alias(std::string_view name);

  // Domain configurations (registry_role_aliases.cpp too: both are small keyed tables).
  Status insert_domain_configuration(const DomainConfiguration& configuration);
  Result<std::optional<DomainConfiguration>> find_domain_configuration(std::string_view name);
  Result<std::optional<DomainConfiguration>> find_domain_configuration_by_domain(
      std::string_view domain_name);
  Result<Page<DomainConfiguration>> list_domain_configurations(const PageRequest& page);
  Status update_domain_configuration(const DomainConfiguration& configuration);
  Result<bool> delete_domain_configuration(std::string_view name);

  // Fleet indexing (registry_index.cpp). The configuration is a setting (all OFF until set).
  // A thing's indexed document is the one SearchIndex returns (cloud/index/query.hpp's shape):
  // registry fields always, the shadow (classic, and the named ones of the filter) and
  // connectivity when the configuration indexes them, plus "registryVersion" for
  // registry.version (the API drops it from answers). Connectivity is the presence of the
  // client whose id is the thing's name, as AWS's connectivity indexing.
  Result<index::IndexingConfiguration> indexing_configuration();
  Status set_indexing_configuration(const index::IndexingConfiguration& configuration);
  // not_found when there is no such thing.
  Result<nlohmann::json> indexed_thing(std::string_view thing_name);
  // The things matching `query` after `page.after` in name order, at most page.limit, with
  // next_key when more match. What SQL can decide runs in SQL; the query decides the rest.
  Result<Page<nlohmann::json>> search_things(const index::Query& query, const PageRequest& page);
  // Every matching document in name order (aggregations), until `visit` returns false.
  Status visit_indexed_things(const index::Query& query, const IndexedThingVisitor& visit);

 private:
  // Tests only (tests/cloud/registry_*): reads this connection's settings (PRAGMA synchronous).
  // Code above the registry has no door to its SQL.
  friend struct RegistryTestAccess;
  enum class Durability { full, relaxed };
  explicit Registry(Database db) : db_(std::move(db)) {}
  Status migrate(int64_t target);
  // Opens the WAL file for the sync thread and switches to synchronous=NORMAL; without a WAL
  // file (no journal_mode=WAL) the connection stays synchronous=FULL and commits sync themselves.
  Status start_group_commit(const std::filesystem::path& path);
  void sync_loop();
  Status begin(Durability durability);
  // Ends one level; when the outermost commits, moves the changes it made into `committed` and,
  // when it wrote and must be durable, sets `sequence` to its commit's number.
  Status end(bool commit, std::vector<Change>& committed, uint64_t& sequence);
  // After the outermost transaction (mutex_ released): waits for `sequence` to be durable, or
  // leaves it to this thread's DeferredDurability.
  Status settle(uint64_t sequence);
  void note_change(Change change);  // inside a transaction
  void note_policy_target_change(std::string_view policy_name, std::string_view target);
  void notify(const std::vector<Change>& changes);

  // An exception thrown by `body` must not leave the transaction open: depth_ would stay raised
  // and every later transaction would nest inside one that never commits (acknowledged writes
  // lost at the next restart). It becomes the body's error, and end() rolls back, as run_group
  // does for a grouped body.
  template <class F>
  auto run_transaction(F& body, Durability durability) -> decltype(body()) {
    using Outcome = decltype(body());
    std::vector<Change> committed;
    uint64_t sequence = 0;
    auto result = [&]() -> Outcome {
      std::lock_guard lock(mutex_);
      if (auto begun = begin(durability); !begun) return begun.error();
      Outcome result = [&]() -> Outcome {
        try {
          return body();
        } catch (const std::exception& e) {
          return make_error(Errc::internal, std::string("transaction aborted: ") + e.what());
        } catch (...) {
          return make_error(Errc::internal, "transaction aborted by an unknown exception");
        }
      }();
      if (auto ended = end(static_cast<bool>(result), committed, sequence); !ended && result)
        return ended.error();
      return result;
    }();
    if (sequence != 0) {
      if (auto settled = settle(sequence); !settled && result) result = settled.error();
    }
    if (!committed.empty()) notify(committed);
    return result;
  }

  struct GroupEntry;
  // Runs the group's bodies and commits; returns the commit's sequence (0: nothing to sync).
  uint64_t run_group(const std::vector<GroupEntry*>& group, std::vector<Change>& committed);

  std::recursive_mutex mutex_;
  Database db_;
  int depth_ = 0;
  bool rollback_only_ = false;   // an inner transaction failed: the outer one must not commit
  bool relaxed_ = false;         // the outermost transaction runs with synchronous=NORMAL
  std::vector<Change> changes_;  // made by the open transaction
  std::mutex listeners_mutex_;
  std::vector<ChangeListener> listeners_;
  std::mutex group_mutex_;  // before mutex_ when both are taken
  std::condition_variable group_done_;
  std::vector<GroupEntry*> group_queue_;
  bool group_leader_ = false;  // a thread is running a group

  // Group commit (see the top of this file). commits_ counts WAL commits (the WAL hook, under
  // mutex_); the sync thread makes durable_ catch up with requested_.
  static void count_commit(void* self);
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> wal_syncs_{0};
  std::atomic<uint64_t> synced_{0};  // durable_ as far as syncs succeeded
  int wal_fd_ = -1;                  // -1: no group commit, the connection is synchronous=FULL
  std::mutex sync_mutex_;
  std::condition_variable sync_wanted_;
  std::condition_variable sync_done_;
  uint64_t requested_ = 0;
  uint64_t durable_ = 0;
  Status sync_status_ = ok();  // ok() until an fdatasync fails, then that failure for good
  bool stopping_ = false;
  std::vector<std::pair<uint64_t, std::function<void(Status)>>> sync_waiters_;
  std::thread sync_thread_;
};

}  // namespace zt::cloud::registry
