#include "cloud/service/auth.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "broker/trust.hpp"
#include "cloud/api/handler_util.hpp"
#include "common/hex.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud::service {
namespace {

// JITP's rows on the device timeline (the console names them): the CA's template provisioned the
// device at its first connect, or failed (the certificate stays PENDING_ACTIVATION).
constexpr const char* kJitpProvisioned = "jitp-provisioned";
constexpr const char* kJitpFailed = "jitp-failed";

using broker::AuthDecision;
using broker::AuthOutcome;

AuthDecision refuse(std::string reason) {
  return AuthDecision{
      .outcome = AuthOutcome::reject, .principal = {}, .reason = std::move(reason), .context = {}};
}

// §5 certificate variables: attribute name in the policy → OpenSSL short name.
constexpr std::pair<const char*, const char*> kNameVariables[] = {
    {"CommonName", "CN"},
    {"Country", "C"},
    {"Organization", "O"},
    {"OrganizationalUnit", "OU"},
    {"State", "ST"},
    {"SerialNumber", "serialNumber"},
    {"Title", "title"},
    {"Surname", "SN"},
    {"GivenName", "GN"},
    {"Initials", "initials"},
    {"Pseudonym", "pseudonym"},
    {"GenerationQualifier", "generationQualifier"},
    {"DistinguishedNameQualifier", "dnQualifier"},
};

std::map<std::string, std::string> certificate_variables(const X509* certificate) {
  std::map<std::string, std::string> variables;
  for (const auto& [prefix, name] : {std::pair{"Subject.", X509_get_subject_name(certificate)},
                                     std::pair{"Issuer.", X509_get_issuer_name(certificate)}}) {
    for (const auto& [attribute, field] : kNameVariables) {
      std::string value = crypto::name_entry(name, field);
      if (!value.empty()) variables[std::string(prefix) + attribute] = value;
    }
  }
  variables["SerialNumber"] = to_hex(crypto::certificate_serial(certificate));
  return variables;
}

// What the authorizer needs of an accepted certificate (a refused connect does not build it).
std::shared_ptr<const void> identity_of(const std::string& id, const X509* certificate) {
  auto made = std::make_shared<CertificateIdentity>();
  made->certificate_id = id;
  made->variables = certificate_variables(certificate);
  return made;
}

AuthDecision deferred(std::function<AuthDecision()> work) {
  return AuthDecision{.outcome = AuthOutcome::deferred,
                      .principal = {},
                      .reason = {},
                      .context = {},
                      .deferred = std::move(work)};
}

}  // namespace

CaCache::CaCache(registry::Registry& registry) : registry_(registry) {
  registry_.add_change_listener(
      [weak = std::weak_ptr<Shared>(shared_)](const std::vector<registry::Change>& changes) {
        auto shared = weak.lock();
        if (!shared) return;
        for (const auto& change : changes) {
          if (change.kind != registry::Change::Kind::ca) continue;
          std::lock_guard lock(shared->mutex);
          shared->entries.clear();
          ++shared->generation;
          return;
        }
      });
}

Result<std::optional<registry::CaCertificate>> CaCache::find(const std::string& id) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(shared_->mutex);
    if (auto it = shared_->entries.find(id); it != shared_->entries.end()) return it->second;
    generation = shared_->generation;
  }
  ZT_TRY_ASSIGN(auto ca, registry_.find_ca(id));
  std::lock_guard lock(shared_->mutex);
  if (shared_->generation == generation) {
    if (shared_->entries.size() >= kMaxEntries) shared_->entries.clear();
    shared_->entries.emplace(id, ca);
  }
  return ca;
}

bool is_own_anchor(const registry::Certificate& certificate) {
  return !certificate.ca_id && certificate.certificate_mode == "SNI_ONLY" &&
         certificate.status == registry::kActive;
}

