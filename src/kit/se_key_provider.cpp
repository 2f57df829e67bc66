#include "kit/se_key_provider.hpp"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"

namespace zt::kit {

namespace {

constexpr const char* kProviderName = "zt-se";
constexpr const char* kHandleParam = "zt-se-handle";  // import-only: which registered chip key
constexpr const char* kGroupName = "prime256v1";

// A key as our keymgmt holds it: the public point always, the chip and slot when private.
struct KeyData {
  crypto::PublicKeyRaw public_key{};
  bool has_public = false;
  std::shared_ptr<se::Device> device;
  unsigned slot = 0;
};

// Chips handed to EVP_PKEY_fromdata by handle: a pointer cannot travel through OSSL_PARAMs as
// anything but bytes, so se_private_key() registers the device for the duration of the import.
std::mutex registry_mutex;
std::map<uint64_t, KeyData> registry;
std::atomic<uint64_t> next_handle{1};

Bytes encoded_point(const crypto::PublicKeyRaw& raw) {
  Bytes point(65);
  point[0] = 0x04;
  std::copy(raw.begin(), raw.end(), point.begin() + 1);
  return point;
}

// ---------- keymgmt ----------

void* keymgmt_new(void*) { return new KeyData; }
void keymgmt_free(void* key) { delete static_cast<KeyData*>(key); }
void* keymgmt_dup(const void* key, int) { return new KeyData(*static_cast<const KeyData*>(key)); }

int keymgmt_has(const void* data, int selection) {
  const auto* key = static_cast<const KeyData*>(data);
  if (key == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && !key->device) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 && !key->has_public) return 0;
  return 1;
}

int keymgmt_match(const void* a, const void* b, int selection) {
  const auto* left = static_cast<const KeyData*>(a);
  const auto* right = static_cast<const KeyData*>(b);
  if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0) return 1;  // same group: P-256 only
  return left->has_public && right->has_public && left->public_key == right->public_key ? 1 : 0;
}

int keymgmt_import(void* data, int selection, const OSSL_PARAM params[]) {
  auto* key = static_cast<KeyData*>(data);
  if (const OSSL_PARAM* group = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME)) {
    const char* name = nullptr;
    if (OSSL_PARAM_get_utf8_string_ptr(group, &name) != 1 ||
        (std::strcmp(name, kGroupName) != 0 && std::strcmp(name, "P-256") != 0)) {
      return 0;
    }
  }
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) {
    // Private keys enter only as chip handles: key material never crosses into this provider.
    const OSSL_PARAM* handle = OSSL_PARAM_locate_const(params, kHandleParam);
    uint64_t id = 0;
    if (handle == nullptr || OSSL_PARAM_get_uint64(handle, &id) != 1) return 0;
    std::lock_guard lock(registry_mutex);
    auto it = registry.find(id);
    if (it == registry.end()) return 0;
    *key = it->second;
    return 1;
  }
  if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0) {
    const OSSL_PARAM* pub = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PUB_KEY);
    const void* bytes = nullptr;
    size_t length = 0;
    if (pub == nullptr || OSSL_PARAM_get_octet_string_ptr(pub, &bytes, &length) != 1 ||
        length != 65 || static_cast<const uint8_t*>(bytes)[0] != 0x04) {
      return 0;
    }
    std::memcpy(key->public_key.data(), static_cast<const uint8_t*>(bytes) + 1, 64);
    key->has_public = true;
  }
  return 1;
}

const OSSL_PARAM* keymgmt_import_types(int selection) {
  static const OSSL_PARAM kPublic[] = {
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0), OSSL_PARAM_END};
  static const OSSL_PARAM kPrivate[] = {OSSL_PARAM_uint64(kHandleParam, nullptr), OSSL_PARAM_END};
  return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 ? kPrivate : kPublic;
}

int keymgmt_export(void* data, int selection, OSSL_CALLBACK* callback, void* callback_arg) {
  const auto* key = static_cast<const KeyData*>(data);
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) return 0;  // never leaves the chip
  std::string group = kGroupName;
  Bytes point = encoded_point(key->public_key);
  OSSL_PARAM params[3];
  size_t n = 0;
  if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0 ||
      (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0) {
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0);
  }
  if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0) {
    if (!key->has_public) return 0;
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  return callback(params, callback_arg);
}

const OSSL_PARAM* keymgmt_export_types(int selection) {
  return keymgmt_import_types(selection & ~OSSL_KEYMGMT_SELECT_PRIVATE_KEY);
}

