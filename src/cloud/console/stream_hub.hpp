// Fans the cloud's MQTT traffic out to the console's event streams (SSE). Fed by the cloud
// service's message tap (one worker thread, in arrival order) and by the kit poller; every push
// is non-blocking (api::EventStream is bounded: a slow browser loses events and resynchronises,
// the broker never waits for it).
//
// Events: `shadow` (the classic shadow's current document after every update, from
// $aws/things/T/shadow/update/documents), `lifecycle` (presence connected/disconnected), `message`
// (every message on $aws/things/T/# and T's lifecycle topics, for the page's message log) and
// `board` (an emulated kit's board snapshot when it changes). A stream for one thing gets all of
// them for that thing; the fleet-wide stream gets `shadow` and `lifecycle` of every thing.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cloud/api/event_stream.hpp"

namespace zt::cloud::console {

class StreamHub {
 public:
  // `max_tracked`: things whose presence is kept before disconnected ones are forgotten (topics
  // name things, and a client may name any: the table must not grow with what clients invent).
  explicit StreamHub(size_t per_stream_capacity = 256, size_t max_tracked = kMaxTracked)
      : capacity_(per_stream_capacity), max_tracked_(max_tracked), prune_at_(max_tracked) {}
  static constexpr size_t kMaxTracked = 65536;

  // `thing` empty = the fleet-wide stream.
  std::shared_ptr<api::EventStream> subscribe(const std::string& thing);
  void on_message(const std::string& topic, const std::string& payload);
  void on_board(const std::string& thing, const nlohmann::json& snapshot);

  struct Presence {
    bool connected = false;
    int64_t last_seen_ms = 0;  // last connect/disconnect/message
  };
  // nullopt for a thing never seen, or a disconnected one forgotten when more than max_tracked
  // things were seen (connected ones are kept: their number is bounded by the connections).
  std::optional<Presence> presence(const std::string& thing) const;
  size_t tracked_things() const;
  // Things that have a live per-thing stream (the kit poller watches only those).
  std::set<std::string> watched_things();
  void close_all();

 private:
  void send(const std::string& thing, std::string_view event, const nlohmann::json& data,
            bool fleet_too);
  struct Subscriber {
    std::string thing;
    std::weak_ptr<api::EventStream> stream;
  };
  const size_t capacity_;
  const size_t max_tracked_;
  mutable std::mutex mutex_;
  std::vector<Subscriber> subscribers_;
  std::map<std::string, Presence> presence_;
  size_t prune_at_;  // presence_'s size at which disconnected things are forgotten
};

// The thing a topic concerns: $aws/things/<T>/…, $aws/events/presence/<type>/<T>,
// $aws/events/subscriptions/<type>/<T> (client id = thing name for the kit). nullopt otherwise.
std::optional<std::string> thing_of_topic(std::string_view topic);

}  // namespace zt::cloud::console
