#include "broker/trust.hpp"

#include <fmt/format.h>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"

namespace zt::cloud::broker {
namespace {

Result<crypto::UniquePtr<X509_STORE>> build_store(const std::vector<crypto::X509Ptr>& anchors) {
  crypto::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store) return crypto::openssl_error("creating a certificate store");
  for (const auto& anchor : anchors) {
    if (X509_STORE_add_cert(store.get(), anchor.get()) != 1) {
      return crypto::openssl_error("adding a trust anchor");
    }
  }
  // An anchor may be an intermediate CA (a registered signer CA): the chain stops there instead of
  // having to reach a self-signed root.
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  return store;
}

}  // namespace

TrustAnchorSet::TrustAnchorSet() { store_ = std::move(*build_store({})); }

Status TrustAnchorSet::replace(const std::vector<crypto::X509Ptr>& anchors) {
  ZT_TRY_ASSIGN(auto store, build_store(anchors));
  std::lock_guard lock(mutex_);
  store_ = std::move(store);
  size_ = anchors.size();
  return ok();
}

crypto::UniquePtr<X509_STORE> TrustAnchorSet::store() const {
  std::lock_guard lock(mutex_);
  X509_STORE_up_ref(store_.get());
  return crypto::UniquePtr<X509_STORE>(store_.get());
}

size_t TrustAnchorSet::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

Result<std::string> certificate_id(const X509* certificate) {
  ZT_TRY_ASSIGN(Bytes der, crypto::certificate_to_der(certificate));
  return to_hex(crypto::sha256(der));
}

Result<std::shared_ptr<PemFileAuthenticator>> PemFileAuthenticator::load(
    const std::filesystem::path& pem_file) {
  ZT_TRY_ASSIGN(std::string pem, read_text_file(pem_file));
  ZT_TRY_ASSIGN(auto anchors, crypto::certificates_from_pem(pem, pem_file.string()));
  if (anchors.empty()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{}: no certificate found", pem_file.string()));
  }
  auto authenticator = std::make_shared<PemFileAuthenticator>();
  ZT_TRY(authenticator->anchors_.replace(anchors));
  return authenticator;
}

AuthDecision PemFileAuthenticator::authenticate(const PeerCertificate& peer) {
  auto id = certificate_id(peer.certificate.get());
  if (!id) return AuthDecision{.outcome = AuthOutcome::reject, .reason = id.error().message};
  return AuthDecision{.outcome = AuthOutcome::accept, .principal = *id};
}

}  // namespace zt::cloud::broker
