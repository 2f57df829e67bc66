// Builds a certificate definition from a sample certificate: the role of the seed kit's
// cert2certdef.py. Elements are located by walking the sample's DER; device locations follow the
// kit's firmware definitions (cert_def_1_signer / cert_def_2_device).
#pragma once

#include <optional>
#include <string>

#include "atcacert/definition.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::atcacert {

enum class DefinitionKind { device, signer };

struct DefinitionOptions {
  std::optional<DefinitionKind> kind;  // default: signer for a CA certificate, else device
  std::optional<int> template_id;      // default 1 (signer) / 2 (device)
  std::optional<int> chain_id;         // default 0
  std::optional<SnSource> sn_source;   // default STORED (signer) / PUB_KEY_HASH (device)
  std::string name;                    // default "signer" / "device"
};

// Where each element of an X.509 certificate lies (offset, count), found by walking its DER.
struct CertificateLayout {
  CertLoc tbs, serial, issue_date, expire_date, public_key, subj_key_id, auth_key_id, signature;
  DateFormat issue_date_format = DateFormat::rfc5280_utc;
  DateFormat expire_date_format = DateFormat::rfc5280_utc;
  CertLoc issuer_signer_id, subject_signer_id;  // last 4 upper-case hex chars of the CN, if any
  bool is_ca = false;                           // BasicConstraints cA = TRUE
  int issue_year = 0, expire_year = 0;
};
Result<CertificateLayout> locate_elements(ByteView cert_der);

// Kit layout for the signer (cert2certdef.py cert_def_1_signer_c): serial in slot 14 at
// 20 - size, issue date at 35 - size, expire date at 50 - size; public key in slot 11 (72 bytes,
// padded); compressed certificate in slot 12. Device (cert_def_2_device_c): public key from
// GenKey on slot 0, compressed certificate in slot 10.
// The template keeps the sample's bytes, except that its signature is widened to the longest
// P-256 encoding (75 bytes) so the template is the largest certificate the definition yields.
Result<CertDef> definition_from_certificate(ByteView cert_der,
                                            const DefinitionOptions& options = {});

}  // namespace zt::atcacert
