#include "broker/broker.hpp"

#include <utility>  // before Boost 1.74 asio/awaitable.hpp, which uses std::exchange without it

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>

#include <map>
#include <mutex>
#include <thread>

#include "broker/connection.hpp"
#include "common/accept_loop.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "crypto/key.hpp"
#include "crypto/ossl.hpp"
#include "crypto/tls_library_context.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud::broker {
namespace {

// The broker's TLS contexts handshake in crypto::tls_library_context(): the default provider's
// algorithms with the per-certificate decoder set-up of OpenSSL 3.0 cut to what a handshake needs
// (about a fifth of the CPU of a connect, issue 19). OpenSSL's default context when it is not
// available (a FIPS configuration).
SSL_CTX* new_server_context() {
  return SSL_CTX_new_ex(crypto::tls_library_context(), nullptr, TLS_server_method());
}

constexpr size_t kBlockingThreads = 4;

}  // namespace

struct Broker::Impl {
  Impl(BrokerConfig config, std::shared_ptr<Authenticator> authenticator,
       std::shared_ptr<Authorizer> authorizer)
      : core(std::move(config), std::move(authenticator), std::move(authorizer)),
        tls(new_server_context()) {}

  Core core;
  asio::ssl::context tls;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  // Where Authenticators' deferred decisions run (JITR's registry write and its fsync): a few
  // threads, since registrations waiting at once share one group commit.
  std::unique_ptr<asio::thread_pool> blocking;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> expiry_timer;
  std::shared_ptr<ConnectionLimiter> limiter;
  std::atomic<size_t> next_context{0};
  // Per io_context: its connections in their handshake or CONNECT (the CPU-heavy part of a
  // connection's life). A new connection goes to the least busy one.
  std::unique_ptr<std::atomic<uint32_t>[]> busy;
  size_t least_busy_context();
  uint16_t port = 0;
  bool running = false;

  // The contexts of other server names (Authenticator::server_identity), by name; rebuilt when
  // the name's chain changes. A handshake switches to one with SSL_set_SSL_CTX (which holds its
  // own reference, so an entry may be replaced while a connection uses it).
  struct NamedContext {
    std::string chain_pem;
    std::shared_ptr<SSL_CTX> context;
  };
  std::mutex named_mutex;
  std::map<std::string, NamedContext, std::less<>> named_contexts;

  Status configure_tls();
  void configure_common(SSL_CTX* ctx);
  std::shared_ptr<SSL_CTX> context_for(const std::string& name,
                                       const Authenticator::ServerIdentity& identity);
  static int check_server_name(SSL* ssl, int* alert, void* arg);
  asio::awaitable<void> accept_loop();
  void schedule_expiry();
};

void Broker::Impl::configure_common(SSL_CTX* ctx) {
  // aws-iot.md §6.2: TLS 1.2 and 1.3.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle connections give their TLS record buffers back (most of an idle connection's memory);
  // TlsStream writes records from our own buffer, one or more per call.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // No session tickets (TLS 1.2: SSL_OP_NO_TICKET, TLS 1.3: zero tickets). Without a session id
  // context a ticket cannot resume properly with a required client certificate: TLS 1.2 resumption
  // fails the handshake (SSL_R_SESSION_ID_CONTEXT_UNINITIALIZED), a TLS 1.3 one would come back
  // without a verified chain to authenticate. Every connect is a full handshake, which is what the
  // Authenticator needs; it also saves the ticket encryption per connect.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  // Client certificate required; the trust store is set per connection
  // (Authenticator::trust_store).
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // X509_verify_cert, the verified chain kept by the connection until it has authenticated rather
  // than by the SSL for the connection's life (memory per idle connection, bench_scale).
  SSL_CTX_set_cert_verify_callback(ctx, verify_chain, nullptr);
}

