// Fuzzes the paths that read JSON documents from devices and browsers (issue 12): the shadow
// service's update, the console's stream hub (every message on $aws/things/…, including forged
// …/update/documents), the rules engine's SQL over a message payload and its topicRulePayload
// compiler, and the console's request bodies (login, device press and desired, kit attach).
// Byte 0 picks the path, byte 1 a nesting to wrap the document in (0 = none; else up to ~76,000
// levels of {"current": or [ — the 65,000-level attack that overflowed json::dump() on the service
// worker), the rest is the document. Invariants: nothing throws out of these entry points (an
// escaped type_error terminated the cloud), client input never gets a 500 from the console, and
// an accepted shadow round-trips through storage.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "aws/sigv4.hpp"
#include "cloud/console/stream_hub.hpp"
#include "cloud/rules/rule.hpp"
#include "cloud/shadow/shadow.hpp"
#include "common/json.hpp"
#include "fuzz_support.hpp"

namespace {

namespace console = zt::cloud::console;
namespace api = zt::cloud::api;

struct Harness : zt::fuzz::FuzzCloud {
  console::StreamHub hub;
  std::shared_ptr<api::EventStream> thing_stream = hub.subscribe("t1");
  std::shared_ptr<api::EventStream> fleet_stream = hub.subscribe("");
  zt::cloud::shadow::Shadow shadow;
  std::vector<zt::cloud::rules::Query> queries;

  Harness() : FuzzCloud("documents") {
    (void)registry->add_access_key("AKIDFUZZ", "fuzz-secret");
    (void)registry->insert_thing({.name = "t1", .id = "id1", .attributes = "{}"});
    attach_console();
    for (const char* sql : {"SELECT * FROM '#'", "SELECT current.state.a AS x, topic(2) FROM '#'",
                            "SELECT concat(a, b) AS c FROM '#' WHERE a.b[0] > 1 OR isNull(c)"}) {
      queries.push_back(std::move(*zt::cloud::rules::parse_query(sql)));
    }
  }

  api::Reply console_call(const std::string& target, const std::string& body, bool sign) {
    zt::aws::HttpRequest request{"POST", target, {{"Host", "127.0.0.1"}}, body};
    if (sign) {
      (void)zt::aws::sign_request(request, {"AKIDFUZZ", "fuzz-secret", ""},
                                  {.region = "us-east-1", .service = "iot"});
    } else {
      request.headers.emplace_back("Cookie", cookie);
      request.headers.emplace_back("X-ZT-Console", "1");
    }
    return server->handle(request);
  }
};

std::string wrapped(std::string document, uint8_t nesting) {
  if (nesting == 0) return document;
  size_t levels = static_cast<size_t>(nesting & 0x7f) * 600;
  if (nesting & 0x80) {
    std::string out;
    out.reserve(levels * 12 + document.size());
    for (size_t i = 0; i < levels; ++i) out += "{\"current\":";
    return out + document + std::string(levels, '}');
  }
  return std::string(levels, '[') + document + std::string(levels, ']');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  if (size < 2) return 0;
  std::string document =
      wrapped(std::string(reinterpret_cast<const char*>(data + 2), size - 2), data[1]);
  zt::cloud::rules::MessageContext message;
  message.topic = "$aws/things/t1/shadow/update/documents";
  message.payload = document;
  switch (data[0] % 8) {
    case 0: {
      auto outcome = harness.shadow.update(document, 1);
      if (outcome && harness.shadow.exists()) {
        (void)outcome.value->accepted.dump();
        auto restored = zt::cloud::shadow::Shadow::from_storage(harness.shadow.to_storage());
        if (!restored || restored->to_storage() != harness.shadow.to_storage()) __builtin_trap();
      }
      break;
    }
    case 1:
      harness.hub.on_message("$aws/things/t1/shadow/update/documents", document);
      harness.hub.on_message("$aws/things/t1/shadow/name/n/update/documents", document);
      break;
    case 2:
      harness.hub.on_message("$aws/events/presence/connected/t1", document);
      harness.hub.on_message("$aws/things/t1/shadow/update/accepted", document);
      harness.hub.on_message("$aws/things/t1/shadow/delete/accepted", document);
      break;
    case 3:
      for (const auto& query : harness.queries) {
        // As the rules runtime serialises an output (a non-JSON payload passes through as a string
        // that need not be UTF-8).
        if (auto output = query.evaluate(message))
          (void)output->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      break;
    case 4:
      if (auto payload = zt::parse_json(document)) {
        // An accepted rule's republish headers expand for a message without throwing.
        if (auto rule = zt::cloud::rules::parse_rule("r", *payload)) {
          for (const auto& action : rule->actions) {
            if (const auto* republish = std::get_if<zt::cloud::rules::RepublishAction>(&action))
              (void)zt::cloud::rules::publish_properties(republish->headers, message);
          }
        }
      }
      break;
    case 5: {
      std::string error;
      (void)console::parse_login_body(document, error);
      if (harness.console_call("/console/api/login", document, false).status == 500)
        __builtin_trap();
      break;
    }
    case 6:
      // 502 is a kit that does not answer (one a previous input attached at a bogus socket).
      if (harness.console_call("/console/api/devices/t1/press", document, false).status == 500)
        __builtin_trap();
      break;
    default:
      for (const char* target : {"/console/api/kits", "/console/api/login-links"}) {
        if (harness.console_call(target, document, true).status == 500) __builtin_trap();
      }
      break;
  }
  return 0;
}
