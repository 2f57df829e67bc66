#include "cloud/service/cloud_service.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "broker/broker.hpp"
#include "broker/lifecycle.hpp"
#include "broker/mqtt5.hpp"
#include "cloud/service/auth.hpp"
#include "cloud/service/fleet_provisioning.hpp"
#include "cloud/service/inbound_queue.hpp"
#include "cloud/service/jobs.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

namespace zt::cloud::service {
namespace {

using nlohmann::json;

// The worker handles one message, shadow request or event at a time: whatever one of them throws
// (a rule, a shadow document, a message tap) is logged and the worker goes on with the next.
// Unguarded, the exception would leave thread_pool::run and terminate the whole cloud.
template <class Fn>
void guarded(std::string_view what, std::string_view topic, Fn&& fn) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::error("service worker: {} ({}) failed and was skipped: {}", what, topic, e.what());
  } catch (...) {
    spdlog::error("service worker: {} ({}) failed and was skipped", what, topic);
  }
}

// What the broker sends subscribers for a message the cloud publishes: a rule's republish or an
// HTTP Publish carries MQTT 5 properties (MQTT 3.1.1 subscribers get none of them); the expiry
// interval becomes a deadline, capped as a client's is (broker/mqtt5.hpp keep_properties).
broker::Message to_broker_message(const Outgoing& message) {
  broker::Message out{.topic = message.topic,
                      .payload = Bytes(message.payload.begin(), message.payload.end()),
                      .qos = message.qos,
                      .retain = message.retain};
  const rules::PublishProperties& p = message.properties;
  mqtt::Properties properties;
  if (p.payload_utf8) properties.payload_format_indicator = *p.payload_utf8 ? 1 : 0;
  properties.content_type = p.content_type;
  properties.response_topic = p.response_topic;
  if (p.correlation_data)
    properties.correlation_data = Bytes(p.correlation_data->begin(), p.correlation_data->end());
  properties.message_expiry_interval = p.message_expiry_interval;
  properties.user_properties = p.user_properties;
  broker::v5::keep_properties(std::move(properties), out, std::chrono::steady_clock::now(),
                              broker::BrokerLimits{}.max_message_expiry);
  return out;
}

// What the rules engine sees of a message on the bus: its MQTT 5 properties included.
rules::MessageContext rules_context(const broker::Message& message, const std::string& client_id,
                                    const std::string& principal, const std::string& account_id) {
  rules::MessageContext context{
      .topic = message.topic,
      .payload = std::string(message.payload.begin(), message.payload.end()),
      .client_id = client_id.empty() ? "n/a" : client_id,
      .principal = principal,
      .account_id = account_id,
      .timestamp_ms = unix_now_ms(),
      .user_properties = message.user_properties};
  const mqtt::Properties& p = message.properties;
  if (p.payload_format_indicator) context.payload_utf8 = *p.payload_format_indicator == 1;
  context.content_type = p.content_type;
  context.response_topic = p.response_topic;
  if (p.correlation_data)
    context.correlation_data = std::string(p.correlation_data->begin(), p.correlation_data->end());
  return context;
}

}  // namespace

struct CloudService::Impl : broker::Observer, std::enable_shared_from_this<Impl> {
  Impl(CloudState& state, CloudServiceOptions options)
      : state(state),
        options(options),
        account{state.account_id, state.region},
        recorder(*state.registry),
        shadows(*state.registry),
        jobs(*state.registry),
        rules(
            *state.registry, account,
            {.endpoint_url = {},
             .access_key_id = state.access_key_id,
             .secret_access_key = state.secret_access_key,
             .region = state.region,
             .code_cache = state.dir / "lambda" / "code"},
            // A republish goes to the subscribers, not back into the rules (rules_runtime.hpp): a
            // rule republishing to a topic its own filter matches would otherwise recurse on the
            // service worker until the stack overflows.
            [this](Outgoing message) {
              publish_now(std::move(message), "", "", MessageOrigin::client, /*run_rules=*/false);
            },
            options.retry, &recorder),
        provisioner(*state.registry, state.account_id, state.region, &rules.invoker(), &recorder),
        fleet(
            *state.registry,
            {.account_id = state.account_id,
             .region = state.region,
             .certificate = state.issuer_cert.get(),
             .key = state.issuer_key.get()},
            stored_template_finder(*state.registry),
            [this](const provisioning::ProvisionRequest& request) {
              return provisioner.provision(request);
            },
            &recorder) {}