std::string registration_event(const registry::Certificate& certificate,
                               const std::string& account_id, const std::string& source_ip,
                               int64_t now) {
  // reference/aws-iot.md §3 step 3: timestamp is a number (ms), the registration time a string
  // (ms).
  nlohmann::json event = {
      {"certificateId", certificate.id},
      {"caCertificateId", certificate.ca_id.value_or("")},
      {"timestamp", now},
      {"certificateStatus", certificate.status},
      {"awsAccountId", account_id},
      {"certificateRegistrationTimestamp",
       std::to_string(static_cast<int64_t>(certificate.creation_date * 1000))},
      {"sourceIp", source_ip},
  };
  return event.dump();
}

RegistryAuthenticator::RegistryAuthenticator(registry::Registry& registry, AccountInfo account,
                                             EndpointNames endpoint, const X509* cloud_issuer,
                                             EventPublisher publish,
                                             events::EventRecorder* recorder,
                                             jitr::RecentKeyIds* key_ids)
    : registry_(registry),
      account_(std::move(account)),
      endpoint_(std::move(endpoint)),
      publish_(std::move(publish)),
      recorder_(recorder),
      key_ids_(key_ids),
      cas_(std::make_shared<CaCache>(registry)),
      provisioner_(registry, account_.account_id, account_.region, nullptr, recorder) {
  if (cloud_issuer) {
    X509_up_ref(const_cast<X509*>(cloud_issuer));
    cloud_issuer_.reset(const_cast<X509*>(cloud_issuer));
  }
  registry_.add_change_listener([weak = std::weak_ptr<TrustCache>(trust_), registry = &registry_](
                                    const std::vector<registry::Change>& changes) {
    auto cache = weak.lock();
    if (!cache) return;
    for (const auto& change : changes) {
      if (change.kind == registry::Change::Kind::certificate &&
          !affects_anchors(*cache, *registry, change))
        continue;
      std::lock_guard lock(cache->mutex);
      cache->store.reset();
      ++cache->generation;
      return;
    }
  });
}

bool RegistryAuthenticator::affects_anchors(TrustCache& cache, registry::Registry& registry,
                                            const registry::Change& change) {
  {
    std::lock_guard lock(cache.mutex);
    if (cache.leaf_anchors.contains(change.id)) return true;  // deactivated, revoked or deleted
  }
  if (change.status != registry::kActive) return false;
  auto certificate = registry.find_certificate(change.id);
  return certificate && *certificate && is_own_anchor(**certificate);
}

crypto::UniquePtr<X509_STORE> RegistryAuthenticator::trust_store() {
  // Asked on every handshake; a CA registered or deactivated a moment ago applies to the next one
  // because its commit dropped the cached store.
  uint64_t generation = 0;
  {
    std::lock_guard lock(trust_->mutex);
    if (trust_->store) {
      X509_STORE_up_ref(trust_->store.get());
      return crypto::UniquePtr<X509_STORE>(trust_->store.get());
    }
    generation = trust_->generation;
  }
  auto store = build_trust_store();
  std::lock_guard lock(trust_->mutex);
  // Kept only if no CA changed while it was being built (otherwise the next handshake rebuilds).
  if (store && trust_->generation == generation && !trust_->store) {
    X509_STORE_up_ref(store.get());
    trust_->store.reset(store.get());
  }
  return store;
}

