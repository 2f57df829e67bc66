// Fuzz target: a secure-element manifest (`ztp cloud import-certificates --manifest`), untrusted
// bytes from a vendor's delivery. Parsing must bound everything and never crash; each entry that
// parsed is then verified (JWS, chain, key) against a fixed root and manifest signer, so fuzzed
// certificates and signatures reach OpenSSL's chain verification too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/key.hpp"
#include "pki/manifest.hpp"
#include "pki/profiles.hpp"

namespace {

using namespace zt;

struct Anchors {
  crypto::PkeyPtr key;
  crypto::X509Ptr root;
};

const Anchors& anchors() {
  static const Anchors instance = [] {
    Anchors out;
    out.key = std::move(*crypto::generate_p256_key());
    out.root = std::move(*pki::create_root_certificate(out.key.get(), 1795617441));
    return out;
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto entries = pki::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!entries) return 0;
  pki::ManifestTrust trust;
  X509_up_ref(anchors().root.get());
  trust.roots.emplace_back(anchors().root.get());
  for (const auto& entry : *entries) {
    (void)pki::verify_manifest_entry(entry, trust);
    trust.manifest_signer = anchors().root.get();
    (void)pki::verify_manifest_entry(entry, trust);
    trust.manifest_signer = nullptr;
  }
  return 0;
}
