#include "atcacert/kit_definitions.hpp"

#include <cstdlib>

#include "atcacert/certdef_from_cert.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"

namespace zt::atcacert {

namespace {

// Sample certificates issued by zt::pki (the kit profiles of kit.md, as `ztp ca` issues them),
// DER in hex. Only their fixed parts matter: every dynamic element is replaced when a certificate
// is rebuilt. tests/atcacert checks that a fresh pki certificate yields the same definition.
// Signer CA: O=Example Inc, CN=Example Signer FFFF, issued by Example Root CA.
constexpr std::string_view kSignerSample =
    "308201c73082016ea0030201020210782abd2985e59ac19d1de4725dc54cc7300a06082a8648ce3d04030230"
    "3031143012060355040a0c0b4578616d706c6520496e633118301606035504030c0f4578616d706c6520526f"
    "6f74204341301e170d3236303330343035303630375a170d3336303330343035303630375a30343114301206"
    "0355040a0c0b4578616d706c6520496e63311c301a06035504030c134578616d706c65205369676e65722046"
    "4646463059301306072a8648ce3d020106082a8648ce3d03010703420004d3ca4117d820a9860cfb7ef380e0"
    "c7d4fdf2cbbf2d25c6b500f83e16d2a76e3e625d23a9c0f1b54dd41133a58d8b3fada6e3decda71a268e6491"
    "3eefd7409d7ea366306430120603551d130101ff040830060101ff020100300e0603551d0f0101ff04040302"
    "0186301d0603551d0e04160414d83593830c1c5c595077d683f5b274350abbf369301f0603551d2304183016"
    "80149291a3d98a8ef63d573460f7c36565933bbe742b300a06082a8648ce3d040302034700304402203c5013"
    "7bf23d07746b47b432fe3c96bf6aa93865952cb31e56d7dee0d3b7e7cb02200e6e10a02430c069c15ba638dc"
    "b1ec30a498c67e0bf2f1dfef4b5fcfe0765726";
// Device: O=Example Inc, CN=Example Device, issued by the signer above.
constexpr std::string_view kDeviceSample =
    "308201a43082014ba00302010202104d568f6016a83efac3756c3084e6ec41300a06082a8648ce3d04030230"
    "3431143012060355040a0c0b4578616d706c6520496e63311c301a06035504030c134578616d706c65205369"
    "676e657220464646463020170d3236303330343035303030305a180f33303030313233313233353935395a30"
    "2f31143012060355040a0c0b4578616d706c6520496e633117301506035504030c0e4578616d706c65204465"
    "766963653059301306072a8648ce3d020106082a8648ce3d030107034200046cfc31f43e5a2ea1fd90ebcb4e"
    "204f10aa4828bf8adf39434b14551f1ae19d9c6bdf86899ff2122fe57e19beb9d1cd80e699d94be98778500e"
    "8f78543a782f0ea3423040301d0603551d0e04160414e0537d552051e44f3e0bd6453806b5a01b41e832301f"
    "0603551d23041830168014d83593830c1c5c595077d683f5b274350abbf369300a06082a8648ce3d04030203"
    "4700304402206896f9d6e39088f0f8916efff5efbdf5136f189b414847823ea7dd1142a0200502206d2bc4db"
    "fa6e5bea18a6099b17da8f88d7b8f70210b9b905c367a13954ccb3e7";

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