crypto::UniquePtr<X509_STORE> RegistryAuthenticator::build_trust_store() {
  std::vector<crypto::X509Ptr> anchors;
  if (cloud_issuer_) {
    X509_up_ref(cloud_issuer_.get());
    anchors.emplace_back(cloud_issuer_.get());
  }
  if (auto cas = registry_.list_active_cas(); cas) {
    for (const auto& ca : *cas) {
      if (auto cert = crypto::certificate_from_pem(ca.pem, "CA certificate"); cert)
        anchors.push_back(std::move(*cert));
    }
  } else {
    spdlog::error("broker: listing active CAs: {}", cas.error().message);
  }
  // Multi-account registration: no registered CA vouches for a certificate registered without
  // one, so the certificate itself is the anchor (X509_V_FLAG_PARTIAL_CHAIN accepts a trusted
  // leaf). authenticate() still checks its status and that the client sent SNI.
  std::set<std::string> leaves;
  // Read page by page (the registry has no index on a certificate's CA): a rebuild follows only a
  // CA change or a change of such a certificate, never a JITR activation.
  registry::PageRequest page{.after = {}, .limit = 250, .ascending = true};
  while (true) {
    auto certificates = registry_.list_certificates(page);
    if (!certificates) {
      spdlog::error("broker: listing certificates registered without a CA: {}",
                    certificates.error().message);
      break;
    }
    for (const auto& certificate : certificates->items) {
      if (!is_own_anchor(certificate)) continue;
      if (auto cert = crypto::certificate_from_pem(certificate.pem, "certificate"); cert) {
        anchors.push_back(std::move(*cert));
        leaves.insert(certificate.id);
      }
    }
    if (certificates->next_key.empty()) break;
    page.after = certificates->next_key;
  }
  {
    std::lock_guard lock(trust_->mutex);
    trust_->leaf_anchors.insert(leaves.begin(), leaves.end());
  }
  broker::TrustAnchorSet set;
  if (auto replaced = set.replace(anchors); !replaced)
    spdlog::error("broker: trust store: {}", replaced.error().message);
  return set.store();
}

AuthDecision RegistryAuthenticator::refused(const std::string& certificate_id, std::string reason) {
  // One timeline row per second per certificate: a refused device that keeps handshaking must not
  // grow device_events without bound.
  if (recorder_ && refusal_records_.admit(certificate_id, clock_())) {
    recorder_->record(certificate_id, events::kConnectRefused, reason);
  }
  return refuse(std::move(reason));
}

bool RegistryAuthenticator::announce(const registry::Certificate& certificate,
                                     const std::string& source_ip, const std::string& closed) {
  if (!registration_events_.admit(certificate.id, clock_())) return false;
  std::string topic = "$aws/events/certificates/registered/" + certificate.ca_id.value_or("");
  int64_t now = unix_now_ms();
  if (recorder_) {
    recorder_->record(certificate.id, events::kConnectRefused,
                      closed + " (from " + source_ip + ")");
    recorder_->record(certificate.id, events::kRegistrationEvent, "published " + topic);
  }
  publish_(std::move(topic), registration_event(certificate, account_.account_id, source_ip, now));
  return true;
}

AuthDecision RegistryAuthenticator::pending(const registry::Certificate& certificate,
                                            const std::string& source_ip) {
  bool announced = announce(certificate, source_ip, "PENDING_ACTIVATION: closed without CONNACK");
  return AuthDecision{.outcome = AuthOutcome::close_without_connack,
                      .principal = certificate.id,
                      .reason = "certificate " + certificate.id +
                                (announced ? " is PENDING_ACTIVATION (JITR event published)"
                                           : " is PENDING_ACTIVATION (registration event "
                                             "throttled: one per second per certificate)"),
                      .context = {}};
}

std::string RegistryAuthenticator::jitp_template(const std::string& ca_id) {
  auto ca = cas_->find(ca_id);
  if (!ca || !*ca) return {};
  auto config = nlohmann::json::parse((*ca)->registration_config, nullptr, false);
  if (!config.is_object()) return {};
  if (auto body = config.find("templateBody"); body != config.end() && body->is_string())
    return body->get<std::string>();
  // templateName: that provisioning template's default version, while the template is enabled.
  auto name = config.find("templateName");
  if (name == config.end() || !name->is_string()) return {};
  auto stored = registry_.find_provisioning_template(name->get<std::string>());
  if (!stored || !*stored || !(*stored)->enabled) return {};
  auto version =
      registry_.find_provisioning_template_version((*stored)->name, (*stored)->default_version_id);
  if (!version || !*version) return {};
  return (*version)->body;
}

