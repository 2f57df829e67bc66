// Fuzzes the web console's parsers of outside bytes: an HTTP/1.1 request (Beast, as the server
// parses it) through the console hook (static path resolution, login body, cookie, login-link
// query, routing, the device API's bodies) with a logged-in session cookie half of the time, plus
// the helpers directly. Invariants: nothing outside the web directory is ever served, a client's
// bytes never produce a 5xx, and a login never succeeds with a wrong secret.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>

#include "cloud/api/server.hpp"
#include "cloud/console/server.hpp"
#include "cloud/console/session.hpp"
#include "cloud/console/static_files.hpp"
#include "cloud/console/stream_hub.hpp"
#include "cloud/registry/registry.hpp"

namespace {

namespace console = zt::cloud::console;

struct Harness {
  std::filesystem::path dir;
  std::unique_ptr<zt::cloud::registry::Registry> registry;
  std::unique_ptr<zt::cloud::api::ServiceContext> context;
  boost::asio::io_context io;
  std::unique_ptr<zt::cloud::api::ApiServer> server;
  std::shared_ptr<console::ConsoleServer> hook;
  std::string cookie;

  Harness() {
    dir = std::filesystem::path("/dev/shm") / ("zt-fuzz-console-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "web/assets");
    std::ofstream(dir / "web/index.html") << "index";
    std::ofstream(dir / "web/assets/app.js") << "app";
    std::ofstream(dir / "outside.txt") << "OUTSIDE";
    registry = std::move(*zt::cloud::registry::Registry::open(dir / "registry.db"));
    (void)registry->add_access_key("AKIDFUZZ", "fuzz-secret");
    (void)registry->insert_thing({.name = "thing1", .id = "id1", .attributes = "{}"});
    context = std::make_unique<zt::cloud::api::ServiceContext>(
        zt::cloud::api::ServiceContext{.registry = *registry,
                                       .account_id = "123456789012",
                                       .region = "us-east-1",
                                       .endpoint_prefix = "fuzz"});
    server = std::make_unique<zt::cloud::api::ApiServer>(
        io, *context, zt::cloud::api::make_control_plane_router(), zt::cloud::api::ServerOptions{});
    hook = std::make_shared<console::ConsoleServer>(
        *context, nullptr, console::ConsoleOptions{.web_dir = dir / "web"});
    server->set_hook(hook);
    cookie = std::string(console::kSessionCookie) + "=" + hook->sessions().create_session();
  }
  // Static: destroyed at exit (ctest replays the corpus), so /dev/shm is left clean.
  ~Harness() {
    hook->stop();
    server.reset();
    hook.reset();
    registry.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
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

  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.body_limit(1 << 16);
  parser.header_limit(16 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto message = parser.release();
  zt::aws::HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = message.body();
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
