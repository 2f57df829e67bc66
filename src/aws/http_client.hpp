// A small HTTP/1.1 client (Boost.Beast) for signed AWS calls: plain HTTP for the local cloud,
// HTTPS with peer and host-name verification for real endpoints. One connection, kept alive and
// re-opened when the server closes it.
#pragma once

#include <memory>
#include <string>

#include "aws/sigv4.hpp"
#include "common/result.hpp"

namespace zt::aws {

struct Url {
  std::string scheme;  // http or https
  std::string host;
  std::string port;
  std::string base_path;            // without trailing '/', may be empty
  std::string host_header() const;  // host[:port] as the Host header (port omitted if default)
};
Result<Url> parse_url(std::string_view text);

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpClientOptions {
  std::string ca_file;  // extra trust anchors for HTTPS (AWS_CA_BUNDLE); empty = system store
  int timeout_seconds = 30;
};

class HttpClient {
 public:
  explicit HttpClient(Url url, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  const Url& url() const { return url_; }
  // Sends `request` (target relative to the host, Host header already set) and reads the answer.
  Result<HttpResponse> send(const HttpRequest& request);

 private:
  struct Connection;
  Url url_;
  HttpClientOptions options_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace zt::aws
