#include "cloud/console/session.hpp"

#include <nlohmann/json.hpp>

#include "common/hex.hpp"
#include "common/json.hpp"
#include "crypto/digest.hpp"

namespace zt::cloud::console {

std::string SessionStore::key_of(std::string_view token) {
  auto digest = crypto::sha256(as_bytes(token));
  return to_hex(ByteView(digest.data(), digest.size()));
}

void SessionStore::prune(std::map<std::string, Clock::time_point>& map, Clock::time_point now,
                         size_t max) {
  std::erase_if(map, [now](const auto& entry) { return entry.second <= now; });
  // Still full: the entry closest to expiry goes (the oldest, as all share one lifetime).
  while (map.size() >= max) {
    auto oldest = map.begin();
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->second < oldest->second) oldest = it;
    }
    map.erase(oldest);
  }
}

std::string SessionStore::create_session(Clock::time_point now) {
  std::string token = to_hex(crypto::random_bytes(32));
  std::lock_guard lock(mutex_);
  prune(sessions_, now, max_sessions_);
  sessions_[key_of(token)] = now + kSessionLifetime;
  return token;
}

bool SessionStore::valid_session(std::string_view token, Clock::time_point now) {
  if (token.size() != 64) return false;
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(key_of(token));
  if (found == sessions_.end()) return false;
  if (found->second <= now) {
    sessions_.erase(found);
    return false;
  }
  return true;
}

void SessionStore::end_session(std::string_view token) {
  std::lock_guard lock(mutex_);
  sessions_.erase(key_of(token));
}

std::string SessionStore::create_login_token(Clock::time_point now) {
  std::string token = to_hex(crypto::random_bytes(32));
  std::lock_guard lock(mutex_);
  prune(links_, now, max_links_);
  links_[key_of(token)] = now + kLoginLinkLifetime;
  return token;
}

bool SessionStore::redeem_login_token(std::string_view token, Clock::time_point now) {
  if (token.size() != 64) return false;
  std::lock_guard lock(mutex_);
  auto found = links_.find(key_of(token));
  if (found == links_.end()) return false;
  bool fresh = found->second > now;
  links_.erase(found);  // one use, even when late
  return fresh;
}

size_t SessionStore::session_count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    while (!pair.empty() && (pair.back() == ' ' || pair.back() == '\t')) pair.remove_suffix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return std::nullopt;
}

std::string session_cookie(std::string_view token) {
  return std::string(kSessionCookie) + "=" + std::string(token) +
         "; HttpOnly; SameSite=Strict; Path=/console; Max-Age=" +
         std::to_string(std::chrono::seconds(kSessionLifetime).count());
}

std::string expired_session_cookie() {
  return std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0";
}

std::optional<LoginCredentials> parse_login_body(std::string_view body, std::string& error) {
  nlohmann::json parsed = parse_json(body).value_or(nlohmann::json());
  if (!parsed.is_object()) {
    error = "the login body must be a JSON object {\"accessKeyId\", \"secretAccessKey\"}";
    return std::nullopt;
  }
  LoginCredentials out;
  for (auto [name, target] : {std::pair{"accessKeyId", &out.access_key_id},
                              std::pair{"secretAccessKey", &out.secret_access_key}}) {
    auto member = parsed.find(name);
    if (member == parsed.end() || !member->is_string() ||
        member->get_ref<const std::string&>().empty()) {
      error = std::string(name) + " is missing or not a string";
      return std::nullopt;
    }
    if (member->get_ref<const std::string&>().size() > 128) {
      error = std::string(name) + " is longer than 128 characters";
      return std::nullopt;
    }
    *target = member->get<std::string>();
  }
  return out;
}

bool safe_next_path(std::string_view next) {
  if (!next.starts_with("/console/")) return false;
  for (char c : next) {
    // No backslashes (some browsers read them as '/'), no control characters or spaces.
    if (c == '\\' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
  }
  return next.find("//") == std::string_view::npos;
}

}  // namespace zt::cloud::console