  CloudState& state;
  CloudServiceOptions options;
  AccountInfo account;
  events::EventRecorder recorder;  // before rules: its function threads record into it
  ShadowStore shadows;
  uint64_t shadow_sequence = 0;  // worker: the last shadow commit whose answers wait for its sync
  JobsService jobs;
  RulesRuntime rules;
  provisioning::Provisioner provisioner;
  FleetProvisioning fleet;
  std::shared_ptr<PolicyAuthorizer> authorizer;
  std::unique_ptr<broker::Broker> broker;
  boost::asio::thread_pool worker{1};
  std::mutex post_mutex;        // post() against close_worker()
  bool accepting_tasks = true;  // false once stop() closes the worker (post_mutex)
  std::atomic<bool> stopped{false};
  std::vector<MessageTap> taps;  // fixed before start()

  // Worker-thread state.
  struct LiveSession {
    std::string principal;
    int64_t version = 0;  // lifecycle versionNumber, shared by connected and disconnected
  };
  broker::VersionTable versions;                     // client id → versionNumber (bounded)
  std::map<std::string, LiveSession> live_sessions;  // session identifier → (CONNACK sent)

  // Every task is guarded as a whole; the steps of one message are guarded each on their own
  // below, so a failing tap or rule does not keep the message from the others.
  // Each task first looks whether another process wrote to the registry (a topic rule from `ztp
  // cloud setup-jitr`): one PRAGMA data_version per task, not per message (RulesRuntime).
  // Once stop() has closed the worker, a task from another thread is dropped: after the worker's
  // join nothing would run it, and the shared_ptr to this Impl it holds would keep the Impl (which
  // owns the worker and so the task) alive for ever — the broker's last disconnect events, posted
  // from its network threads while it stops, leaked that way (LeakSanitizer, LocalCloud test).
  // Tasks the worker posts while stop() joins it still run.
  template <class Fn>
  void post(Fn&& fn) {
    std::lock_guard lock(post_mutex);
    if (!accepting_tasks && !worker.get_executor().running_in_this_thread()) return;
    boost::asio::post(worker, [this, fn = std::forward<Fn>(fn)]() mutable {
      guarded("a queued task", "", [&] {
        rules.check_other_writers();
        fn();
      });
    });
  }
  void close_worker() {
    std::lock_guard lock(post_mutex);
    accepting_tasks = false;
  }

  void tap(const std::string& topic, const std::string& payload) {
    for (const auto& each : taps) guarded("a message tap", topic, [&] { each(topic, payload); });
  }

