#include "broker/core.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::broker {

const char* to_string(Action action) {
  switch (action) {
    case Action::connect:
      return "iot:Connect";
    case Action::publish:
      return "iot:Publish";
    case Action::retain_publish:
      return "iot:RetainPublish";
    case Action::subscribe:
      return "iot:Subscribe";
    case Action::receive:
      return "iot:Receive";
  }
  return "unknown";
}

const char* to_string(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::client_initiated:
      return "CLIENT_INITIATED_DISCONNECT";
    case DisconnectReason::client_error:
      return "CLIENT_ERROR";
    case DisconnectReason::connection_lost:
      return "CONNECTION_LOST";
    case DisconnectReason::duplicate_client_id:
      return "DUPLICATE_CLIENTID";
    case DisconnectReason::forbidden_access:
      return "FORBIDDEN_ACCESS";
    case DisconnectReason::keep_alive_timeout:
      return "MQTT_KEEP_ALIVE_TIMEOUT";
    case DisconnectReason::server_initiated:
    case DisconnectReason::server_shutdown:
      return "SERVER_INITIATED_DISCONNECT";
    case DisconnectReason::auth_error:
      return "AUTH_ERROR";
  }
  return "UNKNOWN";
}

Core::Core(BrokerConfig config, std::shared_ptr<Authenticator> authenticator,
           std::shared_ptr<Authorizer> authorizer)
    : config_(std::move(config)),
      authenticator_(std::move(authenticator)),
      authorizer_(std::move(authorizer)),
      connects_(config_.limits.min_connect_interval) {}

Core::Attached Core::attach(const std::string& client_id, const SessionRequest& request,
                            const std::shared_ptr<Outlet>& outlet, const ClientContext& context) {
  std::shared_ptr<Outlet> previous;
  Attached attached;
  const bool persistent = request.expiry.count() > 0;
  {
    std::lock_guard lock(sessions_mutex_);
    auto& slot = sessions_[client_id];
    if (slot && (request.clean_start || !slot->persistent())) {
      previous = slot->attach(nullptr, {}, false);
      discard_locked(slot);
      slot.reset();
    }
    bool created = false;
    if (slot) {
      attached.session_present = true;
    } else {
      slot = std::make_shared<Session>(client_id, config_.limits.session, queued_bytes_total_);
      created = true;
    }
    attached.session = slot;
    slot->configure(request.expiry, request.receive_maximum);
    auto replaced = slot->attach(outlet, context, persistent);
    if (replaced) previous = std::move(replaced);
    if (created && persistent && ++persistent_bound_ > config_.limits.max_persistent_sessions)
      enforce_session_caps_locked();
  }
  // reference/aws-iot.md §6.2: the new connection wins, the old one is disconnected.
  if (previous) previous->close(DisconnectReason::duplicate_client_id);
  return attached;
}

void Core::detach(const std::shared_ptr<Session>& session, const Outlet* outlet) {
  if (!session->detach(outlet) || session->persistent()) return;
  std::lock_guard lock(sessions_mutex_);
  discard_locked(session);
  auto it = sessions_.find(session->client_id());
  if (it != sessions_.end() && it->second == session) sessions_.erase(it);
}

void Core::discard_locked(const std::shared_ptr<Session>& session) {
  for (const auto& filter : session->subscription_filters()) remove_route(filter, session.get());
  session->clear_queue();
}

void Core::remove_route(const std::string& filter, const Session* session) {
  if (auto shared = parse_shared_filter(filter)) {
    if (*shared) shared_.remove(**shared, session);
    return;
  }
  trie_.remove(filter, session);
}

void Core::match(std::string_view topic, std::vector<Subscriber>& out) {
  trie_.match(topic, out);
  // A shared subscription is a subscription of its own: a session may get a message through both.
  shared_.match(topic, out);
}

size_t Core::enforce_session_caps_locked() {
  const BrokerLimits& limits = config_.limits;
  size_t persistent = 0;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> offline;
  for (const auto& [id, session] : sessions_) {
    if (!session->persistent()) continue;
    ++persistent;
    if (!session->attached()) offline.emplace_back(session->offline_since(), id);
  }
  std::sort(offline.begin(), offline.end());
  size_t expired = 0;
  for (const auto& [since, id] : offline) {
    if (persistent <= limits.max_persistent_sessions &&
        queued_bytes_total_->load() <= limits.max_queued_bytes_total)
      break;
    auto it = sessions_.find(id);
    discard_locked(it->second);
    sessions_.erase(it);
    --persistent;
    ++expired;
  }
  persistent_bound_ = persistent;
  if (expired) {
    spdlog::warn(
        "broker: {} persistent session(s) expired early, longest offline first: the caps are {} "
        "persistent sessions and {} bytes queued ({} sessions, {} bytes now)",
        expired, limits.max_persistent_sessions, limits.max_queued_bytes_total, persistent,
        queued_bytes_total_->load());
  }
  return expired;
}

void Core::enforce_queued_bytes_cap() {
  if (queued_bytes_total_->load() <= config_.limits.max_queued_bytes_total) return;
  std::lock_guard lock(sessions_mutex_);
  enforce_session_caps_locked();
}

bool Core::subscribe(const std::shared_ptr<Session>& session, const std::string& filter,
                     uint8_t qos, SubscriptionOptions options, bool* existed) {
  auto shared = parse_shared_filter(filter);
  if (shared && !*shared) return false;  // the caller validated it (validate_subscription_filter)
  if (!session->add_subscription(filter, qos, existed)) return false;
  if (shared) {
    shared_.add(**shared, session, qos);
  } else {
    trie_.add(filter, session, qos, options);
  }
  return true;
}

