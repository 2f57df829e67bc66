// PKCS#11 private keys through the libp11 "pkcs11" OpenSSL engine (Debian:
// libengine-pkcs11-openssl). OpenSSL 3 deprecates the ENGINE API; the pkcs11-provider is not
// packaged for Debian 12, so this one file opts out of the deprecation warnings. Everything else in
// the tree stays warning-clean.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <openssl/engine.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "pki/key_store.hpp"

namespace zt::pki {

namespace {

struct ParsedUri {
  std::string uri;          // what the engine gets: without module-path
  std::string display;      // for messages: without module-path and pin-value
  std::string module_path;  // RFC 7512 query attribute `module-path`
  std::string pin;          // RFC 7512 `pin-value`, handed to the engine out of band
};

// Splits "pkcs11:path-attrs?query-attrs" (RFC 7512 §2.3) and takes out the attributes the engine
// does not handle (module-path) or that must not be printed (pin-value).
ParsedUri parse_uri(std::string_view uri) {
  ParsedUri out;
  std::string_view rest = uri.substr(7);  // after "pkcs11:"
  std::string_view path = rest, query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  auto split = [](std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    while (!text.empty()) {
      size_t at = text.find(sep);
      parts.push_back(text.substr(0, at));
      if (at == std::string_view::npos) break;
      text.remove_prefix(at + 1);
    }
    return parts;
  };
  std::vector<std::string> path_kept, path_shown, query_kept, query_shown;
  auto sort_attr = [&](std::string_view attr, std::vector<std::string>& keep,
                       std::vector<std::string>& show) {
    if (attr.starts_with("module-path=")) {
      out.module_path = std::string(attr.substr(12));
      return;
    }
    if (attr.starts_with("pin-value=")) {
      out.pin = std::string(attr.substr(10));
      return;
    }
    keep.emplace_back(attr);
    show.emplace_back(attr);
  };
  for (std::string_view attr : split(path, ';')) sort_attr(attr, path_kept, path_shown);
  for (std::string_view attr : split(query, '&')) sort_attr(attr, query_kept, query_shown);
  auto join = [](const std::vector<std::string>& parts, char sep) {
    std::string s;
    for (size_t i = 0; i < parts.size(); ++i)
      s += (i ? std::string(1, sep) : std::string()) + parts[i];
    return s;
  };
  out.uri = "pkcs11:" + join(path_kept, ';');
  if (!query_kept.empty()) out.uri += "?" + join(query_kept, '&');
  out.display = "pkcs11:" + join(path_shown, ';');
  if (!query_shown.empty()) out.display += "?" + join(query_shown, '&');
  return out;
}

// The engine is initialised once per process and kept: keys it returns refer to its module session.
std::mutex engine_mutex;
ENGINE* engine = nullptr;
std::string engine_module;

Result<ENGINE*> pkcs11_engine(const std::string& module_path) {
  std::lock_guard lock(engine_mutex);
  if (engine != nullptr) {
    if (module_path != engine_module) {
      return make_error(Errc::unsupported, "PKCS#11 module " + engine_module +
                                               " is already in use; one module per process");
    }
    return engine;
  }
  // ENGINE_by_id falls back to loading pkcs11.so from the OpenSSL engines directory.
  ENGINE* e = ENGINE_by_id("pkcs11");
  if (e == nullptr) {
    return crypto::openssl_error(
        "cannot load the OpenSSL pkcs11 engine (install libengine-pkcs11-openssl)",
        Errc::unsupported);
  }
  if (!module_path.empty() &&
      ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module_path.c_str(), 0) != 1) {
    ENGINE_free(e);
    return crypto::openssl_error("setting PKCS#11 module " + module_path);
  }
  // Our error carries the engine's queued errors; its own stderr chatter would only repeat them.
  ENGINE_ctrl_cmd_string(e, "QUIET", nullptr, 0);
  if (ENGINE_init(e) != 1) {
    ENGINE_free(e);
    return crypto::openssl_error(
        "initialising PKCS#11 module " +
        (module_path.empty() ? std::string("(libp11 default)") : module_path));
  }
  ENGINE_free(e);  // drop the structural reference; ENGINE_init's functional one stays
  engine = e;
  engine_module = module_path;
  return engine;
}

}  // namespace

std::string redact_pkcs11_uri(std::string_view uri) { return parse_uri(uri).display; }

Result<crypto::PkeyPtr> load_pkcs11_private_key(std::string_view uri) {
  ParsedUri parsed = parse_uri(uri);
  if (parsed.module_path.empty()) {
    if (const char* env = std::getenv("ZT_PKCS11_MODULE"); env != nullptr && *env != '\0') {
      parsed.module_path = env;
    }
  }
  if (parsed.pin.empty()) {
    if (const char* pin = std::getenv("ZT_PKCS11_PIN"); pin != nullptr) parsed.pin = pin;
  }
  Result<crypto::PkeyPtr> result = [&]() -> Result<crypto::PkeyPtr> {
    ZT_TRY_ASSIGN(ENGINE * e, pkcs11_engine(parsed.module_path));
    if (!parsed.pin.empty() && ENGINE_ctrl_cmd_string(e, "PIN", parsed.pin.c_str(), 0) != 1) {
      return crypto::openssl_error("setting the PKCS#11 PIN");
    }
    EVP_PKEY* key = ENGINE_load_private_key(e, parsed.uri.c_str(), nullptr, nullptr);
    if (key == nullptr) {
      return crypto::openssl_error(
          "cannot load the private key " + parsed.display + " (check token, object and PIN)",
          Errc::not_found);
    }
    return crypto::PkeyPtr(key);
  }();
  zt::secure_zero(parsed.pin.data(), parsed.pin.size());
  return result;
}

}  // namespace zt::pki

#pragma GCC diagnostic pop