  // Worker thread: to subscribers, then to the rules engine.
  // `origin`: the broker's own messages (events, shadow responses) or a client's (a rule's
  // republish, an HTTP Publish); the rules engine trusts only the former (MessageOrigin).
  void publish_now(Outgoing message, const std::string& client_id, const std::string& principal,
                   MessageOrigin origin = MessageOrigin::broker, bool run_rules = true) {
    tap(message.topic, message.payload);
    broker::Message out = to_broker_message(message);
    std::optional<rules::MessageContext> context;
    if (run_rules) context = rules_context(out, client_id, principal, account.account_id);
    if (broker) broker->publish(std::move(out));
    if (!context) return;
    guarded("the rules", context->topic, [&] { rules.on_message(*context, origin); });
  }
  // Shadow answers held until their update is durable (worker only), in commit order. The worker
  // publishes the durable ones before it handles anything else (flush_answers at the start of each
  // device message), so answers do not wait behind the updates queued after them; a sync reported
  // by the registry's sync thread posts a flush too, for when no message comes.
  std::deque<std::pair<uint64_t, std::vector<Outgoing>>> held_answers;
  void hold_answers(uint64_t sequence, std::vector<Outgoing> messages) {
    if (messages.empty()) return;
    held_answers.emplace_back(sequence, std::move(messages));
    flush_answers();
    if (held_answers.empty()) return;
    state.registry->when_durable(sequence, [weak = weak_from_this(), sequence](Status durable) {
      auto self = weak.lock();
      if (!self) return;
      self->post([self, sequence, durable] {
        if (!durable) {
          // Never acknowledged: the update may be lost (the registry reports every later sync
          // failed too).
          spdlog::error("shadow: updates could not be made durable: {}", durable.error().message);
          while (!self->held_answers.empty() && self->held_answers.front().first <= sequence)
            self->held_answers.pop_front();
          return;
        }
        self->flush_answers();
      });
    });
  }
  void flush_answers() {
    uint64_t durable = state.registry->durable_sequence();
    while (!held_answers.empty() && held_answers.front().first <= durable) {
      auto messages = std::move(held_answers.front().second);
      held_answers.pop_front();
      for (auto& message : messages) {
        std::string topic = message.topic;
        guarded("a shadow answer", topic, [&] { publish_now(std::move(message), "", ""); });
      }
    }
  }
  void send_later(std::vector<Outgoing> messages, MessageOrigin origin = MessageOrigin::broker) {
    post([self = shared_from_this(), messages = std::move(messages), origin]() mutable {
      for (auto& message : messages) {
        std::string topic = message.topic;
        guarded("a message", topic, [&] { self->publish_now(std::move(message), "", "", origin); });
      }
    });
  }

  // broker::Observer — network threads: copy and queue.
  void on_connected(const broker::ClientContext& client) override {
    // Stamped here, on the network thread, so it orders before the SUBSCRIBE that follows
    // (on_subscribed records at once; this lambda runs later on the worker).
    post([self = shared_from_this(), client, at = events::now_us()] {
      int64_t version =
          self->versions.connected(client.client_id, std::chrono::steady_clock::now());
      self->live_sessions[client.session_identifier] = {client.principal, version};
      self->recorder.record(
          {.time_us = at,
           .certificate_id = client.principal,
           .thing_name = {},
           .kind = events::kConnected,
           .detail = "client " + client.client_id + " from " + client.remote_address,
           .client_id = client.client_id});
      if (!broker::has_lifecycle_events(client.client_id)) return;
      auto event = broker::connected_event(client, version, unix_now_ms());
      self->publish_now({std::move(event.topic), std::move(event.payload)}, "", "");
    });
  }
  void on_disconnected(const broker::ClientContext& client,
                       broker::DisconnectReason reason) override {
    post([self = shared_from_this(), client, reason] {
      // Only connections that got a CONNACK have a session here (not JITR or refused ones).
      auto found = self->live_sessions.find(client.session_identifier);
      if (found == self->live_sessions.end()) return;
      int64_t version = found->second.version;
      self->live_sessions.erase(found);
      self->versions.disconnected(client.client_id, std::chrono::steady_clock::now());
      self->recorder.record(
          client.principal, events::kDisconnected,
          std::string("client ") + client.client_id + ": " + broker::to_string(reason),
          client.client_id);
      if (!broker::has_lifecycle_events(client.client_id)) return;
      auto event = broker::disconnected_event(client, reason, version, unix_now_ms());
      self->publish_now({std::move(event.topic), std::move(event.payload)}, "", "");
    });
  }
  void subscriptions(const broker::ClientContext& client, const std::vector<std::string>& filters,
                     bool subscribed) {
    if (!broker::has_lifecycle_events(client.client_id)) return;
    auto event = broker::subscription_event(client, filters, subscribed, unix_now_ms());
    send_later({Outgoing{std::move(event.topic), std::move(event.payload)}});
  }
  void on_subscribed(const broker::ClientContext& client,
                     const std::vector<std::string>& filters) override {
    std::string topics;
    for (const auto& filter : filters) topics += (topics.empty() ? "" : ", ") + filter;
    recorder.record(client.principal, events::kSubscribed, topics, client.client_id);
    subscriptions(client, filters, /*subscribed=*/true);
  }
  void on_unsubscribed(const broker::ClientContext& client,
                       const std::vector<std::string>& filters) override {
    subscriptions(client, filters, /*subscribed=*/false);
  }
  // Devices' messages, on their way to the worker (network threads offer, the worker takes them in
  // batches): bounded (CloudServiceOptions::max_queued_messages/bytes). The worker takes a batch
  // at a time so the shadow requests queued together share one registry transaction, and one
  // commit, one fsync and one durability callback (issue 19).
  static constexpr size_t kBatch = 256;  // messages the worker takes at once
  InboundQueue inbox{options.max_queued_messages, options.max_queued_bytes, shadows};

