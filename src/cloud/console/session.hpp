// Who may use the web console (there is no open admin UI): whoever knows the local cloud's
// access key pair logs in and gets a session cookie; `ztp interact` (SigV4-signed, i.e. it holds
// the same keys) gets a one-time login link instead. Sessions and links live in memory only: a
// restart of the cloud logs everybody out.
//
// Secrets are never kept as given: the maps are keyed by SHA-256 of the token, so a lookup's
// timing says nothing about how much of a guessed token was right.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace zt::cloud::console {

inline constexpr const char* kSessionCookie = "zt_console";
inline constexpr std::chrono::hours kSessionLifetime{12};
inline constexpr std::chrono::seconds kLoginLinkLifetime{120};

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SessionStore(size_t max_sessions = 1024, size_t max_links = 256)
      : max_sessions_(max_sessions), max_links_(max_links) {}

  // A new session; returns its token (64 hex = 32 random bytes), the cookie value.
  std::string create_session(Clock::time_point now = Clock::now());
  bool valid_session(std::string_view token, Clock::time_point now = Clock::now());
  void end_session(std::string_view token);

  // A one-time login token valid for kLoginLinkLifetime.
  std::string create_login_token(Clock::time_point now = Clock::now());
  // Consumes the token: true once, if it was issued and has not expired.
  bool redeem_login_token(std::string_view token, Clock::time_point now = Clock::now());

  size_t session_count() const;

 private:
  static std::string key_of(std::string_view token);
  static void prune(std::map<std::string, Clock::time_point>& map, Clock::time_point now,
                    size_t max);
  mutable std::mutex mutex_;
  size_t max_sessions_;
  size_t max_links_;
  std::map<std::string, Clock::time_point> sessions_;  // sha256(token) → expiry
  std::map<std::string, Clock::time_point> links_;     // sha256(token) → expiry
};

// The value of cookie `name` in a Cookie header (RFC 6265 §5.4: "a=b; c=d"), or nullopt.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

// The Set-Cookie value for a new session (HttpOnly, SameSite=Strict, Path=/console).
std::string session_cookie(std::string_view token);
std::string expired_session_cookie();

// Login body {"accessKeyId": "...", "secretAccessKey": "..."}: both strings, bounded; nullopt +
// message when malformed.
struct LoginCredentials {
  std::string access_key_id;
  std::string secret_access_key;
};
std::optional<LoginCredentials> parse_login_body(std::string_view body, std::string& error);

// `next` after a login link: only a path inside the console (no open redirect).
bool safe_next_path(std::string_view next);

}  // namespace zt::cloud::console