Status Broker::Impl::configure_tls() {
  SSL_CTX* ctx = tls.native_handle();
  configure_common(ctx);
  if (crypto::tls_library_context() == nullptr)
    spdlog::info("broker: TLS handshakes use OpenSSL's default library context");
  const auto& config = core.config();
  if (SSL_CTX_use_certificate_chain_file(ctx, config.certificate_file.c_str()) != 1) {
    return crypto::openssl_error(
        fmt::format("loading server certificate {}", config.certificate_file.string()));
  }
  // Read in OpenSSL's default context: the TLS context decodes certificates only (its header).
  auto key = crypto::load_private_key(config.key_file);
  if (!key) {
    return Error{key.error().code, fmt::format("loading server key {}: {}",
                                               config.key_file.string(), key.error().message)};
  }
  if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1) {
    return crypto::openssl_error(fmt::format("loading server key {}", config.key_file.string()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return crypto::openssl_error("the server key does not match the server certificate");
  }
  // SNI is judged in the ClientHello, so a wrong endpoint name fails the handshake with an alert
  // the device can tell apart from a refused certificate.
  SSL_CTX_set_tlsext_servername_callback(ctx, check_server_name);
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
  return ok();
}

int Broker::Impl::check_server_name(SSL* ssl, int* alert, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  auto address = [ssl](bool local) {
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    auto* raw = reinterpret_cast<sockaddr*>(&storage);
    int fd = SSL_get_fd(ssl);
    if (fd < 0 || (local ? ::getsockname(fd, raw, &size) : ::getpeername(fd, raw, &size)) != 0)
      return std::string();
    char text[INET6_ADDRSTRLEN] = {};
    const void* in =
        storage.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(raw)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(raw)->sin_addr);
    if (::inet_ntop(storage.ss_family, in, text, sizeof text) == nullptr) return std::string();
    return std::string(text);
  };
  auto& impl = *static_cast<Impl*>(arg);
  Authenticator& authenticator = impl.core.authenticator();
  if (!authenticator.accept_server_name(name, address(true), address(false))) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (auto identity = authenticator.server_identity(name)) {
    auto context = impl.context_for(name, *identity);
    if (!context) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    SSL_set_SSL_CTX(ssl, context.get());
    // The switch replaced the connection's certificate settings, its client trust store with
    // them: set it again (Connection::run set it before the handshake).
    auto store = authenticator.trust_store();
    SSL_set1_verify_cert_store(ssl, store.get());
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<SSL_CTX> Broker::Impl::context_for(const std::string& name,
                                                   const Authenticator::ServerIdentity& identity) {
  std::string lower = name;  // DNS names are case-insensitive: one context per name
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::lock_guard lock(named_mutex);
  if (auto it = named_contexts.find(lower);
      it != named_contexts.end() && it->second.chain_pem == identity.chain_pem)
    return it->second.context;
  std::shared_ptr<SSL_CTX> context(new_server_context(), SSL_CTX_free);
  if (!context) return nullptr;
  configure_common(context.get());
  auto chain = crypto::certificates_from_pem(identity.chain_pem, "server certificate chain");
  auto key = crypto::private_key_from_pem(identity.key_pem, "server key");
  bool loaded = chain && key && !chain->empty() &&
                SSL_CTX_use_certificate(context.get(), chain->front().get()) == 1 &&
                SSL_CTX_use_PrivateKey(context.get(), key->get()) == 1 &&
                SSL_CTX_check_private_key(context.get()) == 1;
  for (size_t i = 1; loaded && chain && i < chain->size(); ++i)
    loaded = SSL_CTX_add1_chain_cert(context.get(), (*chain)[i].get()) == 1;
  if (!loaded) {
    spdlog::warn("broker: the server certificate for '{}' cannot be used", name.substr(0, 255));
    return nullptr;
  }
  // Bounded: names come from the registry's domain configurations, not from clients.
  if (named_contexts.size() >= 1024) named_contexts.clear();
  named_contexts[lower] = NamedContext{identity.chain_pem, context};
  return context;
}

asio::awaitable<void> Broker::Impl::accept_loop() {
  return accept_connections(
      "broker", *acceptor, limiter, /*allow_eviction=*/false,
      // A connection lives on one io_context (one thread) for its whole life: the one with the
      // fewest handshakes in progress (busy, counted from serve() to the connection's CONNECT).
      [this] { return tcp::socket(*contexts[least_busy_context()]); },
      // Over a cap the connection is closed at once, before any TLS work (MQTT has no way to say
      // "busy" before CONNECT, and a TLS alert would cost a handshake's worth of work).
      [](tcp::socket& socket) {
        boost::system::error_code ignored;
        socket.close(ignored);
      },
      [this](tcp::socket socket, ConnectionLimiter::Slot slot, const std::string&) {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto* context = &static_cast<asio::io_context&>(socket.get_executor().context());
        size_t index = 0;
        while (index + 1 < contexts.size() && contexts[index].get() != context) ++index;
        busy[index].fetch_add(1, std::memory_order_relaxed);
        std::make_shared<Connection>(core, std::move(socket), tls.native_handle(),
                                     blocking->get_executor(), busy[index])
            ->start(std::move(slot));
      });
}

size_t Broker::Impl::least_busy_context() {
  // Ties go round-robin, so an idle broker still spreads its long-lived connections.
  size_t start = next_context++ % contexts.size();
  size_t best = start;
  for (size_t step = 1; step < contexts.size(); ++step) {
    size_t index = (start + step) % contexts.size();
    if (busy[index].load(std::memory_order_relaxed) < busy[best].load(std::memory_order_relaxed))
      best = index;
  }
  return best;
}

void Broker::Impl::schedule_expiry() {
  expiry_timer->expires_after(std::chrono::seconds(30));
  expiry_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (size_t expired = core.expire_sessions(std::chrono::steady_clock::now())) {
      spdlog::info("broker: {} persistent session(s) expired", expired);
    }
    schedule_expiry();
  });
}

