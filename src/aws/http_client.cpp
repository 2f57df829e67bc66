#include "aws/http_client.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <variant>

#include "common/host_names.hpp"

namespace zt::aws {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

Error network_error(std::string_view what, const boost::system::error_code& ec) {
  return make_error(Errc::io, std::string(what) + ": " + ec.message());
}
}  // namespace

std::string Url::host_header() const {
  bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? name : name + ":" + port;
}

Result<Url> parse_url(std::string_view text) {
  Url url;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return make_error(Errc::invalid_argument, "URL '" + std::string(text) + "' has no scheme");
  }
  url.scheme = std::string(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    return make_error(Errc::invalid_argument,
                      "URL scheme must be http or https: " + std::string(text));
  }
  std::string_view rest = text.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) url.base_path = std::string(rest.substr(slash));
  while (!url.base_path.empty() && url.base_path.back() == '/') url.base_path.pop_back();
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error(Errc::invalid_argument, "bad IPv6 URL");
    url.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() == ':') url.port = std::string(authority.substr(1));
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) url.port = std::string(authority.substr(colon + 1));
  }
  if (url.host.empty())
    return make_error(Errc::invalid_argument, "URL has no host: " + std::string(text));
  if (url.port.empty()) url.port = url.scheme == "https" ? "443" : "80";
  return url;
}

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

struct HttpClient::Connection {
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  bool open = false;

  void close() {
    boost::system::error_code ignored;
    if (plain) plain->socket().close(ignored);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
    plain.reset();
    secure.reset();
    buffer.clear();
    open = false;
  }
};

HttpClient::HttpClient(Url url, HttpClientOptions options)
    : url_(std::move(url)), options_(std::move(options)) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
  if (!connection_) {
    connection_ = std::make_unique<Connection>();
    if (url_.scheme == "https") {
      boost::system::error_code ec;
      connection_->tls.set_default_verify_paths(ec);
      if (!options_.ca_file.empty()) connection_->tls.load_verify_file(options_.ca_file, ec);
      if (ec) return network_error("loading trust anchors " + options_.ca_file, ec);
      connection_->tls.set_verify_mode(asio::ssl::verify_peer);
    }
  }
  Connection& c = *connection_;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = c.open;
    boost::system::error_code ec;
    if (!c.open) {
      tcp::resolver resolver(c.io);
      auto endpoints = resolver.resolve(url_.host, url_.port, ec);
      if (ec) {
        Error failed = network_error("resolving " + url_.host, ec);
        return make_error(failed.code, failed.message + ". " + unresolved_name_hint(url_.host));
      }
      tcp::socket* socket = nullptr;
      if (url_.scheme == "https") {
        c.secure.emplace(c.io, c.tls);
        socket = &beast::get_lowest_layer(*c.secure).socket();
      } else {
        c.plain.emplace(c.io);
        socket = &c.plain->socket();
      }
      asio::connect(*socket, endpoints, ec);
      if (ec) {
        c.close();
        return network_error("connecting to " + url_.host + ":" + url_.port, ec);
      }
      timeval tv{options_.timeout_seconds, 0};
      setsockopt(socket->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(socket->native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (c.secure) {
        SSL_set_tlsext_host_name(c.secure->native_handle(), url_.host.c_str());
        c.secure->set_verify_callback(asio::ssl::host_name_verification(url_.host));
        c.secure->handshake(asio::ssl::stream_base::client, ec);
        if (ec) {
          c.close();
          return network_error("TLS handshake with " + url_.host, ec);
        }
      }
      c.open = true;
    }
    http::request<http::string_body> out;
    out.method_string(request.method);
    out.target(request.target);
    out.version(11);
    for (const auto& [name, value] : request.headers) out.insert(name, value);
    out.body() = request.body;
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      out.prepare_payload();
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(16u << 20);
    if (c.secure) {
      http::write(*c.secure, out, ec);
      if (!ec) http::read(*c.secure, c.buffer, parser, ec);
    } else {
      http::write(*c.plain, out, ec);
      if (!ec) http::read(*c.plain, c.buffer, parser, ec);
    }
    if (ec) {
      c.close();
      // A kept-alive connection the server already closed: retry once on a fresh one.
      if (reused && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                     ec == asio::error::broken_pipe || ec == asio::error::eof)) {
        continue;
      }
      return network_error("HTTP exchange with " + url_.host, ec);
    }
    auto message = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    if (!message.keep_alive()) c.close();
    return response;
  }
  return make_error(Errc::io, "HTTP exchange with " + url_.host + " failed twice");
}

}  // namespace zt::aws
