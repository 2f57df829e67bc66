#include "broker/tls_stream.hpp"

#include <openssl/err.h>
#include <boost/asio/redirect_error.hpp>

#include <cerrno>
#include <cstring>

#include "crypto/ossl.hpp"

namespace zt::cloud::broker {

TlsStream::TlsStream(tcp::socket socket, SSL_CTX* context)
    : socket_(std::move(socket)), ssl_(SSL_new(context)) {
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) {
    last_error_ = "making the socket non-blocking: " + ec.message();
  } else if (ssl_ == nullptr) {
    last_error_ = crypto::openssl_error("SSL_new").message;
  } else if (SSL_set_fd(ssl_, socket_.native_handle()) != 1) {
    last_error_ = crypto::openssl_error("SSL_set_fd").message;
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
}

TlsStream::~TlsStream() {
  // SSL_set_fd's socket BIO does not own the descriptor (BIO_NOCLOSE); socket_ closes it.
  if (ssl_) SSL_free(ssl_);
}

TlsStream::Io TlsStream::outcome(int result) {
  int error = SSL_get_error(ssl_, result);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return Io::want_read;
    case SSL_ERROR_WANT_WRITE:
      return Io::want_write;
    case SSL_ERROR_ZERO_RETURN:
      last_error_ = "the peer sent close_notify";
      return Io::closed;
    case SSL_ERROR_SYSCALL:
      // An empty error queue with errno 0 is an EOF without close_notify: the peer hung up.
      if (ERR_peek_error() == 0) {
        if (errno == 0) {
          last_error_ = "connection closed by the peer";
          return Io::closed;
        }
        last_error_ = std::strerror(errno);
        return Io::failed;
      }
      [[fallthrough]];
    default:
      last_error_ = crypto::openssl_error("TLS").message;
      return Io::failed;
  }
}

asio::awaitable<std::string> TlsStream::handshake() {
  if (!ssl_) co_return last_error_;
  SSL_set_accept_state(ssl_);
  boost::system::error_code ec;
  while (true) {
    if (!socket_.is_open()) co_return "connection closed";
    ERR_clear_error();
    errno = 0;
    int result = SSL_do_handshake(ssl_);
    if (result == 1) co_return std::string();
    switch (outcome(result)) {
      case Io::want_read:
        co_await wait_readable(asio::redirect_error(asio::use_awaitable, ec));
        break;
      case Io::want_write:
        co_await wait_writable(asio::redirect_error(asio::use_awaitable, ec));
        break;
      default:
        co_return last_error_;
    }
    if (ec) co_return ec.message();
  }
}

TlsStream::Io TlsStream::read(std::span<uint8_t> buffer, size_t& count) {
  count = 0;
  if (!ssl_ || !socket_.is_open()) return Io::closed;
  ERR_clear_error();
  errno = 0;
  if (SSL_read_ex(ssl_, buffer.data(), buffer.size(), &count) == 1) return Io::done;
  return outcome(0);
}

TlsStream::Io TlsStream::write(ByteView bytes, size_t& count) {
  count = 0;
  if (!ssl_ || !socket_.is_open()) return Io::closed;
  if (bytes.empty()) return Io::done;
  ERR_clear_error();
  errno = 0;
  if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &count) == 1) return Io::done;
  return outcome(0);
}

void TlsStream::close() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);  // also completes pending waits with operation_aborted
}

}  // namespace zt::cloud::broker
