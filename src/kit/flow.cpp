#include "kit/flow.hpp"

#include <fmt/format.h>

#include "secure_element/kit_config.hpp"

namespace zt::kit {

namespace {
constexpr std::array<std::pair<Flow, std::string_view>, 5> kFlowNames = {{
    {Flow::jitr, "jitr"},
    {Flow::jitp, "jitp"},
    {Flow::preprovisioned, "preprovisioned"},
    {Flow::fleet_csr, "fleet-csr"},
    {Flow::fleet_claim, "fleet-claim"},
}};
}  // namespace

Result<Flow> parse_flow(std::string_view name) {
  for (const auto& [flow, text] : kFlowNames) {
    if (text == name) return flow;
  }
  return make_error(Errc::invalid_argument,
                    fmt::format("unknown flow '{}': expected jitr, jitp, preprovisioned, "
                                "fleet-csr or fleet-claim",
                                name));
}

std::string_view flow_name(Flow flow) {
  for (const auto& [value, text] : kFlowNames) {
    if (value == flow) return text;
  }
  return "jitr";
}

std::array<uint8_t, se::config_size> chip_config_for(Flow flow) {
  auto config = se::kit_config();
  if (flow == Flow::fleet_claim) {
    const size_t at = se::config_offset::slot_config + 2 * kFleetClaimKeySlot;
    config[at] = 0x87;
    config[at + 1] = static_cast<uint8_t>(0x60 | kIoProtectionKeySlot);
  }
  return config;
}

}  // namespace zt::kit
