#include "cloud/service/shadows.hpp"

#include <chrono>

#include "cloud/api/handler_util.hpp"
#include "cloud/service/http_publish.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::service {
namespace {

using nlohmann::json;

const char* error_type(int status) {
  switch (status) {
    case 400:
      return "InvalidRequestException";
    case 401:
      return "UnauthorizedException";
    case 403:
      return "ForbiddenException";
    case 404:
      return "ResourceNotFoundException";
    case 405:
      return "MethodNotAllowedException";
    case 409:
      return "ConflictException";
    case 413:
      return "RequestEntityTooLargeException";
    case 415:
      return "UnsupportedDocumentEncodingException";
    case 429:
      return "ThrottlingException";
    default:
      return "InternalFailureException";
  }
}

api::ApiResult<api::Reply> to_reply(const ShadowReply& reply) {
  if (reply.status == 200) return api::json_reply(reply.body);
  return api::api_error(reply.status, error_type(reply.status),
                        reply.body.value("message", std::string()));
}

}  // namespace

struct ShadowStore::Pending {
  const std::string& thing;
  const std::string& shadow_name;
  const std::string& operation;
  std::string_view payload;
  bool via_mqtt;
  bool counted = false;  // against the per-thing quota, already
  int64_t now;
  std::string prefix;  // $aws/things/<thing>/shadow[/name/<n>]/<operation>
  ShadowReply reply{};

  Pending(const std::string& thing, const std::string& shadow_name, const std::string& operation,
          std::string_view payload, bool via_mqtt, int64_t now)
      : thing(thing),
        shadow_name(shadow_name),
        operation(operation),
        payload(payload),
        via_mqtt(via_mqtt),
        now(now),
        prefix(shadow::shadow_topic_prefix(thing, shadow_name) + "/" + operation) {}

  // The request's client token, parsed only when an answer needs it (an accepted update carries
  // it already: Shadow::update parses the payload once for everything).
  const std::optional<std::string>& token() {
    if (!token_) token_ = shadow::client_token_of(payload);
    return *token_;
  }

  // A rejection replaces whatever the request would have answered.
  void reject(int code, std::string message) {
    shadow::Rejection rejection{code, std::move(message)};
    reply.status = code;
    reply.body = rejection.to_json(now, token());
    reply.messages.clear();
    if (via_mqtt) reply.messages.push_back({prefix + "/rejected", reply.body.dump()});
  }

 private:
  std::optional<std::optional<std::string>> token_;
};

bool ShadowStore::admit(Pending& pending) {
  if (!shadow::valid_thing_name(pending.thing)) {
    pending.reject(400, "Invalid thing name");
    return false;
  }
  if (!pending.shadow_name.empty() && !shadow::valid_shadow_name(pending.shadow_name)) {
    pending.reject(400, "Invalid shadow name");
    return false;
  }
  if (!pending.counted && !admit_request(pending.thing)) {
    pending.reject(429, "Too Many Requests");
    return false;
  }
  return true;
}

bool ShadowStore::admit_request(const std::string& thing) {
  bool log = false;
  if (rate_.admit(thing, clock_(), &log)) return true;
  if (log)  // the first refusal of a second per thing: a flood does not flood the log
    spdlog::info("shadow {}: more than {} requests/s (aws-iot.md §4.5): 429", thing,
                 kRequestsPerThingPerSecond);
  return false;
}

Status ShadowStore::apply(Pending& pending) {
  const std::string& thing = pending.thing;
  const std::string& shadow_name = pending.shadow_name;
  const std::string& operation = pending.operation;
  ShadowReply& reply = pending.reply;
  ZT_TRY_ASSIGN(auto found, registry_.find_shadow(thing, shadow_name));
  shadow::Shadow document;
  if (found) {
    auto stored = shadow::Shadow::from_storage(json::parse(*found, nullptr, false));
    if (!stored) return make_error(Errc::parse, "stored shadow of " + thing + " is corrupt");
    document = std::move(*stored);
  }
  auto refused = [&](int code, std::string message) -> Status {
    pending.reject(code, std::move(message));
    return ok();
  };
  std::string display_name = shadow_name.empty() ? thing : shadow_name;
  if (operation == "get") {
    auto got = document.get(pending.now, display_name, pending.token());
    if (!got) return refused(got.rejection.code, got.rejection.message);
    reply.body = *got.value;
    if (pending.via_mqtt)
      reply.messages.push_back({pending.prefix + "/accepted", reply.body.dump()});
    return ok();
  }
  if (operation == "update") {
    auto updated = document.update(pending.payload, pending.now);
    if (!updated) return refused(updated.rejection.code, updated.rejection.message);
    reply.body = updated.value->accepted;
    // REST updates publish accepted/delta/documents too (§4.1).
    reply.messages.push_back({pending.prefix + "/accepted", reply.body.dump()});
    if (updated.value->delta)
      reply.messages.push_back({pending.prefix + "/delta", updated.value->delta->dump()});
    reply.messages.push_back({pending.prefix + "/documents", updated.value->documents.dump()});
  } else if (operation == "delete") {
    auto removed = document.remove(pending.now, display_name, pending.token());
    if (!removed) return refused(removed.rejection.code, removed.rejection.message);
    reply.body = *removed.value;
    reply.messages.push_back({pending.prefix + "/accepted", reply.body.dump()});
  } else {
    return refused(400, "Unsupported operation " + operation);
  }
  return registry_.put_shadow(thing, shadow_name, document.to_storage().dump());
}

