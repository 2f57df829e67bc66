// The built-in JITR function: the seed's ZTLambdaJITR (reference/kit.md) plus AttachThingPrincipal,
// run against the control plane through a narrow interface (the local registry in-process, or any
// other implementation of it). Thing name = MQTT client id = lowercase hex SubjectKeyIdentifier.
#pragma once

#include <nlohmann/json.hpp>

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/result.hpp"

namespace zt::cloud::jitr {

inline constexpr const char* kThingTypeName = "microchip-zero-touch-kit";
inline constexpr const char* kPolicyPrefix = "ZTPolicy_";
inline constexpr const char* kPendingActivation = "PENDING_ACTIVATION";

// The calls the function makes, named after the AWS operations. Implementations report an existing
// resource with Errc::already_exists (the function treats that as success where the seed does).
struct CertificateDescription {
  std::string pem;
  std::string status;  // ACTIVE, PENDING_ACTIVATION, REVOKED, …
};

class ControlPlane {
 public:
  virtual ~ControlPlane() = default;
  virtual Result<CertificateDescription> describe_certificate(
      const std::string& certificate_id) = 0;
  virtual Status create_thing_type(const std::string& name) = 0;
  virtual Status create_thing(const std::string& name, const std::string& thing_type) = 0;
  virtual Status create_policy(const std::string& name, const std::string& document) = 0;
  virtual Status attach_principal_policy(const std::string& policy_name,
                                         const std::string& principal_arn) = 0;
  virtual Status attach_thing_principal(const std::string& thing_name,
                                        const std::string& principal_arn) = 0;
  virtual Status activate_certificate(const std::string& certificate_id) = 0;
};

struct Registration {
  std::string certificate_id;
  std::string thing_name;
  std::string policy_name;
};

// The seed's policy, scoped to this region/account, with ${iot:ClientId} variables (kit.md).
std::string zero_touch_policy_document(const std::string& region, const std::string& account_id,
                                       const std::string& thing_name);

// SubjectKeyIdentifiers (lowercase hex) of certificates the broker registered PENDING_ACTIVATION a
// moment ago, noted from the certificate it parsed in the handshake, so that the function need not
// parse the stored PEM again (OpenSSL 3 decodes the public key in every parse: 7 % of `ztp cloud
// run`'s CPU during registrations, perf, issue 19). Bounded: the oldest are dropped; a certificate
// not found here is parsed.
class RecentKeyIds {
 public:
  void note(const std::string& certificate_id, std::string key_id_hex);
  std::optional<std::string> find(const std::string& certificate_id) const;
  static constexpr size_t kMaxEntries = 1024;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> by_id_;
  std::deque<std::string> order_;  // oldest first
};

// Runs the function on a `$aws/events/certificates/registered/<caId>` event. Every step is
// idempotent, so a retried invocation completes a half-done registration. An event is not a
// capability: only a certificate that is PENDING_ACTIVATION now is registered and activated; any
// other state (REVOKED, INACTIVE, ACTIVE, …) fails with Errc::conflict and changes nothing, so a
// forged event cannot bring a revoked certificate back (the API refuses REVOKED → ACTIVE too).
// `recent`: where the broker noted key ids (optional).
Result<Registration> register_device(const nlohmann::json& event, const std::string& region,
                                     ControlPlane& plane, const RecentKeyIds* recent = nullptr);

}  // namespace zt::cloud::jitr