  void on_publish(const broker::Message& message, const broker::ClientContext& client) override {
    recorder.seen(client.principal, events::now_us());
    // A shadow request counts against its thing's quota as the queue takes it (InboundQueue):
    // over it, 429 at once; refused for a full queue, 429 too, and no quota spent.
    auto request = shadow::parse_request_topic(message.topic);
    auto offered =
        inbox.offer({client.session_identifier,
                     rules_context(message, client.client_id, client.principal, account.account_id),
                     std::nullopt},
                    request);
    if (offered.start_drain) post([self = shared_from_this()] { self->drain_inbox(); });
    if (offered.over_quota) answer_429(message, *request);
    if (!offered.queued) overflow(message, request, offered.refused, offered.log_refusal);
  }

  // The queue is full: a shadow request gets 429 on its /rejected topic from here (the network
  // thread, as the broker's own publish of the message does), anything else is dropped.
  void overflow(const broker::Message& message, const std::optional<shadow::ShadowTopic>& request,
                uint64_t dropped, bool log) {
    if (log) {
      spdlog::warn(
          "service worker: {} messages queued (or {} bytes): {} is not handled ({} so far); "
          "shadow requests are answered 429",
          options.max_queued_messages, options.max_queued_bytes, message.topic, dropped);
    }
    if (request) answer_429(message, *request);
  }

  // 429 "Too Many Requests" on the request's /rejected topic, from the network thread.
  void answer_429(const broker::Message& message, const shadow::ShadowTopic& request) {
    if (!broker) return;
    std::string_view payload(reinterpret_cast<const char*>(message.payload.data()),
                             message.payload.size());
    // Device Shadow error messages: 429 "Too Many Requests" (reference/aws-iot.md §4.5).
    std::string body = shadow::Rejection{429, "Too Many Requests"}
                           .to_json(unix_now(), shadow::client_token_of(payload))
                           .dump();
    std::string topic = shadow::shadow_topic_prefix(request.thing, request.shadow_name) + "/" +
                        request.operation + "/rejected";
    broker->publish(
        broker::Message{.topic = std::move(topic), .payload = Bytes(body.begin(), body.end())});
  }

  // Worker: up to kBatch queued messages. Their shadow requests first, in one transaction (in
  // arrival order; answers held until the commit is durable), then each message in order: taps,
  // jobs, rules (none of which may run inside the transaction: they publish). Shadow requests
  // depend only on each other, so taking them before the batch's other messages reorders nothing
  // a device can see.
  void drain_inbox() {
    bool more = false;
    std::vector<InboundMessage> batch = inbox.take(kBatch, more);
    // Behind whatever else was queued meanwhile (events, durability reports).
    if (more) post([self = shared_from_this()] { self->drain_inbox(); });
    flush_answers();
    std::vector<ShadowRequest> requests;
    std::vector<bool> is_shadow(batch.size(), false);
    for (size_t i = 0; i < batch.size(); ++i) {
      auto& request = batch[i].shadow;
      if (!request) continue;
      is_shadow[i] = true;
      requests.push_back({std::move(request->thing), std::move(request->shadow_name),
                          std::move(request->operation), batch[i].context.payload,
                          /*counted=*/true});
    }
    std::vector<Outgoing> answers;
    if (!requests.empty()) {
      guarded("shadow requests", requests.front().thing, [&] {
        // Group commit (registry.hpp): the batch commits here without waiting for its fsync, and
        // its answers (/accepted, /delta, /documents, /rejected) go out from the worker once the
        // sync thread reports it durable, so the worker handles the next batch meanwhile. Answers
        // that wrote nothing (a get, a refused update) wait for the updates before them too, so
        // each device sees its answers in order.
        std::vector<ShadowReply> replies;
        uint64_t sequence = 0;
        {
          registry::Registry::DeferredDurability deferred(*state.registry);
          replies = shadows.handle_batch(requests, true);
          sequence = deferred.commit_sequence();
        }
        shadow_sequence = std::max(shadow_sequence, sequence);
        for (auto& reply : replies) {
          for (auto& message : reply.messages) answers.push_back(std::move(message));
        }
      });
    }
    for (size_t i = 0; i < batch.size(); ++i) handle_message(batch[i], is_shadow[i]);
    hold_answers(shadow_sequence, std::move(answers));
  }

