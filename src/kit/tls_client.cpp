#include "kit/tls_client.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zt::kit {
namespace {

Error ssl_error(std::string_view what, SSL* ssl, int rc) {
  int code = ssl ? SSL_get_error(ssl, rc) : SSL_ERROR_SSL;
  std::string detail = crypto::openssl_error("").message;
  if (code == SSL_ERROR_ZERO_RETURN) detail = "the server closed the connection";
  if (code == SSL_ERROR_SYSCALL && detail.find_first_not_of(": ") == std::string::npos) {
    detail = errno ? std::strerror(errno) : "the server closed the connection";
  }
  if (ssl && code == SSL_ERROR_SSL) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      detail += fmt::format(" (server certificate: {})", X509_verify_cert_error_string(verify));
    }
  }
  return Error{Errc::io, fmt::format("{}: {}", what, detail)};
}

Result<UniqueFd> tcp_connect(const std::string& address, uint16_t port,
                             std::chrono::milliseconds timeout) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return make_error(Errc::invalid_argument, fmt::format("'{}' is not an IP address", address));
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return make_error(Errc::io, fmt::format("socket: {}", std::strerror(errno)));
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    int saved = errno;
    return make_error(Errc::io,
                      fmt::format("TCP connect to {}:{}: {}", address, port, std::strerror(saved)));
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<TlsConnection>> TlsConnection::connect(const TlsClientConfig& config) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return crypto::openssl_error("SSL_CTX_new");
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_guard(ctx, &SSL_CTX_free);
  // The WINC1500 speaks TLS 1.2 (reference/kit.md "TLS"), so the emulated kit does too.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(ctx, config.server_ca.c_str(), nullptr) != 1) {
    return crypto::openssl_error("loading the server CA " + config.server_ca.string());
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_use_certificate(ctx, config.device_cert) != 1)
    return crypto::openssl_error("device certificate");
  if (config.signer_cert) {
    X509_up_ref(config.signer_cert);
    if (SSL_CTX_add_extra_chain_cert(ctx, config.signer_cert) != 1) {
      X509_free(config.signer_cert);
      return crypto::openssl_error("signer certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, config.key) != 1) return crypto::openssl_error("device key");

  ZT_TRY_ASSIGN(UniqueFd fd, tcp_connect(config.address, config.port, config.timeout));
  SSL* ssl = SSL_new(ctx);
  if (!ssl) return crypto::openssl_error("SSL_new");
  SSL_set_fd(ssl, fd.get());
  SSL_set_tlsext_host_name(ssl, config.server_name.c_str());
  SSL_set1_host(ssl, config.server_name.c_str());
  int rc = SSL_connect(ssl);
  if (rc != 1) {
    Error error = ssl_error("TLS handshake", ssl, rc);
    SSL_free(ssl);
    return error;
  }
  return std::unique_ptr<TlsConnection>(new TlsConnection(ctx_guard.release(), ssl, std::move(fd)));
}

TlsConnection::~TlsConnection() {
  SSL_shutdown(ssl_);
  SSL_free(ssl_);
  fd_.reset();
  SSL_CTX_free(ctx_);
}

Status TlsConnection::write_all(ByteView data) {
  size_t written = 0;
  while (written < data.size()) {
    size_t n = 0;
    int rc = SSL_write_ex(ssl_, data.data() + written, data.size() - written, &n);
    if (rc != 1) return ssl_error("TLS write", ssl_, rc);
    written += n;
  }
  return ok();
}

Result<Bytes> TlsConnection::read(std::chrono::milliseconds wait) {
  if (SSL_pending(ssl_) == 0) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(wait.count()));
    if (ready == 0) return Bytes{};
    if (ready < 0 && errno == EINTR) return Bytes{};
    if (ready < 0) return make_error(Errc::io, fmt::format("poll: {}", std::strerror(errno)));
  }
  Bytes buffer(16 * 1024);
  size_t n = 0;
  int rc = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &n);
  if (rc != 1) {
    int code = SSL_get_error(ssl_, rc);
    if (code == SSL_ERROR_WANT_READ) return Bytes{};
    return ssl_error("TLS read", ssl_, rc);
  }
  buffer.resize(n);
  return buffer;
}

std::string TlsConnection::cipher() const {
  return fmt::format("{} {}", SSL_get_version(ssl_), SSL_get_cipher_name(ssl_));
}

}  // namespace zt::kit
