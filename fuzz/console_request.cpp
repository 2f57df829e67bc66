// Fuzzes the web console's parsers of outside bytes: an HTTP/1.1 request (Beast, as the server
// parses it) through the console hook (static path resolution, login body, cookie, login-link
// query, routing, the device API's bodies) with a logged-in session cookie half of the time, plus
// the helpers directly. Invariants: nothing outside the web directory is ever served, a client's
// bytes never produce a 5xx, and a login never succeeds with a wrong secret.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cloud/console/static_files.hpp"
#include "cloud/console/stream_hub.hpp"
#include "fuzz_support.hpp"

namespace {

namespace console = zt::cloud::console;

struct Harness : zt::fuzz::FuzzCloud {
  Harness() : FuzzCloud("console") {
    std::filesystem::create_directories(dir / "web/assets");
    std::ofstream(dir / "web/index.html") << "index";
    std::ofstream(dir / "web/assets/app.js") << "app";
    std::ofstream(dir / "outside.txt") << "OUTSIDE";
    (void)registry->add_access_key("AKIDFUZZ", "fuzz-secret");
    (void)registry->insert_thing({.name = "thing1", .id = "id1", .attributes = "{}"});
    attach_console();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The helpers on the raw bytes.
  std::string error;
  auto login = console::parse_login_body(text, error);
  if (login && login->secret_access_key.size() > 128) __builtin_trap();
  (void)console::cookie_value(text, console::kSessionCookie);
  if (console::safe_next_path(text) && text.find("//") != std::string_view::npos) __builtin_trap();
  if (auto relative = console::static_relative_path(text)) {
    // No "." or ".." segment ("a..b" is an ordinary name).
    for (const auto& segment : std::filesystem::path(*relative)) {
      if (segment == "." || segment == "..") __builtin_trap();
    }
    if (auto file = console::resolve_static_file(harness.dir / "web", *relative)) {
      auto root = std::filesystem::canonical(harness.dir / "web");
      if (file->string().rfind(root.string() + "/", 0) != 0) __builtin_trap();
    }
  }
  (void)console::thing_of_topic(text);

  auto parsed = zt::fuzz::parse_http_request(data, size, 1 << 16, 16 * 1024);
  if (!parsed) return 0;
  zt::aws::HttpRequest& request = *parsed;
  if (size % 2) {
    request.headers.emplace_back("Cookie", harness.cookie);
    request.headers.emplace_back("X-ZT-Console", "1");
  }
  if (!harness.hook->claims(request.target.substr(0, request.target.find('?')))) return 0;
  zt::cloud::api::Reply reply = harness.server->handle(request);
  if (reply.status >= 500 && reply.status != 503) __builtin_trap();
  if (reply.body.find("OUTSIDE") != std::string::npos) __builtin_trap();
  if (request.target.starts_with("/console/api/login") && reply.status == 200 &&
      request.body.find("fuzz-secret") == std::string::npos) {
    bool link = request.target.starts_with("/console/api/login-links");
    if (!link) __builtin_trap();
  }
  return 0;
}
