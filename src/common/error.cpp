#include "common/result.hpp"

namespace zt {

const char* to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::not_found:
      return "not found";
    case Errc::already_exists:
      return "already exists";
    case Errc::io:
      return "I/O error";
    case Errc::permission:
      return "permission denied";
    case Errc::crypto:
      return "cryptographic failure";
    case Errc::parse:
      return "parse error";
    case Errc::conflict:
      return "conflict";
    case Errc::unsupported:
      return "unsupported";
    case Errc::timeout:
      return "timeout";
    case Errc::internal:
      return "internal error";
  }
  return "unknown error";
}

}  // namespace zt
