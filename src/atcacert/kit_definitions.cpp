#include "atcacert/kit_definitions.hpp"

#include <cstdlib>

#include "atcacert/certdef_from_cert.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"

namespace zt::atcacert {

namespace {

// Sample certificates of the kit profiles (kit.md "Certificate profiles"), DER in hex. Only their
// fixed parts matter: every dynamic element is replaced when a certificate is rebuilt.
constexpr std::string_view kSignerSample = "";
constexpr std::string_view kDeviceSample = "";

CertDef generate(std::string_view sample_hex, DefinitionKind kind) {
  auto der = from_hex(sample_hex);
  if (!der) std::abort();  // a broken built-in sample is a build defect, not an input error
  DefinitionOptions options;
  options.kind = kind;
  auto def = definition_from_certificate(*der, options);
  if (!def) std::abort();
  return std::move(*def);
}

}  // namespace

const CertDef& kit_signer_definition() {
  static const CertDef def = generate(kSignerSample, DefinitionKind::signer);
  return def;
}

const CertDef& kit_device_definition() {
  static const CertDef def = generate(kDeviceSample, DefinitionKind::device);
  return def;
}

Result<CertDef> load_definition(std::string_view name_or_path) {
  if (name_or_path == "signer") return kit_signer_definition();
  if (name_or_path == "device") return kit_device_definition();
  ZT_TRY_ASSIGN(std::string text, read_text_file(std::string(name_or_path), 1u << 20));
  auto def = definition_from_json_text(text);
  if (!def) return with_context(std::move(def), std::string(name_or_path));
  return def;
}

}  // namespace zt::atcacert