namespace {

// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the peer has closed: the
// default action would kill the whole process for one client that hung up (seen as a test process
// killed under ASan). A program that embeds the broker without setting SIGPIPE itself (tests,
// benchmarks) gets it ignored, as `ztp` does in main; a handler the program installed stays.
void ignore_sigpipe_unless_handled() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

Broker::Broker(BrokerConfig config, std::shared_ptr<Authenticator> authenticator,
               std::shared_ptr<Authorizer> authorizer)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(authenticator),
                                   std::move(authorizer))) {
  ignore_sigpipe_unless_handled();
}

Broker::~Broker() { stop(); }

void Broker::add_observer(std::shared_ptr<Observer> observer) {
  impl_->core.add_observer(std::move(observer));
}

Status Broker::start() {
  auto& impl = *impl_;
  ZT_TRY(impl.configure_tls());
  const auto& config = impl.core.config();
  size_t threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  impl.busy = std::make_unique<std::atomic<uint32_t>[]>(threads);
  for (size_t i = 0; i < threads; ++i) {
    impl.contexts.push_back(std::make_unique<asio::io_context>(1));
    impl.guards.push_back(asio::make_work_guard(*impl.contexts.back()));
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config.host, ec);
  if (ec)
    return make_error(Errc::invalid_argument,
                      fmt::format("listen address '{}': {}", config.host, ec.message()));
  tcp::endpoint endpoint(address, config.port);
  impl.acceptor = std::make_unique<tcp::acceptor>(*impl.contexts[0]);
  impl.acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl.acceptor->bind(endpoint, ec);
  if (!ec) impl.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(
        Errc::io, fmt::format("listening on {}:{}: {}", config.host, config.port, ec.message()));
  }
  impl.port = impl.acceptor->local_endpoint().port();
  impl.blocking = std::make_unique<asio::thread_pool>(kBlockingThreads);
  impl.limiter = ConnectionLimiter::create(config.connection_caps);
  asio::co_spawn(*impl.contexts[0], impl.accept_loop(), log_exceptions("broker: accept loop"));
  impl.expiry_timer = std::make_unique<asio::steady_timer>(*impl.contexts[0]);
  impl.schedule_expiry();
  for (auto& context : impl.contexts) {
    impl.threads.emplace_back([&context] { context->run(); });
  }
  impl.running = true;
  return ok();
}

uint16_t Broker::port() const { return impl_->port; }

void Broker::publish(Message message) {
  if (message.timestamp_ms == 0) {
    message.timestamp_ms = unix_now_ms();
  }
  impl_->core.publish(std::make_shared<const Message>(std::move(message)));
}

void Broker::publish_to_connection(std::string_view session_identifier, Message message) {
  if (message.timestamp_ms == 0) message.timestamp_ms = unix_now_ms();
  message.retain = false;
  impl_->core.publish_to_connection(session_identifier,
                                    std::make_shared<const Message>(std::move(message)));
}

size_t Broker::connection_count() const { return impl_->core.connections.load(); }
size_t Broker::connections_in_handshake() const {
  size_t total = 0;
  for (size_t i = 0; i < impl_->contexts.size(); ++i) total += impl_->busy[i].load();
  return total;
}
size_t Broker::disconnect_principal(std::string_view principal, DisconnectReason reason) {
  return impl_->core.disconnect_principal(principal, reason);
}
size_t Broker::session_count() const { return impl_->core.session_count(); }

void Broker::stop() {
  auto& impl = *impl_;
  if (!impl.running) return;
  impl.running = false;
  // MQTT 5 clients are told (DISCONNECT 0x8B Server shutting down) before the threads stop: the
  // connections close once that is written, bounded by a short grace period.
  if (impl.core.say_goodbye() > 0) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (impl.core.goodbyes_pending.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  asio::post(*impl.contexts[0], [&impl] {
    boost::system::error_code ec;
    impl.acceptor->close(ec);
    impl.expiry_timer->cancel();
  });
  // Stopping the contexts abandons the connections; their sockets close when destroyed.
  impl.guards.clear();
  for (auto& context : impl.contexts) context->stop();
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
  // A deferred decision still running finishes; it resumes its connection on a stopped context,
  // which destroys it below with the others.
  impl.blocking->join();
  impl.core.release_outlets();  // before the contexts (and the connections' sockets) go
  impl.acceptor.reset();
  impl.expiry_timer.reset();
  impl.contexts.clear();
}

}  // namespace zt::cloud::broker
