// OpenSSL's i2d_* encoders into Bytes: the buffer OpenSSL allocates is freed on every path, and a
// failed encoding drains the error queue into the message (`what`: "encoding certificate").
#pragma once

#include <openssl/crypto.h>

#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::crypto {

template <class Object>
Result<Bytes> encode_der(int (*i2d)(const Object*, unsigned char**), const Object* object,
                         std::string_view what) {
  unsigned char* der = nullptr;
  int n = i2d(object, &der);
  if (n <= 0) return openssl_error(what);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

}  // namespace zt::crypto
