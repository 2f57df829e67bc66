// What the cloud fuzz targets share: an in-process cloud (registry in /dev/shm so commits stay
// cheap, the API server without a listener, optionally the web console hook with a logged-in
// session) torn down at exit, and a fuzz input parsed as one HTTP/1.1 request the way the server
// parses it (Beast). A header, not a target: fuzz/*.cpp are the targets.
#pragma once

#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "aws/sigv4.hpp"
#include "cloud/api/beast_request.hpp"
#include "cloud/api/server.hpp"
#include "cloud/console/server.hpp"
#include "cloud/console/session.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::fuzz {

struct FuzzCloud {
  std::filesystem::path dir;
  std::unique_ptr<cloud::registry::Registry> registry;
  std::unique_ptr<cloud::api::ServiceContext> context;
  boost::asio::io_context io;
  std::unique_ptr<cloud::api::ApiServer> server;
  std::shared_ptr<cloud::console::ConsoleServer> hook;  // after attach_console()
  std::string cookie;                                   // a logged-in session's Cookie header

  // `name` tells the runs apart in /dev/shm (zt-fuzz-<name>-<pid>).
  explicit FuzzCloud(const std::string& name)
      : dir(std::filesystem::path("/dev/shm") /
            ("zt-fuzz-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    registry = std::move(*cloud::registry::Registry::open(dir / "registry.db"));
    context = std::make_unique<cloud::api::ServiceContext>(
        cloud::api::ServiceContext{.registry = *registry,
                                   .account_id = "123456789012",
                                   .region = "us-east-1",
                                   .endpoint_prefix = "fuzz"});
    server = std::make_unique<cloud::api::ApiServer>(
        io, *context, cloud::api::make_control_plane_router(), cloud::api::ServerOptions{});
  }
  // The web console on the server, serving `dir`/web (create its files first), and a session.
  void attach_console() {
    std::filesystem::create_directories(dir / "web");
    hook = std::make_shared<cloud::console::ConsoleServer>(
        *context, nullptr, cloud::console::ConsoleOptions{.web_dir = dir / "web"});
    server->set_hook(hook);
    cookie = std::string(cloud::console::kSessionCookie) + "=" + hook->sessions().create_session();
  }
  // Static in a target: destroyed at exit (ctest replays the corpus), so /dev/shm is left clean.
  ~FuzzCloud() {
    if (hook) hook->stop();
    server.reset();
    hook.reset();
    registry.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  FuzzCloud(const FuzzCloud&) = delete;
  FuzzCloud& operator=(const FuzzCloud&) = delete;
};

// The input as one complete HTTP/1.1 request within the limits, or nullopt.
inline std::optional<aws::HttpRequest> parse_http_request(const uint8_t* data, size_t size,
                                                          size_t body_limit, size_t header_limit) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  parser.header_limit(static_cast<uint32_t>(header_limit));
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return std::nullopt;
  auto message = parser.release();
  return cloud::api::to_http_request(message);
}

}  // namespace zt::fuzz
