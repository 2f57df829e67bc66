// The local cloud's broker plug-ins backed by the registry (reference/aws-iot.md §3, §5):
//  - RegistryAuthenticator: client chains must reach a registered ACTIVE CA (partial chain, so an
//    intermediate can be the registered CA) or the cloud's own issuer (certificates made by
//    CreateKeysAndCertificate / CreateCertificateFromCsr), or be itself an ACTIVE certificate
//    registered without a CA (multi-account registration). An ACTIVE certificate is accepted with
//    principal = certificateId. An unknown certificate of an ACTIVE CA with auto-registration
//    ENABLE is registered PENDING_ACTIVATION (JITR) and the registration event is published; the
//    connection is then closed without CONNACK, and again on every attempt while still pending.
//  - PolicyAuthorizer: iot:Connect/Publish/RetainPublish/Subscribe/Receive against the policies
//    attached to the certificate, with client, thing and certificate policy variables.
//
// SNI rule (cloud/endpoint_names.hpp): the iot:Data-ATS and iot:Data names of every endpoint
// domain, "localhost", the listener's own IP address, or no SNI — except for SNI_ONLY
// certificates, which AWS admits only with SNI. Any other name fails the handshake with the alert
// unrecognized_name, logged as a warning that names the accepted ones.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "broker/interfaces.hpp"
#include "broker/rate_limit.hpp"
#include "cloud/endpoint_names.hpp"
#include "cloud/events/recorder.hpp"
#include "cloud/jitr/jitr_function.hpp"
#include "cloud/policy/policy.hpp"
#include "cloud/provisioning/provisioner.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::service {

// Publishes a broker-originated event (topic, JSON payload text); must not block.
using EventPublisher = std::function<void(std::string topic, std::string payload)>;

struct AccountInfo {
  std::string account_id;
  std::string region;
  std::string arn(std::string_view resource) const {
    return "arn:aws:iot:" + region + ":" + account_id + ":" + std::string(resource);
  }
};

// What the authenticator learned, handed to the authorizer through AuthDecision::context.
struct CertificateIdentity {
  std::string certificate_id;
  std::map<std::string, std::string> variables;  // "Subject.CommonName" → value, … (policy §5)
};

// Registered CA records by id, as last committed: every connect reads its certificate's CA
// (status, auto-registration, certificate mode) and CAs change rarely. Every CA write notes a
// Change::Kind::ca (insert, update, delete), and the registry's change listener then drops the
// whole cache, so the next connect reads the registry again; a read that began before the change
// is not kept (generation). Ids not registered as CAs are cached too (the chains' other
// certificates); at most kMaxEntries, then it starts over.
class CaCache {
 public:
  explicit CaCache(registry::Registry& registry);
  Result<std::optional<registry::CaCertificate>> find(const std::string& id);
  static constexpr size_t kMaxEntries = 1024;

 private:
  struct Shared {  // shared with the change listener, which may outlive this cache
    std::mutex mutex;
    uint64_t generation = 0;
    std::map<std::string, std::optional<registry::CaCertificate>> entries;
  };
  registry::Registry& registry_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

class RegistryAuthenticator final : public broker::Authenticator {
 public:
  // `key_ids`: where to note the SubjectKeyIdentifier of each certificate registered
  // PENDING_ACTIVATION, for the built-in JITR function (RulesRuntime::recent_key_ids).
  RegistryAuthenticator(registry::Registry& registry, AccountInfo account, EndpointNames endpoint,
                        const X509* cloud_issuer, EventPublisher publish,
                        events::EventRecorder* recorder = nullptr,
                        jitr::RecentKeyIds* key_ids = nullptr);

  // The registered CAs as last committed; shared with the PolicyAuthorizer.
  std::shared_ptr<CaCache> ca_cache() const { return cas_; }

  // The anchors are built once and kept until a CA is registered, updated or deleted (the
  // registry's change listener drops them), so a handshake costs no registry read.
  crypto::UniquePtr<X509_STORE> trust_store() override;
  broker::AuthDecision authenticate(const broker::PeerCertificate& peer) override;
  bool accept_server_name(std::string_view server_name, std::string_view local_address,
                          std::string_view remote_address) override;
  // Domain configurations (handlers_domain_configurations.cpp): an ENABLED one's name is
  // accepted and answered with its own certificate; a DISABLED one's is refused.
  std::optional<ServerIdentity> server_identity(std::string_view server_name) override;

  // Registration events (and the device-timeline rows of refused connects) are throttled per
  // certificate: a PENDING_ACTIVATION device that repeats its TLS handshake gets one event per
  // second, as CONNECT is 1 per second per client id (aws-iot.md §6.3); the handshakes in between
  // are closed at CONNECT as before, silently. Tests set a fake clock.
  static constexpr std::chrono::milliseconds kEventInterval{1000};
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  void set_clock(Clock clock) { clock_ = std::move(clock); }

