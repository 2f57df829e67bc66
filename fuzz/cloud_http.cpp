// Fuzzes the control plane's request path: HTTP/1.1 parsing (Beast, same limits as the server),
// raw-path routing with percent-decoding, query parsing and every handler's JSON body handling.
// SigV4 is bypassed (dispatch) so inputs reach the handlers; sigv4_header.cpp covers the
// verifier. The registry lives in /dev/shm so commits stay cheap.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>

#include "cloud/api/server.hpp"
#include "cloud/registry/registry.hpp"

namespace {

struct Harness {
  std::filesystem::path dir;
  std::unique_ptr<zt::cloud::registry::Registry> registry;
  std::unique_ptr<zt::cloud::api::ServiceContext> context;
  boost::asio::io_context io;
  std::unique_ptr<zt::cloud::api::ApiServer> server;

  Harness() {
    dir = std::filesystem::path("/dev/shm") / ("zt-fuzz-cloud-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    registry = std::move(*zt::cloud::registry::Registry::open(dir / "registry.db"));
    context = std::make_unique<zt::cloud::api::ServiceContext>(
        zt::cloud::api::ServiceContext{.registry = *registry,
                                       .account_id = "123456789012",
                                       .region = "us-east-1",
                                       .endpoint_prefix = "fuzz"});
    server = std::make_unique<zt::cloud::api::ApiServer>(
        io, *context, zt::cloud::api::make_control_plane_router(), zt::cloud::api::ServerOptions{});
  }
  // Static: destroyed at exit (ctest replays the corpus), so /dev/shm is left clean.
  ~Harness() {
    server.reset();
    registry.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  parser.header_limit(64 * 1024);
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
  (void)harness.server->handle(request);  // refused: no signature
  zt::cloud::api::Reply reply = harness.server->dispatch(request, "us-east-1");
  // Client mistakes never become 5xx.
  if (reply.status >= 500) __builtin_trap();
  return 0;
}
