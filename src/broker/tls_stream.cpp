#include "broker/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/redirect_error.hpp>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>

#include "crypto/tls_library_context.hpp"

namespace zt::cloud::broker {

namespace {

// The SSL ex_data slot holding the chain verify_chain took (a STACK_OF(X509)), freed with the SSL
// when nobody took it.
void free_chain(void* /*parent*/, void* chain, CRYPTO_EX_DATA* /*data*/, int /*index*/,
                long /*argl*/, void* /*argp*/) {
  sk_X509_pop_free(static_cast<STACK_OF(X509)*>(chain), X509_free);
}

int chain_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_chain);
  return index;
}

// An SSL_CTX whose method is `method`. OpenSSL 3.0's SSL_set_session first resets an SSL whose
// method differs from its context's (SSL_set_ssl_method: ssl3_free, which clears the negotiated
// cipher state); after the handshake a TLS_server_method SSL has the negotiated version's method,
// so release_peer_certificates swaps the session while the SSL sits in a context of that method.
// One per method (TLS 1.2, TLS 1.3) for the process.
// Freed at exit (function-local statics, made after OpenSSL's own initialisation, are destroyed
// before its atexit clean-up); connections still holding a session keep their own reference.
struct FreeContext {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct FreeSession {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};

SSL_CTX* context_with_method(const SSL_METHOD* method) {
  static std::mutex mutex;
  static std::vector<std::pair<const SSL_METHOD*, std::unique_ptr<SSL_CTX, FreeContext>>> contexts;
  std::lock_guard lock(mutex);
  for (auto& [m, context] : contexts)
    if (m == method) return context.get();
  // The library context of the broker's own contexts (broker.cpp).
  SSL_CTX* context = SSL_CTX_new_ex(crypto::tls_library_context(), nullptr, method);
  if (context) contexts.emplace_back(method, context);
  return context;
}

// What the record layer and SSL_get_current_cipher read from the session once the handshake is
// over: the version and the cipher (the traffic keys live in the SSL). One such session, without
// peer, id or master key, is shared by every connection of that version and cipher: SSL_SESSIONs
// are reference counted and shared between SSLs (as resumption does), and a server SSL writes its
// session only during a handshake (renegotiation is off, no tickets are sent, the empty session id
// keeps it out of the session cache).
SSL_SESSION* slim_session(int version, const SSL_CIPHER* cipher) {
  if (cipher == nullptr) return nullptr;
  static std::mutex mutex;
  static std::vector<
      std::pair<std::pair<int, const SSL_CIPHER*>, std::unique_ptr<SSL_SESSION, FreeSession>>>
      sessions;
  std::lock_guard lock(mutex);
  for (auto& [key, session] : sessions)
    if (key.first == version && key.second == cipher) return session.get();
  SSL_SESSION* session = SSL_SESSION_new();
  if (session == nullptr) return nullptr;
  if (SSL_SESSION_set_protocol_version(session, version) != 1 ||
      SSL_SESSION_set_cipher(session, cipher) != 1) {
    SSL_SESSION_free(session);
    return nullptr;
  }
  sessions.emplace_back(std::make_pair(version, cipher), session);
  return session;
}

}  // namespace

int verify_chain(X509_STORE_CTX* store, void* /*arg*/) {
  int verified = X509_verify_cert(store);
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (verified <= 0 || ssl == nullptr || X509_STORE_CTX_get0_chain(store) == nullptr)
    return verified;
  STACK_OF(X509)* chain = X509_STORE_CTX_get1_chain(store);
  if (chain == nullptr || SSL_set_ex_data(ssl, chain_index(), chain) != 1) {
    sk_X509_pop_free(chain, X509_free);
    return 0;  // out of memory: the handshake fails
  }
  // ssl_verify_cert_chain copies the store's chain into SSL::verified_chain, kept until SSL_free:
  // with none left there, the connection's copy is the one above, freed once authenticated.
  X509_STORE_CTX_set0_verified_chain(store, nullptr);
  return verified;
}

std::vector<crypto::X509Ptr> take_verified_chain(SSL* ssl) {
  std::vector<crypto::X509Ptr> chain;
  if (!ssl) return chain;
  auto* stack = static_cast<STACK_OF(X509)*>(SSL_get_ex_data(ssl, chain_index()));
  if (stack == nullptr) return chain;
  SSL_set_ex_data(ssl, chain_index(), nullptr);
  chain.reserve(static_cast<size_t>(sk_X509_num(stack)));
  while (sk_X509_num(stack) > 0) chain.emplace_back(sk_X509_shift(stack));
  sk_X509_free(stack);
  return chain;
}

void release_peer_certificates(SSL* ssl) {
  if (!ssl || !SSL_is_init_finished(ssl)) return;
  SSL_SESSION* session = SSL_get_session(ssl);
  if (session == nullptr || SSL_SESSION_get0_peer(session) == nullptr) return;
  if (SSL_SESSION_get_max_fragment_length(session) != TLSEXT_max_fragment_length_DISABLED) return;
  SSL_CTX* context = SSL_get_SSL_CTX(ssl);
  SSL_CTX* same_method = context_with_method(SSL_get_ssl_method(ssl));
  SSL_SESSION* slim =
      slim_session(SSL_SESSION_get_protocol_version(session), SSL_SESSION_get0_cipher(session));
  if (same_method == nullptr || slim == nullptr) return;
  long verify_result = SSL_get_verify_result(ssl);
  SSL_CTX_up_ref(context);
  // SSL_set_session frees the old session and the certificates in it.
  if (SSL_set_SSL_CTX(ssl, same_method) == same_method) SSL_set_session(ssl, slim);
  // Back in its own context (SSL_set_SSL_CTX also gives the SSL a fresh copy of that context's
  // certificate settings; the per-connection trust store was for the handshake only).
  SSL_set_SSL_CTX(ssl, context);
  SSL_CTX_free(context);
  SSL_set_verify_result(ssl, verify_result);  // SSL_set_session took the session's
  // A step that failed (out of memory) leaves the old session and its certificates in place: more
  // memory, the same connection. Nothing to report; the next SSL call must not see its error.
  ERR_clear_error();
}

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
