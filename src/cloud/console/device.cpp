// The device page's API: one device's record, its classic shadow (read and desired LED changes
// through the same path as the HTTP data plane's UpdateThingShadow, so the device gets the delta
// over MQTT), and the virtual board of its emulated kit.
#include "cloud/api/handler_util.hpp"
#include "cloud/console/kits.hpp"
#include "cloud/console/routes.hpp"
#include "cloud/console/stream_hub.hpp"
#include "cloud/service/cloud_service.hpp"

namespace zt::cloud::console {
namespace {

using nlohmann::json;

// The classic shadow's document, or {} when the thing has none yet (or no data plane runs).
json shadow_document(ConsoleContext& context, const std::string& thing) {
  if (!context.cloud) return json::object();
  auto reply = context.cloud->shadow_request(thing, "get", "");
  if (reply.status != 200) return json::object();
  return reply.body;
}

api::Reply get_device(ConsoleContext& context, const ConsoleRequest& request) {
  const std::string& thing = request.path.at("thing");
  if (!api::valid_thing_name(thing)) return console_error(400, "invalid thing name");
  auto& registry = context.service.registry;
  auto record = registry.find_thing(thing);
  if (!record) return console_error(500, record.error().message);
  if (!*record) return console_error(404, "thing " + thing + " does not exist");
  json out = {{"thingName", thing},
              {"thingTypeName", (*record)->type_name ? json(*(*record)->type_name) : json()},
              {"certificateId", nullptr},
              {"status", nullptr}};
  auto principals = registry.list_thing_principals(thing, {.after = "", .limit = 10});
  if (principals) {
    for (const auto& principal : principals->items) {
      auto id = api::certificate_id_of_arn(principal);
      if (!id) continue;
      auto certificate = registry.find_certificate(*id);
      if (!certificate || !*certificate) continue;
      out["certificateId"] = *id;
      out["status"] = (*certificate)->status;
      break;
    }
  }
  auto presence = context.hub.presence(thing);
  out["connected"] = presence && presence->connected;
  out["lastSeen"] = presence ? json(presence->last_seen_ms) : json();
  out["shadow"] = shadow_document(context, thing);
  auto socket = context.kits.socket_of(thing, false);  // no kit I/O on the registry worker
  out["kit"] = socket ? json{{"controlSocket", socket->string()}} : json();
  return console_json(out);
}

// {"led2": "on"} → {"state": {"desired": {"led2": "on"}}}: only led1..3 with on/off.
api::Reply set_desired(ConsoleContext& context, const ConsoleRequest& request) {
  const std::string& thing = request.path.at("thing");
  if (!api::valid_thing_name(thing)) return console_error(400, "invalid thing name");
  if (!context.cloud) return console_error(503, "the data plane (MQTT, shadows) is not running");
  json body = parse_json(request.body()).value_or(json());
  if (!body.is_object() || body.empty())
    return console_error(400, "the body must be a JSON object like {\"led2\": \"on\"}");
  json desired = json::object();
  for (const auto& [key, value] : body.items()) {
    if (key != "led1" && key != "led2" && key != "led3")
      return console_error(400, "only led1, led2 and led3 can be set, not '" + key + "'");
    if (!value.is_string() || (value != "on" && value != "off"))
      return console_error(400, key + " must be \"on\" or \"off\"");
    desired[key] = value;
  }
  json update = {{"state", {{"desired", desired}}}};
  auto reply = context.cloud->shadow_request(thing, "update", update.dump());
  if (reply.status != 200)
    return console_error(reply.status,
                         reply.body.value("message", std::string("shadow update failed")));
  return console_json(shadow_document(context, thing));
}

api::Reply get_board(ConsoleContext& context, const ConsoleRequest& request) {
  auto board = context.kits.board(request.path.at("thing"));
  if (!board) {
    return console_error(board.error().code == Errc::not_found ? 404 : 502, board.error().message);
  }
  return console_json(*board);
}

api::Reply press(ConsoleContext& context, const ConsoleRequest& request) {
  json body = parse_json(request.body()).value_or(json());
  if (!body.is_object()) return console_error(400, "the body must be {\"button\": 1|2|3}");
  auto given = integer_member(body, "button", "button", 1, 3);
  if (!given) return console_error(400, given.error().message);
  if (!*given) return console_error(400, "the body must be {\"button\": 1|2|3}");
  int button = static_cast<int>(**given);
  auto pressed = context.kits.press(request.path.at("thing"), button);
  if (!pressed) {
    return console_error(pressed.error().code == Errc::not_found ? 404 : 502,
                         pressed.error().message);
  }
  return console_json({{"pressed", button}});
}

}  // namespace

void add_device_routes(Routes& routes) {
  routes.add("GET", "/console/api/devices/{thing}", get_device);
  routes.add("POST", "/console/api/devices/{thing}/desired", set_desired);
  routes.add("GET", "/console/api/devices/{thing}/board", get_board, Routes::Runs::kit);
  routes.add("POST", "/console/api/devices/{thing}/press", press, Routes::Runs::kit);
}

}  // namespace zt::cloud::console
