// The kit's TLS link to the MQTT endpoint (the WINC1500's part in the seed): TLS 1.2, SNI = the
// endpoint's host name, the server verified against a CA file and that host name, the client
// authenticated with the device + signer chain and a key whose signatures the ATECC508A makes
// (se_private_key). Blocking socket with timeouts; one thread owns a connection.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "crypto/ossl.hpp"

namespace zt::kit {

struct TlsClientConfig {
  std::string server_name;  // SNI and the name the server certificate must carry
  std::string address;      // the resolved IPv4/IPv6 literal
  uint16_t port = 8883;
  std::filesystem::path server_ca;  // PEM trust anchors for the server
  X509* device_cert = nullptr;
  X509* signer_cert = nullptr;  // sent as the chain's intermediate
  EVP_PKEY* key = nullptr;      // the SE-backed key
  std::chrono::milliseconds timeout{5000};
};

class TlsConnection {
 public:
  static Result<std::unique_ptr<TlsConnection>> connect(const TlsClientConfig& config);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  Status write_all(ByteView data);
  // Bytes received within `wait`; an empty vector when nothing arrived; an error when the peer
  // closed the connection or TLS failed.
  Result<Bytes> read(std::chrono::milliseconds wait);
  std::string cipher() const;

 private:
  TlsConnection(SSL_CTX* ctx, SSL* ssl, UniqueFd fd) : ctx_(ctx), ssl_(ssl), fd_(std::move(fd)) {}
  SSL_CTX* ctx_;
  SSL* ssl_;
  UniqueFd fd_;
};

}  // namespace zt::kit
