#include "pki/manifest.hpp"

#include <openssl/x509_vfy.h>

#include <nlohmann/json.hpp>

#include "common/hex.hpp"
#include "common/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"

namespace zt::pki {
namespace {

using nlohmann::json;

constexpr int kMaxManifestDepth = 16;
constexpr size_t kMaxPayloadText = 64 * 1024;  // base64url of one part's payload
constexpr size_t kMaxCertificateText = 8 * 1024;
constexpr size_t kMaxKeys = 16;

// RFC 7515 §2: base64url without padding (padding tolerated).
Result<Bytes> base64url_decode(std::string_view text) {
  std::string standard(text);
  while (!standard.empty() && standard.back() == '=') standard.pop_back();
  for (char& c : standard) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/')
      return make_error(Errc::parse, "not base64url");
  }
  if (standard.size() % 4 == 1) return make_error(Errc::parse, "not base64url (length)");
  standard.append((4 - standard.size() % 4) % 4, '=');
  return base64_decode(standard);
}

std::string base64url_encode(ByteView bytes) {
  std::string text = base64_encode(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return text;
}

const std::string* string_at(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// The entry's fields, or the reason it cannot be used.
Status read_entry(const json& signed_element, ManifestEntry& entry) {
  if (!signed_element.is_object()) return make_error(Errc::parse, "not a JSON object");
  const std::string* payload_text = string_at(signed_element, "payload");
  const std::string* protected_text = string_at(signed_element, "protected");
  const std::string* signature_text = string_at(signed_element, "signature");
  if (!payload_text || !protected_text || !signature_text)
    return make_error(Errc::parse, "payload, protected and signature must be strings");
  if (payload_text->size() > kMaxPayloadText || protected_text->size() > 4096 ||
      signature_text->size() > 1024)
    return make_error(Errc::parse, "a JWS part is too long");
  entry.signing_input = *protected_text + "." + *payload_text;
  ZT_TRY_ASSIGN(entry.signature, with_context(base64url_decode(*signature_text), "signature"));

  ZT_TRY_ASSIGN(Bytes protected_bytes,
                with_context(base64url_decode(*protected_text), "protected"));
  ZT_TRY_ASSIGN(json header, with_context(parse_json(std::string_view(reinterpret_cast<const char*>(
                                                                          protected_bytes.data()),
                                                                      protected_bytes.size()),
                                                     kMaxManifestDepth),
                                          "protected header"));
  if (const std::string* alg = string_at(header, "alg")) entry.algorithm = *alg;
  if (const std::string* thumbprint = string_at(header, "x5t#S256"))
    entry.signer_thumbprint = *thumbprint;

  ZT_TRY_ASSIGN(Bytes payload_bytes, with_context(base64url_decode(*payload_text), "payload"));
  ZT_TRY_ASSIGN(
      json payload,
      with_context(parse_json(std::string_view(reinterpret_cast<const char*>(payload_bytes.data()),
                                               payload_bytes.size()),
                              kMaxManifestDepth),
                   "payload"));
  const std::string* unique_id = string_at(payload, "uniqueId");
  if (!unique_id || unique_id->empty() || unique_id->size() > 64)
    return make_error(Errc::parse, "payload.uniqueId must be a string of 1-64 characters");
  entry.unique_id = *unique_id;
  const json* header_plain =
      signed_element.contains("header") ? &signed_element["header"] : nullptr;
  if (const std::string* outer = header_plain ? string_at(*header_plain, "uniqueId") : nullptr;
      outer && *outer != *unique_id)
    return make_error(Errc::parse, "header.uniqueId differs from payload.uniqueId");

  const json* keys = nullptr;
  if (payload.is_object() && payload.contains("publicKeySet") &&
      payload["publicKeySet"].is_object() && payload["publicKeySet"].contains("keys"))
    keys = &payload["publicKeySet"]["keys"];
  if (!keys || !keys->is_array() || keys->empty() || keys->size() > kMaxKeys)
    return make_error(Errc::parse, "payload.publicKeySet.keys must be an array of 1-16 keys");
  for (const json& key : *keys) {
    if (!key.is_object() || !key.contains("x5c")) continue;
    const json& x5c = key["x5c"];
    if (!x5c.is_array() || x5c.empty() || x5c.size() > kMaxManifestChain)
      return make_error(Errc::parse, "x5c must be an array of 1-4 certificates");
    for (const json& certificate : x5c) {
      if (!certificate.is_string() ||
          certificate.get_ref<const std::string&>().size() > kMaxCertificateText)
        return make_error(Errc::parse, "each x5c entry must be base64 DER of at most 6 KB");
      ZT_TRY_ASSIGN(Bytes der, with_context(base64_decode(certificate.get<std::string>()), "x5c"));
      entry.chain.push_back(std::move(der));
    }
    const std::string* x = string_at(key, "x");
    const std::string* y = string_at(key, "y");
    if (x && y && x->size() <= 64 && y->size() <= 64) {
      ZT_TRY_ASSIGN(Bytes x_bytes, with_context(base64url_decode(*x), "x"));
      ZT_TRY_ASSIGN(Bytes y_bytes, with_context(base64url_decode(*y), "y"));
      if (x_bytes.size() != 32 || y_bytes.size() != 32)
        return make_error(Errc::parse, "the device key's x and y must be 32 bytes each");
      entry.device_public_key = std::move(x_bytes);
      entry.device_public_key.insert(entry.device_public_key.end(), y_bytes.begin(), y_bytes.end());
    }
    return ok();
  }
  return make_error(Errc::parse, "no key of publicKeySet has a certificate (x5c)");
}

Status verify_signature(const ManifestEntry& entry, const X509* signer) {
  if (entry.algorithm != "ES256")
    return make_error(Errc::crypto, "the manifest signature's alg is '" +
                                        entry.algorithm.substr(0, 20) + "', not ES256");
  ZT_TRY_ASSIGN(Bytes signer_der, crypto::certificate_to_der(signer));
  auto digest = crypto::sha256(signer_der);
  if (entry.signer_thumbprint != base64url_encode(digest))
    return make_error(Errc::crypto,
                      "the manifest was signed by another certificate (x5t#S256 differs)");
  ZT_TRY_ASSIGN(crypto::PkeyPtr key, crypto::certificate_public_key(signer));
  auto input = crypto::sha256(ByteView(reinterpret_cast<const uint8_t*>(entry.signing_input.data()),
                                       entry.signing_input.size()));
  if (entry.signature.size() != 64 ||
      !crypto::ecdsa_verify_digest_raw(key.get(), input, entry.signature))
    return make_error(Errc::crypto, "the manifest signature does not verify");
  return ok();
}

Status verify_chain(const ManifestEntry& entry, const std::vector<crypto::X509Ptr>& roots) {
  std::vector<crypto::X509Ptr> chain;
  for (const Bytes& der : entry.chain) {
    ZT_TRY_ASSIGN(auto certificate, crypto::certificate_from_der(der, "x5c certificate"));
    chain.push_back(std::move(certificate));
  }
  crypto::UniquePtr<X509_STORE> store(X509_STORE_new());
  crypto::UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  crypto::UniquePtr<X509_STORE_CTX> context(X509_STORE_CTX_new());
  if (!store || !untrusted || !context) return crypto::openssl_error("chain verification");
  for (const auto& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1)
      return crypto::openssl_error("adding a root");
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    X509_up_ref(chain[i].get());  // the stack's deleter frees what it holds
    if (sk_X509_push(untrusted.get(), chain[i].get()) == 0) {
      X509_free(chain[i].get());
      return crypto::openssl_error("chain verification");
    }
  }
  if (X509_STORE_CTX_init(context.get(), store.get(), chain[0].get(), untrusted.get()) != 1)
    return crypto::openssl_error("chain verification");
  int verified = X509_verify_cert(context.get());
  crypto::clear_openssl_errors();
  if (verified != 1) {
    int code = X509_STORE_CTX_get_error(context.get());
    return make_error(Errc::crypto, std::string("the device certificate's chain: ") +
                                        X509_verify_cert_error_string(code));
  }
  if (!entry.device_public_key.empty()) {
    ZT_TRY_ASSIGN(crypto::PkeyPtr key, crypto::certificate_public_key(chain[0].get()));
    ZT_TRY_ASSIGN(crypto::PkeyPtr listed, crypto::public_key_from_raw(entry.device_public_key));
    if (!crypto::same_public_key(key.get(), listed.get()))
      return make_error(Errc::crypto, "the manifest's device key is not the device certificate's");
  }
  return ok();
}

}  // namespace

Result<std::vector<ManifestEntry>> parse_manifest(std::string_view text) {
  if (text.size() > kMaxManifestBytes)
    return make_error(Errc::invalid_argument, "the manifest is larger than 16 MiB");
  ZT_TRY_ASSIGN(json document, with_context(parse_json(text, kMaxManifestDepth), "manifest"));
  if (!document.is_array())
    return make_error(Errc::parse, "a manifest is a JSON array of signed secure elements");
  if (document.size() > kMaxManifestEntries)
    return make_error(Errc::invalid_argument, "the manifest has more than 20000 entries");
  std::vector<ManifestEntry> entries;
  entries.reserve(document.size());
  for (size_t i = 0; i < document.size(); ++i) {
    ManifestEntry entry;
    entry.index = i;
    if (Status read = read_entry(document[i], entry); !read) {
      entry.error = read.error().message;
      entry.chain.clear();
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Status verify_manifest_entry(const ManifestEntry& entry, const ManifestTrust& trust) {
  if (!entry.error.empty()) return make_error(Errc::parse, entry.error);
  if (entry.chain.empty()) return make_error(Errc::parse, "no device certificate");
  if (trust.manifest_signer) ZT_TRY(verify_signature(entry, trust.manifest_signer));
  return verify_chain(entry, trust.roots);
}

}  // namespace zt::pki
