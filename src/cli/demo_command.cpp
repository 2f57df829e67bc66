// `ztp demo [--dir D] [--once]`: the whole zero-touch flow (cli/demo.hpp), then the running cloud
// and kit until Ctrl-C. SIGINT/SIGTERM only set a flag: the flow notices it between steps and
// within its bounded waits, and the children are always stopped in order before ztp exits.
#include <signal.h>

#include <atomic>

#include "cli/commands.hpp"
#include "cli/demo.hpp"

namespace zt::cli {
namespace {

std::atomic<bool> demo_stop{false};

extern "C" void on_demo_signal(int) { demo_stop = true; }

}  // namespace

void register_demo_command(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  auto* demo = app.add_subcommand(
      "demo",
      "The seed's whole flow from an empty directory: PKI, local cloud, CA registration, JITR, an "
      "emulated kit provisioned over USB, LED and button round trips through its shadow");
  demo->add_option("--dir", options->dir, "State directory (reused by a second run)")
      ->capture_default_str();
  demo->add_flag("--once", options->once,
                 "Headless: exit 0 after the LED and button round trips instead of running until "
                 "Ctrl-C");
  auto flow = std::make_shared<std::string>("jitr");
  demo->add_option("--flow", *flow,
                   "The provisioning path: jitr (the seed's), jitp, preprovisioned, fleet-csr, "
                   "fleet-claim (docs/kit.md)")
      ->check(CLI::IsMember({"jitr", "jitp", "preprovisioned", "fleet-csr", "fleet-claim"}))
      ->capture_default_str();
  demo->callback(run_command([options, flow]() -> Status {
    ZT_TRY_ASSIGN(options->flow, kit::parse_flow(*flow));
    struct sigaction action {};
    action.sa_handler = on_demo_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    return run_demo(*options, demo_stop);
  }));
}

}  // namespace zt::cli
