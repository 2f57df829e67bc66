// TLS on a non-blocking TCP socket, driven by SSL_read/SSL_write on the descriptor itself
// (SSL_set_fd) and woken by Asio readiness waits. Asio's ssl::stream keeps a BIO pair and two
// record buffers per connection (~68 KB whether the connection is busy or idle); here OpenSSL reads
// from and writes to the socket directly, and with SSL_MODE_RELEASE_BUFFERS an idle connection
// holds no record buffer at all. Every call happens on the socket's executor thread.
//
// Readiness rule: wait_readable()/wait_writable() only after an operation reported want_read /
// want_write, i.e. after the socket itself said EAGAIN. Asio's epoll reactor is edge-triggered, so
// that is what guarantees a later readiness event.
#pragma once

#include <utility>  // before Boost 1.74 asio/awaitable.hpp, which uses std::exchange without it

#include <openssl/ssl.h>
#include <boost/asio.hpp>

#include <vector>

#include "common/bytes.hpp"
#include "crypto/ossl.hpp"

namespace zt::cloud::broker {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// The SSL_CTX certificate-verify callback (SSL_CTX_set_cert_verify_callback) of the broker's
// contexts: X509_verify_cert, then the verified chain moves to the SSL's ex_data for
// take_verified_chain, instead of OpenSSL's SSL::verified_chain, which only SSL_free releases.
int verify_chain(X509_STORE_CTX* store, void* arg);

// The client's chain as verify_chain kept it (leaf … trust anchor), handed over once; empty when
// none was verified.
std::vector<crypto::X509Ptr> take_verified_chain(SSL* ssl);

// After the handshake, once the peer's identity has been read: gives the client's certificates
// back. OpenSSL 3.0's SSL_SESSION holds the leaf and the chain the client sent, each parsed with
// its public key (~5 KB), until SSL_free, and has no call to drop them; the session is swapped for
// a shared one without them (version and cipher only). The connection keeps its keys and negotiated
// parameters; SSL_get_peer_certificate returns nothing afterwards. A session with a negotiated
// max_fragment_length, which the record layer reads from it, is kept as it is.
void release_peer_certificates(SSL* ssl);

class TlsStream {
 public:
  // How a non-blocking operation ended.
  enum class Io { done, want_read, want_write, closed, failed };

  TlsStream(tcp::socket socket, SSL_CTX* context);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  SSL* native_handle() { return ssl_; }
  tcp::socket& socket() { return socket_; }
  auto get_executor() { return socket_.get_executor(); }

  // Server side of the handshake; an empty string on success, else what went wrong.
  asio::awaitable<std::string> handshake();

  // take_verified_chain and release_peer_certificates (above) on this connection.
  std::vector<crypto::X509Ptr> take_verified_chain() { return broker::take_verified_chain(ssl_); }
  void release_peer_certificates() { broker::release_peer_certificates(ssl_); }

  // One non-blocking step. read() stores the byte count in `count` (> 0 when done); write() sends
  // at least one record of `bytes` when done (partial writes are enabled) and reports how much.
  Io read(std::span<uint8_t> buffer, size_t& count);
  Io write(ByteView bytes, size_t& count);

  // The OpenSSL / socket error behind the last `failed` or `closed`, for logs.
  const std::string& last_error() const { return last_error_; }

  // Completes when the socket is readable / writable, or with operation_aborted after close().
  template <class Token>
  auto wait_readable(Token&& token) {
    return socket_.async_wait(tcp::socket::wait_read, std::forward<Token>(token));
  }
  template <class Token>
  auto wait_writable(Token&& token) {
    return socket_.async_wait(tcp::socket::wait_write, std::forward<Token>(token));
  }

  // Shuts the socket down and closes it. Afterwards no read/write may be called (the descriptor
  // number may already belong to another connection).
  void close();
  bool is_open() const { return socket_.is_open(); }

 private:
  Io outcome(int result);

  tcp::socket socket_;
  SSL* ssl_ = nullptr;
  std::string last_error_;
};

}  // namespace zt::cloud::broker
