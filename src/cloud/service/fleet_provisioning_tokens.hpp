// certificateOwnershipToken (AWS IoT developer guide, "Device provisioning MQTT API"): the proof,
// handed out with a certificate by CreateKeysAndCertificate / CreateCertificateFromCsr, that the
// device calling RegisterThing is the one that received that certificate. AWS: "the
// certificateOwnershipToken … expires after one hour. RegisterThing must be called before the
// certificateOwnershipToken expires."
//
// Here a token is 48 random bytes (base64), bound to the new certificate and to the certificate
// of the connection that asked for it (the claim), good for one RegisterThing within the hour.
// Only the SHA-256 of a token is kept; a presented token is found by its digest and the digests
// are compared with constant_time_equal. Tokens live in memory: a restarted cloud forgets them
// (the device then starts over with CreateKeysAndCertificate, as after an expiry).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/time.hpp"

namespace zt::cloud::service::fleet {

class OwnershipTokens {
 public:
  static constexpr std::chrono::seconds kLifetime{3600};
  // Outstanding tokens at most (a claim certificate looping on CreateKeysAndCertificate cannot
  // grow this without bound); beyond it issue() refuses until some expire or are used.
  static constexpr size_t kMaxOutstanding = 10'000;

  struct Grant {
    std::string certificate_id;  // the certificate the token was issued with
    std::string owner;           // the certificate id of the connection that asked for it
  };
  // Why a token is refused; every case is AWS's InvalidCertificateOwnershipToken.
  enum class Refusal { unknown, used, expired, other_owner };

  explicit OwnershipTokens(SteadyClock clock = steady_now) : clock_(std::move(clock)) {}

  // A new token for `certificate_id`, asked for over a connection authenticated as `owner`;
  // nullopt when kMaxOutstanding tokens are outstanding.
  std::optional<std::string> issue(const std::string& certificate_id, const std::string& owner);
  // The token's grant, which it uses up. Refused when the token was never issued, was used
  // already, has expired, or was issued to another connection's certificate (then it stays
  // usable by its owner).
  std::variant<Grant, Refusal> consume(std::string_view token, std::string_view owner);
  // The grants whose tokens expired unused since the last call (AWS deletes such certificates when
  // they are still not activated and not attached).
  std::vector<Grant> take_expired();
  // Tokens issued, not used and not expired.
  size_t outstanding() const;

  static const char* message(Refusal refusal);

 private:
  struct Entry {
    Grant grant;
    std::string digest;  // SHA-256 of the token (raw bytes)
    SteadyTime expires;
    bool used = false;
    bool reported = false;  // expired unused and handed to take_expired()
  };
  // Reports newly expired unused tokens; forgets tokens a lifetime past their expiry, and every
  // used or expired one when `drop_spent` (issue() at the bound).
  void sweep_locked(SteadyTime now, bool drop_spent);

  SteadyClock clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // digest → entry
  std::vector<Grant> expired_unused_;
};

}  // namespace zt::cloud::service::fleet