void ShadowStore::fail(Pending& pending) { pending.reject(500, "Internal service failure"); }

ShadowReply ShadowStore::handle(const std::string& thing, const std::string& shadow_name,
                                const std::string& operation, std::string_view payload,
                                bool via_mqtt) {
  Pending pending(thing, shadow_name, operation, payload, via_mqtt, unix_now());
  if (!admit(pending)) return std::move(pending.reply);
  if (auto done = registry_.transaction([&] { return apply(pending); }); !done) {
    spdlog::error("shadow {}/{}: {}", thing, shadow_name, done.error().message);
    fail(pending);
  }
  return std::move(pending.reply);
}

std::vector<ShadowReply> ShadowStore::handle_batch(const std::vector<ShadowRequest>& requests,
                                                   bool via_mqtt) {
  int64_t now = unix_now();
  std::vector<Pending> pending;
  pending.reserve(requests.size());
  std::vector<bool> admitted;
  admitted.reserve(requests.size());
  for (const auto& request : requests) {
    pending.emplace_back(request.thing, request.shadow_name, request.operation, request.payload,
                         via_mqtt, now);
    pending.back().counted = request.counted;
    admitted.push_back(admit(pending.back()));
  }
  auto done = registry_.transaction([&]() -> Status {
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!admitted[i]) continue;
      if (auto applied = registry_.savepoint([&] { return apply(pending[i]); }); !applied) {
        spdlog::error("shadow {}/{}: {}", pending[i].thing, pending[i].shadow_name,
                      applied.error().message);
        fail(pending[i]);
        admitted[i] = false;  // answered already
      }
    }
    return ok();
  });
  if (!done) {
    spdlog::error("shadow: a batch of {} requests failed: {}", requests.size(),
                  done.error().message);
    for (size_t i = 0; i < pending.size(); ++i) {
      if (admitted[i]) fail(pending[i]);
    }
  }
  std::vector<ShadowReply> replies;
  replies.reserve(pending.size());
  for (auto& each : pending) replies.push_back(std::move(each.reply));
  return replies;
}

Result<registry::Page<std::string>> ShadowStore::list_named(const std::string& thing,
                                                            const registry::PageRequest& page) {
  return registry_.list_named_shadows(thing, page);
}

void add_data_plane_routes(api::Router& router, ShadowStore& store,
                           std::function<void(std::vector<Outgoing>)> send) {
  auto shadow_handler = [&store, send](std::string operation) {
    return [&store, send, operation](api::ServiceContext&,
                                     const api::ApiRequest& request) -> api::ApiResult<api::Reply> {
      std::string shadow_name = request.query_value("name").value_or("");
      ShadowReply reply = store.handle(
          request.path.at("thingName"), shadow_name, operation,
          operation == "update" ? std::string_view(request.body()) : std::string_view(), false);
      if (!reply.messages.empty()) send(std::move(reply.messages));
      return to_reply(reply);
    };
  };
  router.add("GET", "/things/{thingName}/shadow", "GetThingShadow", shadow_handler("get"));
  router.add("POST", "/things/{thingName}/shadow", "UpdateThingShadow", shadow_handler("update"));
  router.add("DELETE", "/things/{thingName}/shadow", "DeleteThingShadow", shadow_handler("delete"));
  // iot-data ListNamedShadowsForThing: pageSize 1..100, an opaque nextToken, `timestamp` in epoch
  // seconds (API reference, API_iotdata_ListNamedShadowsForThing).
  router.add(
      "GET", "/api/things/shadow/ListNamedShadowsForThing/{thingName}", "ListNamedShadowsForThing",
      [&store](api::ServiceContext&, const api::ApiRequest& request) -> api::ApiResult<api::Reply> {
        const std::string& thing = request.path.at("thingName");
        if (!shadow::valid_thing_name(thing))
          return api::invalid_request("thingName must match [a-zA-Z0-9:_-]{1,128}");
        ZT_API_TRY_ASSIGN(auto page, api::page_request(request, "nextToken", "pageSize", 100));
        auto listed = store.list_named(thing, page);
        if (!listed) {
          spdlog::error("ListNamedShadowsForThing {}: {}", thing, listed.error().message);
          return api::api_error(500, "InternalFailureException", "Internal service failure");
        }
        json body{{"results", listed->items}, {"timestamp", unix_now()}};
        if (!listed->next_key.empty()) body["nextToken"] = api::page_token(listed->next_key);
        return api::json_reply(body);
      });
  router.add(
      "POST", "/topics/{topic+}", "Publish",
      [send](api::ServiceContext&, const api::ApiRequest& request) -> api::ApiResult<api::Reply> {
        const std::string& topic = request.path.at("topic");
        if (auto valid = mqtt::validate_topic_name(topic); !valid) {
          return api::api_error(400, "InvalidRequestException", valid.error().message);
        }
        int qos = request.query_value("qos").value_or("0") == "1" ? 1 : 0;
        bool retain = request.query_value("retain").value_or("false") == "true";
        ZT_API_TRY_ASSIGN(auto properties, http_publish_properties(request));
        send({Outgoing{topic, request.body(), static_cast<uint8_t>(qos), retain,
                       std::move(properties)}});
        return api::Reply{200, "", {{"x-amzn-RequestId", api::new_uuid()}}};
      });
}

}  // namespace zt::cloud::service
