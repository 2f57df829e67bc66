#include "crypto/tls_library_context.hpp"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <vector>

namespace zt::crypto {
namespace {

constexpr const char* kProviderName = "zerotouch-tls-filter";

// Key types (an algorithm's first name, as the default provider spells it) kept in the context.
constexpr std::array<std::string_view, 9> kKeyManagers = {"EC",   "RSA", "RSA-PSS", "DSA", "X25519",
                                                          "X448", "DH",  "DHX",     "HMAC"};
// Key types whose SubjectPublicKeyInfo decoder is kept; "DER" is the generic step that reads the
// SubjectPublicKeyInfo's algorithm before the typed decoder (OpenSSL 3.0's spki2typespki).
constexpr std::array<std::string_view, 5> kDecoders = {"EC", "RSA", "RSA-PSS", "DSA", "DER"};

// The filter's state, made once by its provider init (the library context loads the provider once
// and never unloads it: this context lives as long as the process, like OpenSSL's default one).
struct Filter {
  OSSL_LIB_CTX* inner = nullptr;  // holds the default provider whose algorithms are offered
  OSSL_PROVIDER* deflt = nullptr;
  std::vector<OSSL_ALGORITHM> key_managers;  // each ends with an all-null entry
  std::vector<OSSL_ALGORITHM> decoders;
};
Filter filter;

std::string_view first_name(const char* names) {
  std::string_view all(names != nullptr ? names : "");
  return all.substr(0, all.find(':'));
}

std::vector<OSSL_ALGORITHM> kept(int operation, bool (*keep)(const OSSL_ALGORITHM&)) {
  std::vector<OSSL_ALGORITHM> out;
  int no_cache = 0;
  for (const OSSL_ALGORITHM* algorithm =
           OSSL_PROVIDER_query_operation(filter.deflt, operation, &no_cache);
       algorithm != nullptr && algorithm->algorithm_names != nullptr; ++algorithm)
    if (keep(*algorithm)) out.push_back(*algorithm);
  out.push_back(OSSL_ALGORITHM{nullptr, nullptr, nullptr, nullptr});
  return out;
}

const OSSL_ALGORITHM* query(void* /*provctx*/, int operation, int* no_cache) {
  if (operation == OSSL_OP_KEYMGMT) {
    *no_cache = 0;
    return filter.key_managers.data();
  }
  if (operation == OSSL_OP_DECODER) {
    *no_cache = 0;
    return filter.decoders.data();
  }
  return OSSL_PROVIDER_query_operation(filter.deflt, operation, no_cache);
}

void unquery(void* /*provctx*/, int operation, const OSSL_ALGORITHM* algorithms) {
  if (operation != OSSL_OP_KEYMGMT && operation != OSSL_OP_DECODER)
    OSSL_PROVIDER_unquery_operation(filter.deflt, operation, algorithms);
}

int capabilities(void* /*provctx*/, const char* capability, OSSL_CALLBACK* callback, void* arg) {
  return OSSL_PROVIDER_get_capabilities(filter.deflt, capability, callback, arg);
}

const OSSL_PARAM* gettable_params(void* /*provctx*/) {
  static const std::array<OSSL_PARAM, 2> params = {
      {OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, nullptr, 0), OSSL_PARAM_END}};
  return params.data();
}

int get_params(void* /*provctx*/, OSSL_PARAM params[]) {
  OSSL_PARAM* name = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
  return name == nullptr || OSSL_PARAM_set_utf8_ptr(name, "zerotouch TLS filter over default");
}

// OpenSSL's dispatch tables hold functions as void (*)(void) (provider-base(7)).
template <class F>
auto as_dispatch(F* function) {
  return reinterpret_cast<void (*)()>(function);  // NOLINT(*-reinterpret-cast)
}

const std::array<OSSL_DISPATCH, 6> kDispatch = {{
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, as_dispatch(query)},
    {OSSL_FUNC_PROVIDER_UNQUERY_OPERATION, as_dispatch(unquery)},
    {OSSL_FUNC_PROVIDER_GET_CAPABILITIES, as_dispatch(capabilities)},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, as_dispatch(gettable_params)},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, as_dispatch(get_params)},
    {0, nullptr},
}};

int init(const OSSL_CORE_HANDLE* /*handle*/, const OSSL_DISPATCH* /*in*/, const OSSL_DISPATCH** out,
         void** provctx) {
  if (filter.deflt == nullptr) {
    filter.inner = OSSL_LIB_CTX_new();
    filter.deflt = filter.inner ? OSSL_PROVIDER_load(filter.inner, "default") : nullptr;
    if (filter.deflt == nullptr) return 0;
    filter.key_managers = kept(OSSL_OP_KEYMGMT, [](const OSSL_ALGORITHM& a) {
      return std::ranges::find(kKeyManagers, first_name(a.algorithm_names)) != kKeyManagers.end();
    });
    filter.decoders = kept(OSSL_OP_DECODER, [](const OSSL_ALGORITHM& a) {
      return std::ranges::find(kDecoders, first_name(a.algorithm_names)) != kDecoders.end() &&
             a.property_definition &&
             std::strstr(a.property_definition, "structure=SubjectPublicKeyInfo") != nullptr;
    });
  }
  // The default provider's algorithms are called with its own provider context.
  *provctx = OSSL_PROVIDER_get0_provider_ctx(filter.deflt);
  *out = kDispatch.data();
  return 1;
}

OSSL_LIB_CTX* make_context() {
  // A FIPS configuration decides which providers may run: keep OpenSSL's default context.
  if (OSSL_PROVIDER_available(nullptr, "fips") == 1) return nullptr;
  OSSL_LIB_CTX* context = OSSL_LIB_CTX_new();
  if (context == nullptr) return nullptr;
  if (OSSL_PROVIDER_add_builtin(context, kProviderName, init) != 1 ||
      OSSL_PROVIDER_load(context, kProviderName) == nullptr) {
    OSSL_LIB_CTX_free(context);
    return nullptr;
  }
  return context;
}

}  // namespace

OSSL_LIB_CTX* tls_library_context() {
  static OSSL_LIB_CTX* const context = make_context();
  return context;
}

}  // namespace zt::crypto
