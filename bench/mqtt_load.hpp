// A small MQTT-over-mutual-TLS load generator for bench/broker.cpp: clients are coroutines on a
// strand each, speaking MQTT 3.1.1 or 5 through our codec. Used identically against our broker and
// Mosquitto.
//
// TLS is OpenSSL on the socket itself (SSL_set_fd, non-blocking, waiting for readiness with
// async_wait), not asio::ssl::stream: the handshake is the same (OpenSSL's SSL_connect with the
// context's certificate, key, trust anchor and verify mode), but asio's engine gives every stream
// two 17 KB buffers of its own, zero-filled, and copies each record through a BIO pair. The load
// generator shares the two cores with the broker it measures, so what it spends per connect is
// taken from that broker (docs/benchmarks.md, Broker).
#pragma once

#include <utility>  // before Boost 1.74 asio/awaitable.hpp

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>

#include "mqtt/decoder.hpp"
#include "mqtt/packet.hpp"

namespace zt::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class LoadClient {
 public:
  // level: mqtt::kProtocolLevel311 or mqtt::kProtocolLevel5.
  LoadClient(asio::io_context& context, asio::ssl::context& tls,
             uint8_t level = mqtt::kProtocolLevel311)
      : socket_(asio::make_strand(context)), tls_(tls.native_handle()), level_(level) {
    decoder_.set_protocol_level(level);
    // OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the broker has closed
    // the connection (asio's own sends use MSG_NOSIGNAL): the failed write is the error instead.
    static const bool sigpipe_ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
    (void)sigpipe_ignored;
  }

  auto executor() { return socket_.get_executor(); }
  uint8_t level() const { return level_; }
  // The SNI the next connect sends ("" for none: OpenSSL sends none by default).
  void set_server_name(std::string name) { server_name_ = std::move(name); }

  // TCP connect, TLS handshake with the client certificate, CONNECT, CONNACK.
  asio::awaitable<void> connect(uint16_t port, const std::string& client_id,
                                uint16_t keep_alive = 600) {
    socket_.open(tcp::v4());
    socket_.set_option(tcp::no_delay(true));
    co_await socket_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                   asio::use_awaitable);
    socket_.non_blocking(true);
    ssl_.reset(SSL_new(tls_));
    if (!ssl_ || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1)
      throw std::runtime_error("SSL_new/SSL_set_fd failed");
    // Read whole records (and what follows them) per read(2), as asio's engine did.
    SSL_set_read_ahead(ssl_.get(), 1);
    SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (!server_name_.empty()) SSL_set_tlsext_host_name(ssl_.get(), server_name_.c_str());
    while (true) {
      ERR_clear_error();
      int result = SSL_connect(ssl_.get());
      if (result == 1) break;
      co_await wait_for(result, "TLS handshake");
    }
    mqtt::Connect connect;
    connect.protocol_level = level_;
    connect.keep_alive = keep_alive;
    connect.client_id = client_id;
    co_await send(connect);
    auto packet = co_await read_packet();
    auto* connack = std::get_if<mqtt::Connack>(&packet);
    bool accepted = connack && (level_ == mqtt::kProtocolLevel5
                                    ? connack->reason_code == mqtt::reason::success
                                    : connack->return_code == mqtt::ConnectReturnCode::accepted);
    if (!accepted) throw std::runtime_error("CONNACK refused");
  }

  asio::awaitable<void> send(const mqtt::Packet& packet) {
    Bytes wire = *mqtt::encode_packet(packet, level_);
    co_await send_bytes(wire);
  }
  asio::awaitable<void> send_bytes(const Bytes& wire) {
    for (size_t sent = 0; sent < wire.size();) {
      ERR_clear_error();
      size_t count = 0;
      int result = SSL_write_ex(ssl_.get(), wire.data() + sent, wire.size() - sent, &count);
      if (result == 1)
        sent += count;
      else
        co_await wait_for(result, "TLS write");
    }
  }

  asio::awaitable<mqtt::Packet> read_packet() {
    while (true) {
      auto next = decoder_.next();
      if (!next) throw std::runtime_error(next.error().message);
      if (*next) co_return std::move(**next);
      ERR_clear_error();
      size_t count = 0;
      int result = SSL_read_ex(ssl_.get(), buffer_.data(), buffer_.size(), &count);
      if (result == 1)
        decoder_.feed(ByteView(buffer_.data(), count));
      else
        co_await wait_for(result, "TLS read");
    }
  }

  // Whether a complete packet is already buffered (so a batch of acks can be written at once).
  bool has_buffered_bytes() const { return decoder_.buffered() > 0; }

  asio::awaitable<void> subscribe(const std::string& filter, uint8_t qos) {
    mqtt::Subscribe
        subscribe;  // built outside co_await: GCC 12 miscompiles the braced temporary there
    subscribe.packet_id = 1;
    subscribe.subscriptions.push_back(mqtt::Subscription{filter, qos});
    co_await send(subscribe);
    auto packet = co_await read_packet();
    if (!std::holds_alternative<mqtt::Suback>(packet)) throw std::runtime_error("no SUBACK");
  }

  // The negotiated TLS parameters (after connect), for the benchmark to show that both brokers
  // run the same handshake: version, suite, key-exchange group, the server's signature scheme.
  std::string tls_parameters() {
    SSL* ssl = ssl_.get();
    const char* group = SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl));
    int sig_type = NID_undef, sig_digest = NID_undef;
    SSL_get_peer_signature_type_nid(ssl, &sig_type);
    SSL_get_peer_signature_nid(ssl, &sig_digest);
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);  // the server's, leaf included
    return std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl) + ", group " +
           (group ? group : "?") + ", server signs " + OBJ_nid2sn(sig_type) + "+" +
           OBJ_nid2sn(sig_digest) + ", server sends " +
           std::to_string(chain ? sk_X509_num(chain) : 0) + " certificate(s)";
  }

  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  // After an SSL_* call returned `result` <= 0: waits until the socket is ready for what OpenSSL
  // wants (SSL_get_error(3)), or throws.
  asio::awaitable<void> wait_for(int result, const char* what) {
    switch (SSL_get_error(ssl_.get(), result)) {
      case SSL_ERROR_WANT_READ:
        co_await socket_.async_wait(tcp::socket::wait_read, asio::use_awaitable);
        co_return;
      case SSL_ERROR_WANT_WRITE:
        co_await socket_.async_wait(tcp::socket::wait_write, asio::use_awaitable);
        co_return;
      case SSL_ERROR_ZERO_RETURN:
        throw std::runtime_error(std::string(what) + ": the peer closed the connection");
      default: {
        char reason[256] = "the connection was closed";
        if (unsigned long error = ERR_get_error()) ERR_error_string_n(error, reason, sizeof reason);
        throw std::runtime_error(std::string(what) + ": " + reason);
      }
    }
  }

  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };

  tcp::socket socket_;
  SSL_CTX* tls_;
  std::unique_ptr<SSL, SslFree> ssl_;  // after socket_: freed first (its BIO does not own the fd)
  uint8_t level_;
  std::string server_name_;
  mqtt::StreamDecoder decoder_;
  std::array<uint8_t, 16384> buffer_;  // read into, never read before written: not zero-filled
};

