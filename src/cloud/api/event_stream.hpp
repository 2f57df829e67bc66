// A long-lived HTTP response body (server-sent events, text/event-stream): producers on any
// thread push whole events; the connection's coroutine drains them to the socket. The queue is
// bounded so a slow browser never blocks the producer (the cloud's service worker): on overflow
// the queued events are dropped and the consumer is told to resynchronise (it sends a `resync`
// event; the page then re-reads the full state) before the events that came after, which is
// correct because every event we send describes state that the page can fetch again.
#pragma once

#include <utility>  // std::exchange, used by boost/asio/awaitable.hpp (1.74) without including it

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace zt::cloud::api {

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  explicit EventStream(size_t capacity = 256) : capacity_(capacity) {}

  // Producer side, any thread, never blocks. Returns false once the stream is closed.
  bool push(std::string event_text);
  void close();
  bool closed() const;

  // What the consumer gets from one wait: the events queued since the last one, whether events
  // were dropped (resync needed), and whether the stream has ended.
  struct Batch {
    std::vector<std::string> events;
    bool overflowed = false;
    bool ended = false;
  };
  // Consumer side: binds the stream to the connection's executor (a strand), then waits up to
  // `heartbeat` for events. An empty, not-ended batch = time for a heartbeat.
  void attach(boost::asio::any_io_executor executor);
  boost::asio::awaitable<Batch> next(std::chrono::milliseconds heartbeat);
  // Without waiting (tests).
  Batch take();

  // SSE framing: "event: <name>\ndata: <one line>\n\n" (data must not contain newlines; JSON
  // dumps do not).
  static std::string format(std::string_view name, std::string_view data);

 private:
  void wake();
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<std::string> queue_;
  bool overflowed_ = false;
  bool closed_ = false;
  std::optional<boost::asio::any_io_executor> executor_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
};

}  // namespace zt::cloud::api
