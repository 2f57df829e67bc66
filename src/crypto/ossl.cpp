#include "crypto/ossl.hpp"

#include <openssl/err.h>

#include <string>

namespace zt::crypto {

Error openssl_error(std::string_view what, Errc code) {
  std::string message(what);
  unsigned long err = 0;
  const char* detail = nullptr;
  bool first = true;
  while ((err = ERR_get_error_all(nullptr, nullptr, nullptr, &detail, nullptr)) != 0) {
    char buffer[256];
    ERR_error_string_n(err, buffer, sizeof buffer);
    message += first ? " (" : "; ";
    message += buffer;
    if (detail != nullptr && *detail != '\0') {
      message += ": ";
      message += detail;
    }
    first = false;
  }
  if (!first) message += ")";
  return make_error(code, std::move(message));
}

void clear_openssl_errors() { ERR_clear_error(); }

}  // namespace zt::crypto