  // Worker: one device message's non-shadow work (its shadow request, if any, is done).
  void handle_message(InboundMessage& item, bool shadow_request) {
    rules::MessageContext& context = item.context;
    const std::string& topic = context.topic;
    // Fleet provisioning: answered on the asking connection only; neither the request (it may
    // hold an ownership token) nor the answer (a private key) goes to the taps or the rules.
    if (fleet::parse_request_topic(topic)) {
      guarded("a fleet provisioning request", topic, [&] {
        auto answer =
            fleet.handle(topic,
                         std::span(reinterpret_cast<const uint8_t*>(context.payload.data()),
                                   context.payload.size()),
                         context.principal, context.client_id);
        if (answer && broker) {
          broker->publish_to_connection(
              item.session,
              broker::Message{.topic = std::move(answer->topic),
                              .payload = Bytes(answer->payload.begin(), answer->payload.end())});
        }
      });
      return;
    }
    tap(topic, context.payload);
    // AWS IoT Jobs' device topics ($aws/things/<thing>/jobs/…; service/jobs.hpp).
    if (!shadow_request) {
      if (auto request = cloud::jobs::parse_jobs_topic(topic)) {
        guarded("a jobs request", topic, [&] {
          for (auto& response : jobs.handle(*request, context.payload))
            publish_now(std::move(response), "", "");
        });
      }
    }
    guarded("the rules", topic, [&] {
      context.timestamp_ms = unix_now_ms();
      rules.on_message(context, MessageOrigin::client);
    });
  }

  // Why a live certificate may no longer be connected (deleted, not ACTIVE, or its CA deactivated),
  // or nullopt while it may. Registry errors keep the session (the client may reconnect; the
  // connect-time checks apply then).
  std::optional<std::string> revoked(const std::string& principal) {
    auto certificate = state.registry->find_certificate(principal);
    if (!certificate) return std::nullopt;
    if (!*certificate) return "was deleted";
    if ((*certificate)->status != registry::kActive) return "is " + (*certificate)->status;
    if (!(*certificate)->ca_id) return std::nullopt;
    auto ca = state.registry->find_ca(*(*certificate)->ca_id);
    if (!ca) return std::nullopt;
    if (!*ca || (*ca)->status != registry::kActive) return "has an inactive or deleted CA";
    return std::nullopt;
  }

  void disconnect(const std::string& principal, const std::string& why) {
    size_t closed = broker->disconnect_principal(principal);
    spdlog::info("broker: certificate {} {} (registry change): closed {} connection(s)", principal,
                 why, closed);
  }

  // Job executions changed: each on the device's timeline, and notify / notify-next to each thing
  // whose pending executions changed (worker thread, in commit order).
  void post_job_changes(std::vector<registry::Change> changes) {
    post([self = shared_from_this(), changes = std::move(changes)] {
      std::set<std::string> things;
      for (const auto& change : changes) {
        self->recorder.record({.time_us = events::now_us(),
                               .certificate_id = {},
                               .thing_name = change.id,
                               .kind = events::job_execution_kind(change.status),
                               .detail = "job " + change.detail,
                               .client_id = {}});
        things.insert(change.id);
      }
      for (const auto& thing : things) {
        for (auto& message : self->jobs.notifications(thing))
          self->publish_now(std::move(message), "", "");
      }
    });
  }