bool Core::unsubscribe(const std::shared_ptr<Session>& session, const std::string& filter) {
  bool existed = session->remove_subscription(filter);
  remove_route(filter, session.get());
  return existed;
}

void Core::send_retained(const std::shared_ptr<Session>& session, const std::string& filter,
                         uint8_t qos) {
  // §4.8.2: retained messages are not sent for shared subscriptions.
  if (mqtt::is_wildcard_filter(filter) || parse_shared_filter(filter)) return;
  if (auto message = retained_.find(filter)) {
    session->deliver(message, std::min(qos, message->qos), true, *authorizer_);
  }
}

namespace {

struct Batch {
  bool active = false;
  std::vector<Subscriber> subscribers;  // scratch for matching
  std::vector<std::pair<std::shared_ptr<Session>, Session::Delivery>> deliveries;
};
thread_local Batch t_batch;

// MQTT 5 §3.8.3.1 No Local: not back to the publisher's own client id.
bool skipped(const Subscriber& subscriber, const Message& message) {
  return subscriber.options.no_local && !message.publisher_client_id.empty() &&
         subscriber.session->client_id() == message.publisher_client_id;
}

// §3.3.1.3: a live delivery carries RETAIN = 0 whatever the publisher set, unless the MQTT 5
// subscription asked for Retain As Published (§3.8.3.1).
Session::Delivery delivery_for(const Subscriber& subscriber,
                               const std::shared_ptr<const Message>& message) {
  return Session::Delivery{message, std::min(message->qos, subscriber.qos),
                           subscriber.options.retain_as_published && message->retain};
}

}  // namespace

void Core::publish(const std::shared_ptr<const Message>& message) {
  if (message->retain) retained_.store(message);
  if (t_batch.active) {
    size_t first = t_batch.subscribers.size();
    match(message->topic, t_batch.subscribers);
    for (size_t i = first; i < t_batch.subscribers.size(); ++i) {
      Subscriber& subscriber = t_batch.subscribers[i];
      if (skipped(subscriber, *message)) continue;
      t_batch.deliveries.emplace_back(std::move(subscriber.session),
                                      delivery_for(subscriber, message));
    }
    t_batch.subscribers.resize(first);
    return;
  }
  std::vector<Subscriber> subscribers;
  match(message->topic, subscribers);
  for (const auto& subscriber : subscribers) {
    if (skipped(subscriber, *message)) continue;
    auto delivery = delivery_for(subscriber, message);
    subscriber.session->deliver(message, delivery.qos, delivery.retain, *authorizer_);
  }
  enforce_queued_bytes_cap();
}

void Core::publish_to_connection(std::string_view session_identifier,
                                 const std::shared_ptr<const Message>& message) {
  std::vector<Subscriber> subscribers;
  match(message->topic, subscribers);
  for (const auto& subscriber : subscribers) {
    if (skipped(subscriber, *message) || !subscriber.session->on_connection(session_identifier))
      continue;
    auto delivery = delivery_for(subscriber, message);
    subscriber.session->deliver(message, delivery.qos, /*retain=*/false, *authorizer_);
  }
  enforce_queued_bytes_cap();
}

void Core::begin_batch() { t_batch.active = true; }

void Core::end_batch() {
  t_batch.active = false;
  auto& deliveries = t_batch.deliveries;
  if (deliveries.empty()) return;
  // Group by session, keeping each session's messages in publish order (MQTT 3.1.1 §4.6).
  std::stable_sort(deliveries.begin(), deliveries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Session::Delivery> run;
  for (size_t i = 0; i < deliveries.size();) {
    Session* session = deliveries[i].first.get();
    run.clear();
    size_t j = i;
    for (; j < deliveries.size() && deliveries[j].first.get() == session; ++j) {
      run.push_back(std::move(deliveries[j].second));
    }
    session->deliver_all(run, *authorizer_);
    i = j;
  }
  deliveries.clear();
  enforce_queued_bytes_cap();
}

bool Core::admit_connect(const std::string& client_id, std::chrono::steady_clock::time_point now) {
  return connects_.admit(client_id, now);
}

void Core::release_outlets() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(sessions_mutex_);
    for (const auto& [id, session] : sessions_) sessions.push_back(session);
  }
  for (const auto& session : sessions)
    session->attach(nullptr, ClientContext{}, session->persistent());
}

size_t Core::expire_sessions(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(sessions_mutex_);
  size_t expired = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const auto& session = it->second;
    if (!session->attached() && now - session->offline_since() >= session->expiry()) {
      discard_locked(session);
      it = sessions_.erase(it);
      ++expired;
    } else {
      ++it;
    }
  }
  return expired;
}

size_t Core::disconnect_principal(std::string_view principal, DisconnectReason reason) {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(sessions_mutex_);
    for (const auto& [id, session] : sessions_) sessions.push_back(session);
  }
  size_t closed = 0;
  for (const auto& session : sessions) closed += session->close_if_principal(principal, reason);
  return closed;
}

size_t Core::say_goodbye() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(sessions_mutex_);
    for (const auto& [id, session] : sessions_) sessions.push_back(session);
  }
  size_t told = 0;
  for (const auto& session : sessions) told += session->say_goodbye();
  return told;
}

size_t Core::session_count() const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

}  // namespace zt::cloud::broker
