// Trust anchors for client certificates, and the simple Authenticator `ztp broker run` uses: accept
// every client whose chain reaches an anchor from a PEM file. The local cloud replaces it with the
// registry-backed one (registered ACTIVE CAs, JITR).
#pragma once

#include <filesystem>
#include <mutex>
#include <vector>

#include "broker/interfaces.hpp"
#include "common/result.hpp"

namespace zt::cloud::broker {

// A set of anchors that can change while the broker runs. Each change builds a new X509_STORE;
// handshakes in progress keep the store they started with.
class TrustAnchorSet {
 public:
  TrustAnchorSet();
  Status replace(const std::vector<crypto::X509Ptr>& anchors);
  crypto::UniquePtr<X509_STORE> store() const;  // a new reference to the current store
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  crypto::UniquePtr<X509_STORE> store_;
  size_t size_ = 0;
};

// Certificate id as AWS IoT computes it: lowercase hex SHA-256 of the DER certificate.
Result<std::string> certificate_id(const X509* certificate);

class PemFileAuthenticator final : public Authenticator {
 public:
  static Result<std::shared_ptr<PemFileAuthenticator>> load(const std::filesystem::path& pem_file);
  crypto::UniquePtr<X509_STORE> trust_store() override { return anchors_.store(); }
  AuthDecision authenticate(const PeerCertificate& peer) override;

 private:
  TrustAnchorSet anchors_;
};

}  // namespace zt::cloud::broker