AuthDecision RegistryAuthenticator::provision_just_in_time(const registry::Certificate& certificate,
                                                           const std::string& template_body,
                                                           const std::string& source_ip) {
  // The registration event and its throttle as for JITR: a device retrying in a tight loop gets
  // one provisioning attempt per second.
  AuthDecision decision{.outcome = AuthOutcome::close_without_connack,
                        .principal = certificate.id,
                        .reason = "certificate " + certificate.id +
                                  " is PENDING_ACTIVATION (JITP attempt throttled: one per "
                                  "second per certificate)",
                        .context = {}};
  if (!announce(certificate, source_ip,
                "JITP: the first connect is closed without CONNACK while the CA's template "
                "provisions the device"))
    return decision;
  auto outcome = provisioner_.provision({.template_body = template_body,
                                         .template_name = {},
                                         .pre_provisioning_hook = {},
                                         .parameters = nlohmann::json::object(),
                                         .certificate_id = certificate.id,
                                         .client_id = {}});
  if (auto* error = std::get_if<provisioning::ProvisioningError>(&outcome)) {
    spdlog::warn("jitp: provisioning certificate {} failed: {} {}", certificate.id, error->code,
                 error->message);
    if (recorder_) {
      recorder_->record(certificate.id, kJitpFailed,
                        error->code + ": " + error->message + " (still PENDING_ACTIVATION)");
    }
    decision.reason = "certificate " + certificate.id +
                      " is PENDING_ACTIVATION (JITP failed: " + error->code + ")";
    return decision;
  }
  const auto& provisioned = std::get<provisioning::ProvisionOutcome>(outcome);
  spdlog::info("jitp: certificate {} ACTIVE, thing {}", certificate.id,
               provisioned.thing_name.empty() ? "(none)" : provisioned.thing_name);
  if (recorder_) {
    recorder_->record(certificate.id, kJitpProvisioned,
                      (provisioned.thing_name.empty() ? std::string("no thing")
                                                      : "thing " + provisioned.thing_name) +
                          "; first connect closed without CONNACK, as AWS does");
  }
  decision.reason = "certificate " + certificate.id +
                    " provisioned by JITP (the first connect is closed; the next one is accepted)";
  return decision;
}

bool RegistryAuthenticator::accept_server_name(std::string_view server_name,
                                               std::string_view local_address,
                                               std::string_view remote_address) {
  if (endpoint_.accepts(server_name, local_address)) return true;
  // A domain configuration's name, accepted while it is ENABLED ("DISABLED: the domain
  // configuration's endpoint does not accept connections", API reference, DomainConfiguration).
  auto configured = registry_.find_domain_configuration_by_domain(server_name.substr(0, 253));
  if (configured && *configured) {
    if ((*configured)->status == "ENABLED") return true;
    spdlog::info(
        "broker: TLS from {} refused (alert unrecognized_name): domain configuration {} "
        "is {}",
        remote_address, (*configured)->name, (*configured)->status);
    return false;
  }
  // A device given a wrong endpoint name retries for ever: warn, but not once per attempt.
  uint64_t refused = ++refused_sni_;
  int64_t now = unix_now_ms();
  int64_t last = last_sni_warning_ms_.load();
  if (now - last >= 10'000 && last_sni_warning_ms_.compare_exchange_strong(last, now)) {
    spdlog::warn(
        "broker: TLS from {} refused (alert unrecognized_name): SNI '{}' is not this endpoint; "
        "it accepts {} ({} refused so far)",
        remote_address, std::string(server_name.substr(0, 255)), endpoint_.accepted_list(),
        refused);
  }
  return false;
}

std::optional<broker::Authenticator::ServerIdentity> RegistryAuthenticator::server_identity(
    std::string_view server_name) {
  auto configured = registry_.find_domain_configuration_by_domain(server_name.substr(0, 253));
  if (!configured || !*configured || (*configured)->status != "ENABLED" ||
      (*configured)->certificate_pem.empty())
    return std::nullopt;
  return ServerIdentity{.chain_pem = (*configured)->certificate_pem,
                        .key_pem = (*configured)->key_pem};
}

