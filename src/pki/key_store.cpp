#include "pki/key_store.hpp"

#include "crypto/key.hpp"

namespace zt::pki {

Result<crypto::PkeyPtr> load_signing_key(std::string_view file_or_pkcs11_uri) {
  if (file_or_pkcs11_uri.empty()) return make_error(Errc::invalid_argument, "no signing key given");
  if (is_pkcs11_uri(file_or_pkcs11_uri)) {
    ZT_TRY_ASSIGN(crypto::PkeyPtr key, load_pkcs11_private_key(file_or_pkcs11_uri));
    ZT_TRY(crypto::require_p256(key.get(), "the key at " + redact_pkcs11_uri(file_or_pkcs11_uri)));
    return key;
  }
  return crypto::load_private_key(std::filesystem::path(file_or_pkcs11_uri));
}

}  // namespace zt::pki
