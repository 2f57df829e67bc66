#include "cli/commands.hpp"

namespace zt::cli {

void register_ca_commands(CLI::App& app) { (void)app; }

}  // namespace zt::cli