AuthDecision RegistryAuthenticator::authenticate(const broker::PeerCertificate& peer) {
  // The server name was judged in the handshake (accept_server_name). Reads only, on the network
  // thread; what writes (a JITR registration, a JITP provisioning) is deferred to the broker's
  // blocking threads, so the fsync it waits for does not hold up other devices' handshakes.
  auto id = broker::certificate_id(peer.certificate.get());
  if (!id) return refuse(id.error().message);
  auto known = registry_.find_certificate(*id);
  if (!known) return refuse(known.error().message);

  if (*known) {
    const registry::Certificate& certificate = **known;
    // AWS: "Devices with certificates in SNI_ONLY mode must send the SNI extension" (API
    // Certificate.certificateMode).
    if (certificate.certificate_mode == "SNI_ONLY" && peer.server_name.empty())
      return refused(*id, "certificate " + *id + " is SNI_ONLY: the client must send SNI");
    if (certificate.ca_id) {
      auto ca = cas_->find(*certificate.ca_id);
      if (!ca || !*ca || (*ca)->status != registry::kActive)
        return refused(*id, "the certificate's CA is not ACTIVE");
    }
    if (certificate.status == registry::kActive) {
      return AuthDecision{.outcome = AuthOutcome::accept,
                          .principal = *id,
                          .reason = {},
                          .context = identity_of(*id, peer.certificate.get())};
    }
    if (certificate.status == registry::kPendingActivation) {
      if (std::string body = certificate.ca_id ? jitp_template(*certificate.ca_id) : "";
          !body.empty()) {
        return deferred(
            [this, certificate, body = std::move(body), source_ip = peer.remote_address] {
              return provision_just_in_time(certificate, body, source_ip);
            });
      }
      return pending(certificate, peer.remote_address);
    }
    return refused(*id, "certificate " + *id + " is " + certificate.status);
  }

  // Unknown certificate: JITR applies when the chain reached a registered ACTIVE CA with
  // auto-registration (§3). The first registered certificate above the leaf is its CA.
  std::optional<registry::CaCertificate> ca;
  for (size_t i = 1; i < peer.verified_chain.size() && !ca; ++i) {
    auto ca_id = broker::certificate_id(peer.verified_chain[i].get());
    if (!ca_id) continue;
    if (auto found = cas_->find(*ca_id); found && *found) ca = **found;
  }
  // Unregistered certificates are not recorded: anyone can present one, and the fleet view lists
  // registered devices only.
  if (!ca) return refuse("certificate " + *id + " is not registered");
  if (ca->status != registry::kActive) return refuse("CA " + ca->id + " is not ACTIVE");
  if (ca->auto_registration != "ENABLE")
    return refuse("CA " + ca->id + " does not allow auto-registration");
  X509_up_ref(peer.certificate.get());
  return deferred([this, id = *id,
                   certificate = std::shared_ptr<X509>(peer.certificate.get(), X509_free),
                   ca = std::move(*ca), source_ip = peer.remote_address] {
    return register_unknown(id, certificate.get(), ca, source_ip);
  });
}