  // Things joined or left thing groups: continuous jobs that target the groups follow them.
  void post_group_changes(std::vector<registry::Change> changes) {
    post([self = shared_from_this(), changes = std::move(changes)] {
      std::string prefix =
          "arn:aws:iot:" + self->account.region + ":" + self->account.account_id + ":thinggroup/";
      for (const auto& change : changes) {
        bool added = change.kind == registry::Change::Kind::thing_group_member_added;
        auto done = self->state.registry->transaction([&]() -> Status {
          return cloud::jobs::on_group_membership(*self->state.registry, prefix, change.id,
                                                  change.status, added, unix_now_seconds());
        });
        if (!done) spdlog::warn("jobs: group {} change: {}", change.id, done.error().message);
      }
    });
  }

  // Once a second on the worker: IN_PROGRESS job executions whose timer ran out become TIMED_OUT
  // (their change notes notify the devices).
  std::unique_ptr<boost::asio::steady_timer> sweep_timer;
  void schedule_sweep() {
    sweep_timer->expires_after(std::chrono::seconds(1));
    sweep_timer->async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
      auto self = weak.lock();
      if (error || !self || self->stopped) return;
      guarded("the job timeout sweep", "", [&] { self->jobs.expire(); });
      self->schedule_sweep();
    });
  }

  // Registry change listener (the committing thread, registry unlocked): forget cached decisions
  // now, so the next CONNECT re-reads the certificate, and close live sessions on the worker.
  void on_registry_changes(const std::vector<registry::Change>& changes) {
    bool any_ca = false;
    bool any_group = false;  // a thing group's members or policies: decisions of its things
    std::vector<std::pair<std::string, std::string>> revoked_certificates;  // (id, why)
    std::vector<registry::Change> job_changes;
    std::vector<registry::Change> group_changes;  // continuous jobs follow their groups
    for (const auto& change : changes) {
      if (change.kind == registry::Change::Kind::job_execution) {
        job_changes.push_back(change);
      } else if (change.kind == registry::Change::Kind::thing_group_member_added ||
                 change.kind == registry::Change::Kind::thing_group_member_removed ||
                 change.kind == registry::Change::Kind::policy_target) {
        any_group = true;
        if (change.kind != registry::Change::Kind::policy_target) group_changes.push_back(change);
      } else if (change.kind == registry::Change::Kind::ca) {
        if (change.status != registry::kActive) any_ca = true;
      } else if (change.kind == registry::Change::Kind::certificate &&
                 change.status != registry::kActive) {
        revoked_certificates.emplace_back(
            change.id, change.status.empty() ? "was deleted" : "is " + change.status);
      }
    }
    if (!job_changes.empty()) post_job_changes(std::move(job_changes));
    if (!group_changes.empty()) post_group_changes(std::move(group_changes));
    if (any_group) authorizer->invalidate();
    if (revoked_certificates.empty() && !any_ca) return;
    if (any_ca) {
      authorizer->invalidate();
    } else {
      for (const auto& [id, why] : revoked_certificates) authorizer->invalidate(id);
    }
    post([self = shared_from_this(), revoked_certificates, any_ca] {
      if (self->stopped || !self->broker) return;
      for (const auto& [id, why] : revoked_certificates) self->disconnect(id, why);
      if (!any_ca) return;
      // A CA deactivated or deleted: its certificates' sessions, found among the live ones.
      std::set<std::string> principals;
      for (const auto& [session, live] : self->live_sessions) principals.insert(live.principal);
      for (const auto& principal : principals) {
        if (auto why = self->revoked(principal)) self->disconnect(principal, *why);
      }
    });
  }
};

CloudService::CloudService(CloudState& state, CloudServiceOptions options)
    : impl_(std::make_shared<Impl>(state, options)) {}

CloudService::~CloudService() { stop(); }

void CloudService::add_routes(api::Router& router) {
  std::weak_ptr<Impl> weak = impl_;
  // HTTP Publish and the HTTP shadow responses: whoever holds API credentials is a client here.
  add_data_plane_routes(router, impl_->shadows, [weak](std::vector<Outgoing> messages) {
    if (auto impl = weak.lock()) impl->send_later(std::move(messages), MessageOrigin::client);
  });
}