int keymgmt_get_params(void* data, OSSL_PARAM params[]) {
  const auto* key = static_cast<const KeyData*>(data);
  OSSL_PARAM* p = nullptr;
  if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) != nullptr &&
      OSSL_PARAM_set_int(p, 256) != 1)
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) != nullptr &&
      OSSL_PARAM_set_int(p, 128) != 1) {
    return 0;
  }
  // DER Ecdsa-Sig-Value of two 33-byte INTEGERs: 2 + 2 * 35.
  if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) != nullptr &&
      OSSL_PARAM_set_int(p, 72) != 1)
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_GROUP_NAME)) != nullptr &&
      OSSL_PARAM_set_utf8_string(p, kGroupName) != 1) {
    return 0;
  }
  if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) != nullptr &&
      OSSL_PARAM_set_utf8_string(p, "SHA256") != 1) {
    return 0;
  }
  Bytes point = encoded_point(key->public_key);
  for (const char* name : {OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, OSSL_PKEY_PARAM_PUB_KEY}) {
    if ((p = OSSL_PARAM_locate(params, name)) != nullptr) {
      if (!key->has_public || OSSL_PARAM_set_octet_string(p, point.data(), point.size()) != 1)
        return 0;
    }
  }
  return 1;
}

const OSSL_PARAM* keymgmt_gettable_params(void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
      OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
      OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
      OSSL_PARAM_END};
  return kParams;
}

const char* keymgmt_query_operation_name(int operation_id) {
  return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : nullptr;
}

// ---------- ECDSA signature ----------

struct SignatureContext {
  KeyData key;
  crypto::UniquePtr<EVP_MD_CTX> digest;
  std::string digest_name = "SHA256";
};

void* signature_newctx(void*, const char*) { return new SignatureContext; }
void signature_freectx(void* ctx) { delete static_cast<SignatureContext*>(ctx); }
void* signature_dupctx(void* ctx) {
  auto* source = static_cast<SignatureContext*>(ctx);
  auto* copy = new SignatureContext{source->key, nullptr, source->digest_name};
  if (source->digest) {
    copy->digest.reset(EVP_MD_CTX_new());
    if (!copy->digest || EVP_MD_CTX_copy_ex(copy->digest.get(), source->digest.get()) != 1) {
      delete copy;
      return nullptr;
    }
  }
  return copy;
}

int signature_init(void* ctx, void* key, const OSSL_PARAM[]) {
  auto* context = static_cast<SignatureContext*>(ctx);
  if (key != nullptr) context->key = *static_cast<KeyData*>(key);
  return context->key.has_public ? 1 : 0;
}

// ECDSA signs the leftmost curve-size bits of the digest (FIPS 186-4 §6.4).
int sign_digest(SignatureContext* context, unsigned char* signature, size_t* length, size_t size,
                const uint8_t* digest, size_t digest_length) {
  if (signature == nullptr) {
    *length = 72;
    return 1;
  }
  if (!context->key.device || digest_length < 32) return 0;
  auto raw = context->key.device->sign_digest(context->key.slot, ByteView(digest, 32));
  if (!raw) return 0;
  auto der = crypto::signature_raw_to_der(*raw);
  if (!der || der->size() > size) return 0;
  std::memcpy(signature, der->data(), der->size());
  *length = der->size();
  return 1;
}

int verify_digest(SignatureContext* context, const unsigned char* signature, size_t length,
                  const uint8_t* digest, size_t digest_length) {
  if (digest_length < 32) return 0;
  // Verification needs no secret: the default provider checks against the public point.
  auto pub = crypto::public_key_from_raw(context->key.public_key);
  return pub && crypto::ecdsa_verify_digest(pub->get(), ByteView(digest, 32),
                                            ByteView(signature, length))
             ? 1
             : 0;
}

int signature_sign(void* ctx, unsigned char* sig, size_t* siglen, size_t sigsize,
                   const unsigned char* tbs, size_t tbslen) {
  return sign_digest(static_cast<SignatureContext*>(ctx), sig, siglen, sigsize, tbs, tbslen);
}

int signature_verify(void* ctx, const unsigned char* sig, size_t siglen, const unsigned char* tbs,
                     size_t tbslen) {
  return verify_digest(static_cast<SignatureContext*>(ctx), sig, siglen, tbs, tbslen);
}

int digest_init(void* ctx, const char* mdname, void* key, const OSSL_PARAM params[]) {
  auto* context = static_cast<SignatureContext*>(ctx);
  if (signature_init(ctx, key, params) != 1) return 0;
  if (mdname != nullptr && *mdname != '\0') context->digest_name = mdname;
  // The digest runs in the default provider; only the final signature touches the chip.
  crypto::UniquePtr<EVP_MD> md(
      EVP_MD_fetch(nullptr, context->digest_name.c_str(), "provider=default"));
  context->digest.reset(EVP_MD_CTX_new());
  return md && context->digest && EVP_MD_get_size(md.get()) >= 32 &&
                 EVP_DigestInit_ex2(context->digest.get(), md.get(), nullptr) == 1
             ? 1
             : 0;
}

