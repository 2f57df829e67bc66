// The console's way to the emulated kits (cloud/console/kits.hpp): their control sockets, over
// src/kit. The cloud does not know the kit; `ztp cloud run` passes this link to the console.
#pragma once

#include "cloud/console/kits.hpp"

namespace zt::cli {

class EmulatedKitLink final : public cloud::console::KitLink {
 public:
  std::filesystem::path control_socket(const std::filesystem::path& kit_dir) const override;
  Result<std::string> request(const std::filesystem::path& control_socket,
                              const std::string& line) const override;
};

}  // namespace zt::cli