void CloudService::add_jobs_data_routes(api::Router& router) {
  service::add_jobs_data_routes(router, impl_->jobs);
}

void CloudService::add_message_tap(MessageTap tap) { impl_->taps.push_back(std::move(tap)); }

ShadowReply CloudService::shadow_request(const std::string& thing, const std::string& operation,
                                         std::string_view payload) {
  ShadowReply reply = impl_->shadows.handle(thing, "", operation, payload, false);
  if (!reply.messages.empty()) impl_->send_later(std::move(reply.messages));
  reply.messages.clear();
  return reply;
}

void CloudService::set_api_url(std::string url) { impl_->rules.set_endpoint_url(std::move(url)); }

Status CloudService::start() {
  Impl& impl = *impl_;
  ZT_TRY(impl.recorder.start());
  impl.rules.check_other_writers_per_task();
  std::weak_ptr<Impl> weak = impl_;
  auto authenticator = std::make_shared<RegistryAuthenticator>(
      *impl.state.registry, impl.account, impl.state.endpoint_names(), impl.state.issuer_cert.get(),
      [weak](std::string topic, std::string payload) {
        if (auto impl = weak.lock())
          impl->send_later({Outgoing{std::move(topic), std::move(payload)}});
      },
      &impl.recorder, &impl.rules.recent_key_ids());
  impl.authorizer = std::make_shared<PolicyAuthorizer>(*impl.state.registry, impl.account,
                                                       std::chrono::milliseconds(1000),
                                                       authenticator->ca_cache());
  broker::BrokerConfig config;
  config.host = impl.options.mqtt_host;
  config.port = impl.options.mqtt_port;
  config.certificate_file = impl.state.dir / "server.crt";
  config.key_file = impl.state.dir / "server.key";
  config.threads = impl.options.threads;
  config.connection_caps = impl.options.mqtt_connection_caps;
  impl.broker = std::make_unique<broker::Broker>(config, authenticator, impl.authorizer);
  impl.broker->add_observer(impl_);
  Status started = impl.broker->start();
  if (!started && impl.options.fall_back_to_ephemeral && config.port != 0) {
    spdlog::warn("broker: {}; listening on an ephemeral port instead", started.error().message);
    config.port = 0;
    impl.broker = std::make_unique<broker::Broker>(config, authenticator, impl.authorizer);
    impl.broker->add_observer(impl_);
    started = impl.broker->start();
  }
  ZT_TRY(started);
  impl.state.registry->add_change_listener([weak](const std::vector<registry::Change>& changes) {
    if (auto impl = weak.lock(); impl && !impl->stopped) impl->on_registry_changes(changes);
  });
  impl.post([self = impl_] {
    self->sweep_timer = std::make_unique<boost::asio::steady_timer>(self->worker.get_executor());
    self->schedule_sweep();
  });
  return ok();
}

uint16_t CloudService::mqtt_port() const { return impl_->broker ? impl_->broker->port() : 0; }

void CloudService::drain() {
  for (int round = 0; round < 3; ++round) {  // events → invocations → their events
    std::promise<void> done;
    impl_->post([&done] { done.set_value(); });
    done.get_future().wait();
    impl_->rules.drain();
    if (impl_->inbox.drain_owed()) --round;  // device messages still queued: one more round
  }
  (void)impl_->recorder.flush();
}

events::EventRecorder& CloudService::device_events() { return impl_->recorder; }

void CloudService::stop() {
  if (!impl_ || impl_->stopped) return;
  Impl& impl = *impl_;
  impl.stopped = true;
  boost::asio::post(impl.worker, [self = impl_] {
    if (self->sweep_timer) self->sweep_timer->cancel();
  });
  // The worker first: it publishes into the broker, whose io_contexts die with Broker::stop().
  // What the broker's network threads post from now on is dropped (Impl::post).
  impl.close_worker();
  impl.worker.join();
  impl.rules.stop();
  if (impl.broker) impl.broker->stop();
  impl.broker.reset();
  impl.recorder.stop();  // writes what the broker's last disconnects queued
}

}  // namespace zt::cloud::service
