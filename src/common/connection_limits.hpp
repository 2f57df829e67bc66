// What keeps a listener up when clients open more connections than it can hold: caps on open
// connections (in total and per remote address), the open-file limit raised at start, and the
// accept loop's answer to errors (a growing pause and a rate-limited log line, instead of a loop
// that spins on EMFILE and floods the log). Plain counting, no sockets: the HTTP server and the
// MQTT broker use it from their own accept loops.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace zt {

struct ConnectionCaps {
  size_t max_total = 0;        // 0: no cap
  size_t max_per_address = 0;  // 0: no cap
};

// Counts a listener's open connections. Thread-safe; a Slot is held for the life of a connection.
// A connection may offer itself for eviction while it waits for a client that has not started a
// request (an HTTP connection before its request head, or idle between keep-alive requests): a
// new connection that finds a cap reached then closes the oldest such connection instead of being
// refused, so a client that fills the server with slow, silent connections cannot lock out one
// that sends its request at once.
class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
  struct Entry;

 public:
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

    // `evict` closes the connection; it may be called from any thread (post to the connection's
    // executor) and after the connection has ended.
    void set_evictable(std::function<void()> evict);
    void clear_evictable();

   private:
    friend class ConnectionLimiter;
    Slot(std::shared_ptr<ConnectionLimiter> owner, std::list<Entry>::iterator entry)
        : owner_(std::move(owner)), entry_(entry) {}
    void release();
    std::shared_ptr<ConnectionLimiter> owner_;
    std::list<Entry>::iterator entry_{};
  };

  enum class Refusal { total, per_address };
  struct Admission {
    std::optional<Slot> slot;  // empty: refused for `refusal`
    Refusal refusal = Refusal::total;
    bool evicted = false;  // a waiting connection was closed to make room
  };

  static std::shared_ptr<ConnectionLimiter> create(ConnectionCaps caps);
  const ConnectionCaps& caps() const { return caps_; }

  // A slot for a new connection from `address`, evicting a waiting one when a cap is reached and
  // `allow_eviction`; otherwise refused.
  Admission admit(const std::string& address, bool allow_eviction);
  size_t open_connections() const;

 private:
  struct Entry {
    std::string address;
    std::function<void()> evict;  // set while the connection may be evicted
    bool counted = true;          // false once evicted: its count was already given back
  };
  explicit ConnectionLimiter(ConnectionCaps caps) : caps_(caps) {}
  void uncount(Entry& entry);  // under mutex_

  ConnectionCaps caps_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // in order of arrival: the first evictable one is the oldest
  std::unordered_map<std::string, size_t> per_address_;
  size_t total_ = 0;
};

// An accept loop's pause after a failed accept (EMFILE, ENFILE, ENOBUFS...): 10 ms, doubling up to
// 1 s, back to 10 ms after a success. Without it a loop retries at once, forever, while the error
// lasts: the listening socket stays readable, so each retry fails again at once.
class AcceptBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{10};
  static constexpr std::chrono::milliseconds kMax{1000};
  std::chrono::milliseconds failed();
  void succeeded() { next_ = kFirst; }

 private:
  std::chrono::milliseconds next_ = kFirst;
};

// At most one log line per interval for a repeating event; the line that is let through says how
// many were suppressed since the previous one. Not thread-safe (one per accept loop).
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval = std::chrono::seconds(1))
      : interval_(interval) {}
  // Empty: stay quiet. Otherwise log, mentioning the number of suppressed events.
  std::optional<size_t> admit(std::chrono::steady_clock::time_point now);

 private:
  std::chrono::steady_clock::duration interval_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  size_t suppressed_ = 0;
};

// An accept loop's bookkeeping, shared by the HTTP server and the MQTT broker: the pause after a
// failed accept (AcceptBackoff) and the rate-limited warnings for failures and refused connections
// (`name` starts each line: "api", "broker").
class AcceptLoopGuard {
 public:
  explicit AcceptLoopGuard(std::string name) : name_(std::move(name)) {}
  // After a failed accept: logs at most once a second; returns the pause before the next accept.
  std::chrono::milliseconds failed(const std::string& error,
                                   std::chrono::steady_clock::time_point now);
  void accepted() { backoff_.succeeded(); }
  // A connection from `address` refused for `refusal` (logged at most once a second).
  void refused(const std::string& address, ConnectionLimiter::Refusal refusal,
               const ConnectionCaps& caps, std::chrono::steady_clock::time_point now);

 private:
  std::string name_;
  AcceptBackoff backoff_;
  LogThrottle failures_, refusals_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (the default soft limit, 1,024, is what a few
// hundred slow clients exhaust) and returns the soft limit now in force.
size_t raise_open_file_limit();

// Default connection caps from the open-file limit: kReservedDescriptors stay free for the
// registry, certificates, console files and function pipes; HTTP gets a quarter of the rest, at
// most 1,024 (a local control plane and console need tens), MQTT (devices) the remainder.
struct DescriptorBudget {
  size_t http_connections = 0;
  size_t mqtt_connections = 0;
};
constexpr size_t kReservedDescriptors = 128;
DescriptorBudget descriptor_budget(size_t open_file_limit);

}  // namespace zt
