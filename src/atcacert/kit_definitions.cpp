#include "atcacert/kit_definitions.hpp"

#include <cstdlib>

#include "atcacert/certdef_from_cert.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"

namespace zt::atcacert {

namespace {

// Sample certificates of the kit profiles (kit.md "Certificate profiles"), DER in hex. Only their
// fixed parts matter: every dynamic element is replaced when a certificate is rebuilt.
// Signer CA: O=Example Inc, CN=Example Signer FFFF, issued by Example Root CA.
constexpr std::string_view kSignerSample =
    "308201c93082016ea003020102021066290d130deaed757c9e2bbde318fa2d300a06082a8648ce3d04030230"
    "3031143012060355040a0c0b4578616d706c6520496e633118301606035504030c0f4578616d706c6520526f"
    "6f74204341301e170d3236313132353230313433355a170d3336313132353230313433355a30343114301206"
    "0355040a0c0b4578616d706c6520496e63311c301a06035504030c134578616d706c65205369676e65722046"
    "4646463059301306072a8648ce3d020106082a8648ce3d03010703420004ba4b5a933f8ad5a3c693871bb77a"
    "c436348a6e2e00ea9c217f617e4ecec5f178063bb67dd01de98e9d29a7194f38355c61de9c5187069ebfe195"
    "9b25300dad83a366306430120603551d130101ff04083006010101020100300e0603551d0f0101ff04040302"
    "0186301d0603551d0e04160414b242e20f3f4659d8131a60871f1fc3e572d45b60301f0603551d2304183016"
    "8014c5645ee6d383b2d7b173fa097db13a04b81983ce300a06082a8648ce3d0403020349003046022100cf5b"
    "2d32aaf4658084260add3779dc7e50c1bdc38ac141ea4b58df170e2c6819022100809bddb4d238f730e81739"
    "b95a3cb65105251af0ff0f2cfbd43fe43685b74ee3";
// Device: O=Example Inc, CN=Example Device, issued by the signer above.
constexpr std::string_view kDeviceSample =
    "308201a63082014ba00302010202106a77b0047b96d35376e8be1c6d821dfe300a06082a8648ce3d04030230"
    "3431143012060355040a0c0b4578616d706c6520496e63311c301a06035504030c134578616d706c65205369"
    "676e657220464646463020170d3236313132353230303030305a180f33303030313233313233353935395a30"
    "2f31143012060355040a0c0b4578616d706c6520496e633117301506035504030c0e4578616d706c65204465"
    "766963653059301306072a8648ce3d020106082a8648ce3d03010703420004451cff8171189f2c288ff6e2a9"
    "4780eb22bb25a2f70af799d96950f0f39bb7ed47cd65fd380307f25f66b2674408d1bc97fceebdc4059a75f5"
    "2afa10834b4b4ca3423040301d0603551d0e041604149abf252b714590a63a45bd2ee5dbb5464b7b5683301f"
    "0603551d23041830168014b242e20f3f4659d8131a60871f1fc3e572d45b60300a06082a8648ce3d04030203"
    "49003046022100c1e13de568fccb4f3773502c0218fb7507fb6c145eaedc5104285a07a3eb2571022100ea63"
    "55fc06e4bbf81d50e4fbbd3d70a38eb38e62bd79a21b20673c52197988df";

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