int digest_update(void* ctx, const unsigned char* data, size_t length) {
  auto* context = static_cast<SignatureContext*>(ctx);
  return context->digest && EVP_DigestUpdate(context->digest.get(), data, length) == 1 ? 1 : 0;
}

int digest_sign_final(void* ctx, unsigned char* sig, size_t* siglen, size_t sigsize) {
  auto* context = static_cast<SignatureContext*>(ctx);
  if (sig == nullptr) return sign_digest(context, nullptr, siglen, sigsize, nullptr, 0);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!context->digest || EVP_DigestFinal_ex(context->digest.get(), digest, &length) != 1) return 0;
  return sign_digest(context, sig, siglen, sigsize, digest, length);
}

int digest_verify_final(void* ctx, const unsigned char* sig, size_t siglen) {
  auto* context = static_cast<SignatureContext*>(ctx);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!context->digest || EVP_DigestFinal_ex(context->digest.get(), digest, &length) != 1) return 0;
  return verify_digest(context, sig, siglen, digest, length);
}

int signature_set_ctx_params(void* ctx, const OSSL_PARAM params[]) {
  auto* context = static_cast<SignatureContext*>(ctx);
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) {
    const char* name = nullptr;
    if (OSSL_PARAM_get_utf8_string_ptr(p, &name) != 1) return 0;
    context->digest_name = name;
  }
  return 1;
}

const OSSL_PARAM* signature_settable_ctx_params(void*, void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0), OSSL_PARAM_END};
  return kParams;
}

// DER AlgorithmIdentifier of ecdsa-with-SHAxxx (RFC 5758 §3.2): X.509/CSR signing asks for it.
std::optional<Bytes> algorithm_id(std::string_view digest_name) {
  uint8_t last = 0;
  if (digest_name == "SHA256" || digest_name == "SHA2-256" || digest_name == "SHA-256") last = 0x02;
  if (digest_name == "SHA384" || digest_name == "SHA2-384" || digest_name == "SHA-384") last = 0x03;
  if (digest_name == "SHA512" || digest_name == "SHA2-512" || digest_name == "SHA-512") last = 0x04;
  if (last == 0) return std::nullopt;
  return Bytes{0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, last};
}

int signature_get_ctx_params(void* ctx, OSSL_PARAM params[]) {
  auto* context = static_cast<SignatureContext*>(ctx);
  if (OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) {
    if (OSSL_PARAM_set_utf8_string(p, context->digest_name.c_str()) != 1) return 0;
  }
  if (OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) {
    auto id = algorithm_id(context->digest_name);
    if (!id || OSSL_PARAM_set_octet_string(p, id->data(), id->size()) != 1) return 0;
  }
  return 1;
}

const OSSL_PARAM* signature_gettable_ctx_params(void*, void*) {
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, nullptr, 0), OSSL_PARAM_END};
  return kParams;
}

// ---------- provider ----------

template <class F>
OSSL_DISPATCH entry(int id, F* function) {
  return OSSL_DISPATCH{id, reinterpret_cast<void (*)()>(function)};
}

const OSSL_DISPATCH kKeymgmtFunctions[] = {
    entry(OSSL_FUNC_KEYMGMT_NEW, keymgmt_new),
    entry(OSSL_FUNC_KEYMGMT_FREE, keymgmt_free),
    entry(OSSL_FUNC_KEYMGMT_DUP, keymgmt_dup),
    entry(OSSL_FUNC_KEYMGMT_HAS, keymgmt_has),
    entry(OSSL_FUNC_KEYMGMT_MATCH, keymgmt_match),
    entry(OSSL_FUNC_KEYMGMT_IMPORT, keymgmt_import),
    entry(OSSL_FUNC_KEYMGMT_IMPORT_TYPES, keymgmt_import_types),
    entry(OSSL_FUNC_KEYMGMT_EXPORT, keymgmt_export),
    entry(OSSL_FUNC_KEYMGMT_EXPORT_TYPES, keymgmt_export_types),
    entry(OSSL_FUNC_KEYMGMT_GET_PARAMS, keymgmt_get_params),
    entry(OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, keymgmt_gettable_params),
    entry(OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, keymgmt_query_operation_name),
    {0, nullptr}};

