#include "cloud/console/stream_hub.hpp"

#include <algorithm>
#include <chrono>

#include "common/json.hpp"
#include "common/time.hpp"

namespace zt::cloud::console {
namespace {

using nlohmann::json;

// A payload for the message log: JSON when it is JSON (within kMaxJsonDepth), else text
// (bounded). Anything a device publishes lands here: nothing below may assume a shape.
json payload_value(const std::string& payload) {
  constexpr size_t kMax = 8192;
  if (payload.size() <= kMax) {
    if (auto parsed = parse_json(payload)) return std::move(*parsed);
  }
  return payload.size() <= kMax ? payload : payload.substr(0, kMax) + "…";
}

}  // namespace

std::optional<std::string> thing_of_topic(std::string_view topic) {
  auto segment_after = [&](std::string_view prefix, int skip) -> std::optional<std::string> {
    if (!topic.starts_with(prefix)) return std::nullopt;
    std::string_view rest = topic.substr(prefix.size());
    for (int i = 0; i < skip; ++i) {
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos) return std::nullopt;
      rest = rest.substr(slash + 1);
    }
    std::string_view name = rest.substr(0, rest.find('/'));
    if (name.empty()) return std::nullopt;
    return std::string(name);
  };
  if (auto thing = segment_after("$aws/things/", 0)) return thing;
  if (auto thing = segment_after("$aws/events/presence/", 1)) return thing;
  if (auto thing = segment_after("$aws/events/subscriptions/", 1)) return thing;
  return std::nullopt;
}

std::shared_ptr<api::EventStream> StreamHub::subscribe(const std::string& thing) {
  auto stream = std::make_shared<api::EventStream>(capacity_);
  std::lock_guard lock(mutex_);
  std::erase_if(subscribers_, [](const Subscriber& s) {
    auto live = s.stream.lock();
    return !live || live->closed();
  });
  subscribers_.push_back({thing, stream});
  return stream;
}

void StreamHub::send(const std::string& thing, std::string_view event, const json& data,
                     bool fleet_too) {
  std::string text =
      api::EventStream::format(event, data.dump(-1, ' ', false, json::error_handler_t::replace));
  std::lock_guard lock(mutex_);
  for (const auto& subscriber : subscribers_) {
    if (subscriber.thing == thing || (fleet_too && subscriber.thing.empty())) {
      if (auto stream = subscriber.stream.lock()) stream->push(text);
    }
  }
}

void StreamHub::on_message(const std::string& topic, const std::string& payload) {
  auto thing = thing_of_topic(topic);
  if (!thing) return;
  int64_t now = unix_now_ms();
  bool presence_event = false;
  // Who listens: with no page open on this thing or the fleet, nothing is formatted (the service
  // worker calls this for every message, and parsing and dumping each payload for nobody was a
  // quarter of its time at 20,000 shadow updates/s, issue 19).
  bool thing_watched = false;
  bool fleet_watched = false;
  {
    std::lock_guard lock(mutex_);
    for (const auto& subscriber : subscribers_) {
      if (subscriber.stream.expired()) continue;
      if (subscriber.thing.empty()) fleet_watched = true;
      if (subscriber.thing == *thing) thing_watched = true;
    }
    auto& presence = presence_[*thing];
    presence.last_seen_ms = now;
    if (topic.starts_with("$aws/events/presence/connected/")) {
      presence.connected = true;
      presence_event = true;
    } else if (topic.starts_with("$aws/events/presence/disconnected/")) {
      presence.connected = false;
      presence_event = true;
    }
    if (presence_.size() > prune_at_) {
      // Amortised: the next sweep waits until the table has doubled again (connected things stay,
      // and there are at most as many as connections).
      std::erase_if(presence_, [&](const auto& entry) {
        return !entry.second.connected && entry.first != *thing;
      });
      prune_at_ = std::max(max_tracked_, 2 * presence_.size());
    }
  }
  if (!thing_watched && !fleet_watched) return;
  if (thing_watched) {
    send(*thing, "message", {{"topic", topic}, {"payload", payload_value(payload)}, {"time", now}},
         false);
  }
  if (presence_event) {
    bool connected = topic.starts_with("$aws/events/presence/connected/");
    send(*thing, "lifecycle",
         {{"thingName", *thing},
          {"connected", connected},
          {"time", now},
          {"event", payload_value(payload)}},
         true);
  }
  // §4.1: …/update/documents carries {previous, current}; the page wants the current document.
  if (topic == "$aws/things/" + *thing + "/shadow/update/documents") {
    // Normally the shadow service's own message, but any document must be survivable: only an
    // object "current" is a shadow ({"current": 1} once terminated the cloud here).
    auto documents = parse_json(payload);
    const json* current =
        documents ? object_member(*documents, "current").value_or(nullptr) : nullptr;
    if (current) {
      json shadow = *current;
      shadow["thingName"] = *thing;
      send(*thing, "shadow", shadow, true);
    }
  } else if (topic == "$aws/things/" + *thing + "/shadow/delete/accepted") {
    send(*thing, "shadow", {{"thingName", *thing}, {"state", json::object()}, {"deleted", true}},
         true);
  }
}

void StreamHub::on_board(const std::string& thing, const json& snapshot) {
  json data = snapshot;
  data["thingName"] = thing;
  send(thing, "board", data, false);
}

std::optional<StreamHub::Presence> StreamHub::presence(const std::string& thing) const {
  std::lock_guard lock(mutex_);
  auto found = presence_.find(thing);
  if (found == presence_.end()) return std::nullopt;
  return found->second;
}

size_t StreamHub::tracked_things() const {
  std::lock_guard lock(mutex_);
  return presence_.size();
}

std::set<std::string> StreamHub::watched_things() {
  std::set<std::string> out;
  std::lock_guard lock(mutex_);
  for (const auto& subscriber : subscribers_) {
    auto stream = subscriber.stream.lock();
    if (stream && !stream->closed() && !subscriber.thing.empty()) out.insert(subscriber.thing);
  }
  return out;
}

void StreamHub::close_all() {
  std::lock_guard lock(mutex_);
  for (const auto& subscriber : subscribers_) {
    if (auto stream = subscriber.stream.lock()) stream->close();
  }
  subscribers_.clear();
}

}  // namespace zt::cloud::console