 private:
  // Publishes the registration event and records the closed connect on the timeline (`closed`
  // says why), unless one went out for this certificate less than kEventInterval ago (false).
  bool announce(const registry::Certificate& certificate, const std::string& source_ip,
                const std::string& closed);
  broker::AuthDecision pending(const registry::Certificate& certificate,
                               const std::string& source_ip);
  // JITP (developer guide, "Just-in-time provisioning"): a PENDING_ACTIVATION certificate of a CA
  // whose registration config carries a template. The registration event goes out as for JITR,
  // the template provisions thing, policy and certificate (ACTIVE) before this returns, and the
  // connection is closed without CONNACK as AWS closes a device's first connect; the device's
  // next connect is accepted. A failed provisioning leaves the certificate PENDING_ACTIVATION
  // (the Provisioner writes nothing) and the next connect tries again.
  broker::AuthDecision provision_just_in_time(const registry::Certificate& certificate,
                                              const std::string& template_body,
                                              const std::string& source_ip);
  // JITR's first step for an unknown certificate `id` (leaf) of the ACTIVE, auto-registering `ca`:
  // the PENDING_ACTIVATION record, durable, then the registration event (or JITP). Blocks for the
  // group commit: run as a deferred decision, off the network threads.
  broker::AuthDecision register_unknown(const std::string& id, X509* leaf,
                                        const registry::CaCertificate& ca,
                                        const std::string& source_ip);
  // The template a CA's registration config names (templateBody, or templateName's stored
  // template); "" when the CA has none (JITR).
  std::string jitp_template(const std::string& ca_id);
  crypto::UniquePtr<X509_STORE> build_trust_store();

  // Shared with the registry's change listener, which may outlive this authenticator.
  struct TrustCache {
    std::mutex mutex;
    crypto::UniquePtr<X509_STORE> store;
    uint64_t generation = 0;  // bumped by every change of the anchors
    // Certificates registered without a CA that were anchors of a store built so far (a change
    // of one drops the store; kept small: only ever-anchored ids).
    std::set<std::string> leaf_anchors;
  };
  // Whether a certificate change changes the anchors (a certificate registered without a CA
  // became ACTIVE, or one that was an anchor changed).
  static bool affects_anchors(TrustCache& cache, registry::Registry& registry,
                              const registry::Change& change);
  // A refused connect of a known certificate id, for the device's timeline (queued, never blocks).
  broker::AuthDecision refused(const std::string& certificate_id, std::string reason);

  registry::Registry& registry_;
  AccountInfo account_;
  EndpointNames endpoint_;
  std::atomic<int64_t> last_sni_warning_ms_{0};  // one warning per 10 s: a flood cannot fill logs
  std::atomic<uint64_t> refused_sni_{0};
  crypto::X509Ptr cloud_issuer_;
  EventPublisher publish_;
  std::shared_ptr<TrustCache> trust_ = std::make_shared<TrustCache>();
  events::EventRecorder* recorder_;
  jitr::RecentKeyIds* key_ids_;
  std::shared_ptr<CaCache> cas_;
  provisioning::Provisioner provisioner_;  // JITP: no pre-provisioning hook
  Clock clock_ = [] { return std::chrono::steady_clock::now(); };
  broker::IntervalLimit registration_events_{kEventInterval};  // per certificate id
  broker::IntervalLimit refusal_records_{kEventInterval};      // per certificate id
};

// A certificate registered without a CA (RegisterCertificateWithoutCA: SNI_ONLY, no CA id) that
// is ACTIVE: the broker trusts it as its own anchor.
bool is_own_anchor(const registry::Certificate& certificate);

// The §3 registration event payload.
std::string registration_event(const registry::Certificate& certificate,
                               const std::string& account_id, const std::string& source_ip,
                               int64_t now_ms);

class PolicyAuthorizer final : public broker::Authorizer {
 public:
  // `cas`: the authenticator's CA cache (RegistryAuthenticator::ca_cache), so a connect reads its
  // CA once for both; null: a cache of its own.
  PolicyAuthorizer(registry::Registry& registry, AccountInfo account,
                   std::chrono::milliseconds cache_ttl = std::chrono::milliseconds(1000),
                   std::shared_ptr<CaCache> cas = nullptr);
  // iot:Connect is also refused when the certificate is no longer ACTIVE (or its CA is not): a
  // revocation committed between the TLS handshake and the CONNECT must not let the client in.
  bool allow(broker::Action action, std::string_view resource,
             const broker::ClientContext& client) override;
  // Forget cached policies (after a policy or certificate change).
  void invalidate();
  void invalidate(const std::string& principal);
  size_t cached_entries();

 private:
  struct Entry {
    bool active = false;  // the certificate and its CA (if registered) are ACTIVE
    std::vector<policy::Policy> policies;
    policy::RequestContext context;
    std::chrono::steady_clock::time_point expires;
  };
  Result<Entry> load(const broker::ClientContext& client);
  // Adds the policies of the thing's groups (and their ancestors) not in `documents` yet.
  Status add_thing_group_policies(const std::string& thing_name,
                                  std::vector<registry::Policy>& documents);
  // Drops expired entries once the cache has doubled since the last sweep (under mutex_), so it
  // holds about the clients seen within one TTL, not every (certificate, client id) ever seen: a
  // client cycling client ids cannot grow it without bound.
  void sweep_expired(std::chrono::steady_clock::time_point now);

  registry::Registry& registry_;
  AccountInfo account_;
  std::shared_ptr<CaCache> cas_;
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  // (principal, client id) -> entry; shared so a check copies a pointer, not the parsed policies.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const Entry>> cache_;
  size_t sweep_at_ = kFirstSweep;
  static constexpr size_t kFirstSweep = 1024;
};

}  // namespace zt::cloud::service