const OSSL_DISPATCH kSignatureFunctions[] = {
    entry(OSSL_FUNC_SIGNATURE_NEWCTX, signature_newctx),
    entry(OSSL_FUNC_SIGNATURE_FREECTX, signature_freectx),
    entry(OSSL_FUNC_SIGNATURE_DUPCTX, signature_dupctx),
    entry(OSSL_FUNC_SIGNATURE_SIGN_INIT, signature_init),
    entry(OSSL_FUNC_SIGNATURE_SIGN, signature_sign),
    entry(OSSL_FUNC_SIGNATURE_VERIFY_INIT, signature_init),
    entry(OSSL_FUNC_SIGNATURE_VERIFY, signature_verify),
    entry(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, digest_init),
    entry(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, digest_update),
    entry(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, digest_sign_final),
    entry(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, digest_init),
    entry(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, digest_update),
    entry(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, digest_verify_final),
    entry(OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, signature_set_ctx_params),
    entry(OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, signature_settable_ctx_params),
    entry(OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, signature_get_ctx_params),
    entry(OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, signature_gettable_ctx_params),
    {0, nullptr}};

const OSSL_ALGORITHM kKeymgmt[] = {{"EC:id-ecPublicKey:1.2.840.10045.2.1", "provider=zt-se",
                                    kKeymgmtFunctions, "P-256 keys held in an ATECC508A"},
                                   {nullptr, nullptr, nullptr, nullptr}};
const OSSL_ALGORITHM kSignature[] = {
    {"ECDSA", "provider=zt-se", kSignatureFunctions, "ECDSA by an ATECC508A"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM* provider_query(void*, int operation_id, int* no_cache) {
  *no_cache = 0;
  if (operation_id == OSSL_OP_KEYMGMT) return kKeymgmt;
  if (operation_id == OSSL_OP_SIGNATURE) return kSignature;
  return nullptr;
}

void provider_teardown(void*) {}

const OSSL_DISPATCH kProviderFunctions[] = {
    entry(OSSL_FUNC_PROVIDER_QUERY_OPERATION, provider_query),
    entry(OSSL_FUNC_PROVIDER_TEARDOWN, provider_teardown),
    {0, nullptr}};

int provider_init(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out,
                  void** provider_ctx) {
  *out = kProviderFunctions;
  *provider_ctx = nullptr;
  return 1;
}

}  // namespace

// The providers stay loaded for the life of the process; the handles are given back at exit so
// that LeakSanitizer sees nothing left. Static destructors run before OpenSSL's own atexit
// cleanup (registered earlier, at OpenSSL's first use), and a key still alive then holds its own
// reference to the provider, so giving back ours cannot pull it from under that key.
struct LoadedProviders {
  OSSL_PROVIDER* default_provider = nullptr;
  OSSL_PROVIDER* secure_element = nullptr;
  LoadedProviders() = default;
  LoadedProviders(const LoadedProviders&) = delete;
  LoadedProviders& operator=(const LoadedProviders&) = delete;
  ~LoadedProviders() {
    if (secure_element != nullptr) OSSL_PROVIDER_unload(secure_element);
    if (default_provider != nullptr) OSSL_PROVIDER_unload(default_provider);
  }
};

Status load_se_provider() {
  static std::once_flag once;
  static Status result = ok();
  static LoadedProviders loaded;
  std::call_once(once, [] {
    // Loading any provider explicitly stops the default one from loading implicitly.
    if ((loaded.default_provider = OSSL_PROVIDER_load(nullptr, "default")) == nullptr ||
        OSSL_PROVIDER_add_builtin(nullptr, kProviderName, provider_init) != 1 ||
        (loaded.secure_element = OSSL_PROVIDER_load(nullptr, kProviderName)) == nullptr ||
        EVP_set_default_properties(nullptr, "?provider=default") != 1) {
      result = crypto::openssl_error("loading the secure-element OpenSSL provider");
    }
  });
  return result;
}

Result<crypto::PkeyPtr> se_private_key(std::shared_ptr<se::Device> device, unsigned slot) {
  ZT_TRY(load_se_provider());
  ZT_TRY_ASSIGN(crypto::PublicKeyRaw public_key, device->public_key(slot));
  uint64_t handle = next_handle++;
  {
    std::lock_guard lock(registry_mutex);
    registry[handle] = KeyData{public_key, true, std::move(device), slot};
  }
  crypto::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", "provider=zt-se"));
  OSSL_PARAM params[] = {OSSL_PARAM_construct_uint64(kHandleParam, &handle),
                         OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  bool built = ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
               EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params) == 1;
  {
    std::lock_guard lock(registry_mutex);
    registry.erase(handle);
  }
  if (!built)
    return crypto::openssl_error("wrapping secure-element slot " + std::to_string(slot) +
                                 " as an EVP_PKEY");
  return crypto::PkeyPtr(raw);
}

}  // namespace zt::kit