// Counts PUBLISH packets until `expected` arrived or `deadline`, acknowledging QoS 1 ones.
struct Receiver {
  std::atomic<size_t> received{0};
  Clock::time_point last{};

  asio::awaitable<void> run(LoadClient& client, size_t expected, Clock::time_point deadline) {
    Bytes acks;
    try {
      while (received < expected && Clock::now() < deadline) {
        auto packet = co_await client.read_packet();
        if (auto* publish = std::get_if<mqtt::Publish>(&packet)) {
          ++received;
          last = Clock::now();
          if (publish->qos == 1) {
            mqtt::Puback puback;
            puback.packet_id = publish->packet_id;
            (void)mqtt::encode_packet(puback, acks, client.level());
          }
        }
        if (!acks.empty() && (!client.has_buffered_bytes() || acks.size() > 4096)) {
          co_await client.send_bytes(acks);
          acks.clear();
        }
      }
    } catch (const std::exception&) {
    }
  }
};

// Publishes `count` messages: QoS 0 in pipelined batches, QoS 1 in windows of `window` awaiting
// PUBACKs. With `topic_alias` (MQTT 5, §3.3.2.3.4) the first PUBLISH maps the topic to alias 1
// and the others carry only the alias (an empty topic name).
inline asio::awaitable<void> publish_messages(LoadClient& client, std::string topic, size_t count,
                                              uint8_t qos, size_t payload_bytes, size_t window = 50,
                                              bool topic_alias = false) {
  Bytes payload(payload_bytes, 'x');
  uint16_t packet_id = 0;
  size_t sent = 0;
  mqtt::Properties alias;
  alias.topic_alias = 1;
  while (sent < count) {
    size_t batch = std::min(window, count - sent);
    Bytes wire;
    for (size_t i = 0; i < batch; ++i) {
      packet_id = packet_id == 0xffff ? 1 : static_cast<uint16_t>(packet_id + 1);
      std::string_view name = topic_alias && sent + i > 0 ? std::string_view() : topic;
      (void)mqtt::encode_publish(name, payload, qos, false, false, qos ? packet_id : 0, wire,
                                 topic_alias ? &alias : nullptr);
    }
    co_await client.send_bytes(wire);
    if (qos == 1) {
      for (size_t acked = 0; acked < batch;) {
        auto packet = co_await client.read_packet();
        if (std::holds_alternative<mqtt::Puback>(packet)) ++acked;
      }
    }
    sent += batch;
  }
}

}  // namespace zt::bench
