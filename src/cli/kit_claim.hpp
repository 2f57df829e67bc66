// The factory side of the kit's fleet flows (`ztp kit provision-claim`, kit/flow.hpp): the kit's
// claim certificate. The claim key is the chip's slot 0 key, made inside the ATECC508A and never
// read out: the station asks the kit for a CSR (genCsr, signed by the chip), has the cloud issue
// the certificate (CreateCertificateFromCsr, ACTIVE), attaches the claim policy (which allows only
// the fleet provisioning topics), and stores the certificate, the template name and the endpoint
// in the kit (saveClaim), then the Wi-Fi credentials (setWifi).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "aws/iot_client.hpp"
#include "common/result.hpp"
#include "kit/host_link.hpp"

namespace zt::cli {

struct ClaimProvisionOptions {
  std::filesystem::path dir;  // kit-info.json + kit-wifi.key (ztp kit set-wifi)
  std::string template_name;
  std::string claim_policy;
};

struct ClaimProvisionReport {
  std::vector<std::string> lines;
  std::string device_sn;
  std::string claim_certificate_id;
};

Result<ClaimProvisionReport> provision_claim(kit::KitClient& kit, aws::IotClient& iot,
                                             const ClaimProvisionOptions& options);

}  // namespace zt::cli
