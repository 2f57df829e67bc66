#include "cli/kit_link.hpp"

#include "kit/emulated_kit.hpp"

namespace zt::cli {

std::filesystem::path EmulatedKitLink::control_socket(const std::filesystem::path& kit_dir) const {
  return kit_dir / kit::kControlSocket;
}

Result<std::string> EmulatedKitLink::request(const std::filesystem::path& control_socket,
                                             const std::string& line) const {
  return kit::control_request(control_socket, line);
}

}  // namespace zt::cli
