#include "cloud/service/fleet_provisioning_tokens.hpp"

#include "common/bytes.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::service::fleet {
namespace {

std::string digest_of(std::string_view token) {
  auto digest =
      crypto::sha256(ByteView(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
  return std::string(digest.begin(), digest.end());
}

}  // namespace

const char* OwnershipTokens::message(Refusal refusal) {
  switch (refusal) {
    case Refusal::unknown:
      return "Certificate ownership token is invalid.";
    case Refusal::used:
      return "Certificate ownership token has already been used.";
    case Refusal::expired:
      return "Certificate ownership token has expired.";
    case Refusal::other_owner:
      return "Certificate ownership token was not issued to this client's certificate.";
  }
  return "Certificate ownership token is invalid.";
}

void OwnershipTokens::sweep_locked(SteadyTime now, bool drop_spent) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& entry = it->second;
    bool expired = entry.expires <= now;
    if (expired && !entry.used && !entry.reported) {
      expired_unused_.push_back(entry.grant);
      entry.reported = true;
    }
    // Used and expired tokens are kept one more lifetime, so a late retry hears why it fails.
    bool spent = entry.used || expired;
    if ((spent && drop_spent) || entry.expires + kLifetime <= now) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<std::string> OwnershipTokens::issue(const std::string& certificate_id,
                                                  const std::string& owner) {
  Bytes random = crypto::random_bytes(48);
  std::string token = base64_encode(random);
  secure_zero(random.data(), random.size());
  std::lock_guard lock(mutex_);
  SteadyTime now = clock_();
  if (entries_.size() >= kMaxOutstanding) sweep_locked(now, /*drop_spent=*/true);
  if (entries_.size() >= kMaxOutstanding) return std::nullopt;
  std::string digest = digest_of(token);
  entries_[digest] = Entry{.grant = {.certificate_id = certificate_id, .owner = owner},
                           .digest = digest,
                           .expires = now + kLifetime};
  return token;
}

std::variant<OwnershipTokens::Grant, OwnershipTokens::Refusal> OwnershipTokens::consume(
    std::string_view token, std::string_view owner) {
  std::string digest = digest_of(token);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(digest);
  // The map finds by digest; the secret-dependent comparison is the digests', in constant time.
  if (it == entries_.end() || !constant_time_equal(to_bytes(it->second.digest), to_bytes(digest)))
    return Refusal::unknown;
  Entry& entry = it->second;
  if (entry.used) return Refusal::used;
  if (entry.expires <= clock_()) return Refusal::expired;
  if (entry.grant.owner != owner) return Refusal::other_owner;
  entry.used = true;
  return entry.grant;
}

std::vector<OwnershipTokens::Grant> OwnershipTokens::take_expired() {
  std::lock_guard lock(mutex_);
  sweep_locked(clock_(), /*drop_spent=*/false);
  return std::exchange(expired_unused_, {});
}

size_t OwnershipTokens::outstanding() const {
  std::lock_guard lock(mutex_);
  SteadyTime now = clock_();
  size_t count = 0;
  for (const auto& [digest, entry] : entries_) count += !entry.used && entry.expires > now;
  return count;
}

}  // namespace zt::cloud::service::fleet
