// The kit's two certificate definitions, generated (definition_from_certificate) from sample
// certificates of our PKI profiles, as the seed generated cert_def_1_signer.c / cert_def_2_device.c
// with cert2certdef.py. Changing a profile means regenerating the sample here.
#pragma once

#include "atcacert/definition.hpp"
#include "common/result.hpp"

namespace zt::atcacert {

const CertDef& kit_signer_definition();  // template id 1, chain 0, STORED serial (slot 14)
const CertDef& kit_device_definition();  // template id 2, chain 0, PUB_KEY_HASH serial

// "signer" / "device" → the kit definition; anything else is read as a definition JSON file.
Result<CertDef> load_definition(std::string_view name_or_path);

}  // namespace zt::atcacert