AuthDecision RegistryAuthenticator::register_unknown(const std::string& id, X509* leaf,
                                                     const registry::CaCertificate& ca,
                                                     const std::string& source_ip) {
  auto pem = crypto::certificate_to_pem(leaf);
  auto not_before = crypto::certificate_not_before(leaf);
  auto not_after = crypto::certificate_not_after(leaf);
  if (!pem || !not_before || !not_after) return refuse("cannot read the client certificate");
  double now = api::now_seconds();
  registry::Certificate record{.id = id,
                               .pem = *pem,
                               .ca_id = ca.id,
                               .status = registry::kPendingActivation,
                               .certificate_mode = ca.certificate_mode,
                               .creation_date = now,
                               .last_modified = now,
                               .customer_version = 1,
                               .generation_id = to_hex(crypto::random_bytes(16)),
                               .not_before = *not_before,
                               .not_after = *not_after};
  // Durable (synchronous=FULL) before the event goes out; committed together with whatever other
  // registrations and JITR functions are being written at the same moment (group commit).
  std::optional<registry::Certificate> registered;
  Status stored = registry_.grouped_transaction([&]() -> Status {
    ZT_TRY_ASSIGN(registered, registry_.register_pending_certificate(record));
    return ok();
  });
  if (!stored) return refuse("registering " + id + ": " + stored.error().message);
  spdlog::info("jitr: registered certificate {} of CA {} as {}", id, ca.id, registered->status);
  if (registered->status == registry::kActive) {  // a concurrent activation won the race
    return AuthDecision{.outcome = AuthOutcome::accept,
                        .principal = id,
                        .reason = {},
                        .context = identity_of(id, leaf)};
  }
  if (registered->status != registry::kPendingActivation)
    return refused(id, "certificate " + id + " is " + registered->status);
  if (key_ids_) {
    if (auto ski = crypto::subject_key_identifier(leaf); ski) key_ids_->note(id, to_hex(*ski));
  }
  if (std::string body = jitp_template(ca.id); !body.empty())
    return provision_just_in_time(*registered, body, source_ip);
  return pending(*registered, source_ip);
}

PolicyAuthorizer::PolicyAuthorizer(registry::Registry& registry, AccountInfo account,
                                   std::chrono::milliseconds cache_ttl,
                                   std::shared_ptr<CaCache> cas)
    : registry_(registry),
      account_(std::move(account)),
      cas_(cas ? std::move(cas) : std::make_shared<CaCache>(registry)),
      ttl_(cache_ttl) {}

void PolicyAuthorizer::invalidate() {
  std::lock_guard lock(mutex_);
  cache_.clear();
}

void PolicyAuthorizer::invalidate(const std::string& principal) {
  std::lock_guard lock(mutex_);
  for (auto it = cache_.lower_bound({principal, ""});
       it != cache_.end() && it->first.first == principal;)
    it = cache_.erase(it);
}

// The policies of the thing's groups and of their ancestors apply to its certificate (developer
// guide, "Static thing groups": "You can attach a policy to a parent group and it is inherited by
// its child groups, and by all of the things in the group and in its child groups"). The thing is
// the one the connection is for: attached to the certificate and named by the client id, as for
// the thing policy variables.
Status PolicyAuthorizer::add_thing_group_policies(const std::string& thing_name,
                                                  std::vector<registry::Policy>& documents) {
  ZT_TRY_ASSIGN(auto groups, registry_.list_thing_groups_for_thing_with_ancestors(thing_name));
  std::set<std::string> seen;
  for (const auto& document : documents) seen.insert(document.name);
  for (const auto& group : groups) {
    ZT_TRY_ASSIGN(auto stored,
                  registry_.get_policies_for_principal(account_.arn("thinggroup/" + group)));
    for (auto& document : stored) {
      if (seen.insert(document.name).second) documents.push_back(std::move(document));
    }
  }
  return ok();
}

Result<PolicyAuthorizer::Entry> PolicyAuthorizer::load(const broker::ClientContext& client) {
  Entry entry;
  std::string principal_arn = account_.arn("cert/" + client.principal);
  std::vector<registry::Policy> documents;
  std::optional<registry::Thing> thing;
  // The reads in one transaction (one BEGIN/COMMIT instead of one per read, and one consistent
  // view); the policies are parsed after it, without the registry's lock.
  ZT_TRY(registry_.transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto certificate, registry_.find_certificate(client.principal));
    entry.active = certificate && certificate->status == registry::kActive;
    if (entry.active && certificate->ca_id) {
      ZT_TRY_ASSIGN(auto ca, cas_->find(*certificate->ca_id));
      entry.active = ca && ca->status == registry::kActive;
    }
    ZT_TRY_ASSIGN(documents, registry_.get_policies_for_principal(principal_arn));
    // Thing variables only when the client id names a thing attached to this certificate (§5).
    ZT_TRY_ASSIGN(auto things, registry_.list_principal_things(
                                   principal_arn, {.after = {}, .limit = 250, .ascending = true}));
    for (const auto& name : things.items) {
      if (name != client.client_id) continue;
      ZT_TRY_ASSIGN(thing, registry_.find_thing(name));
      if (thing) ZT_TRY(add_thing_group_policies(thing->name, documents));
      break;
    }
    return ok();
  }));
  for (const auto& document : documents) {
    auto parsed = policy::parse_policy(document.document, document.name);
    if (!parsed) {
      spdlog::warn("broker: policy {} does not parse: {}", document.name, parsed.error().message);
      continue;
    }
    entry.policies.push_back(std::move(*parsed));
  }
  entry.context.client_id = client.client_id;
  if (thing) {
    entry.context.thing_name = thing->name;
    entry.context.thing_type_name = thing->type_name;
    auto attributes = nlohmann::json::parse(thing->attributes, nullptr, false);
    if (attributes.is_object()) {
      for (const auto& [key, value] : attributes.items()) {
        if (value.is_string()) entry.context.thing_attributes[key] = value.get<std::string>();
      }
    }
  }
  if (auto identity = std::static_pointer_cast<const CertificateIdentity>(client.auth_context)) {
    entry.context.certificate = identity->variables;
  }
  entry.expires = std::chrono::steady_clock::now() + ttl_;
  return entry;
}

size_t PolicyAuthorizer::cached_entries() {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

void PolicyAuthorizer::sweep_expired(std::chrono::steady_clock::time_point now) {
  if (cache_.size() < sweep_at_) return;
  std::erase_if(cache_, [now](const auto& item) { return item.second->expires <= now; });
  sweep_at_ = std::max(kFirstSweep, 2 * cache_.size());
}

bool PolicyAuthorizer::allow(broker::Action action, std::string_view resource,
                             const broker::ClientContext& client) {
  if (client.principal.empty()) return false;
  auto key = std::pair{client.principal, client.client_id};
  std::shared_ptr<const Entry> entry;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key);
        it != cache_.end() && it->second->expires > std::chrono::steady_clock::now()) {
      entry = it->second;
    }
  }
  if (!entry) {
    auto loaded = load(client);
    if (!loaded) {
      spdlog::error("broker: loading policies of {}: {}", client.principal, loaded.error().message);
      return false;
    }
    entry = std::make_shared<const Entry>(std::move(*loaded));
    std::lock_guard lock(mutex_);
    sweep_expired(std::chrono::steady_clock::now());
    cache_[key] = entry;
  }
  if (action == broker::Action::connect && !entry->active) {
    spdlog::info("broker: iot:Connect denied for {}: certificate {} is no longer ACTIVE",
                 client.client_id, client.principal);
    return false;
  }
  std::string iot_action, arn;
  switch (action) {
    case broker::Action::connect:
      iot_action = "iot:Connect", arn = account_.arn("client/" + std::string(resource));
      break;
    case broker::Action::publish:
      iot_action = "iot:Publish", arn = account_.arn("topic/" + std::string(resource));
      break;
    case broker::Action::retain_publish:
      iot_action = "iot:RetainPublish", arn = account_.arn("topic/" + std::string(resource));
      break;
    case broker::Action::subscribe:
      iot_action = "iot:Subscribe", arn = account_.arn("topicfilter/" + std::string(resource));
      break;
    case broker::Action::receive:
      iot_action = "iot:Receive", arn = account_.arn("topic/" + std::string(resource));
      break;
  }
  auto decision = policy::evaluate(entry->policies, iot_action, arn, entry->context);
  if (decision != policy::Decision::allow && action != broker::Action::receive) {
    spdlog::info("broker: {} {} denied for {} ({})", iot_action, arn, client.client_id,
                 decision == policy::Decision::explicit_deny ? "explicit deny" : "no allow");
  }
  return decision == policy::Decision::allow;
}

}  // namespace zt::cloud::service
