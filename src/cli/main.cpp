#include <signal.h>
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "common/log.hpp"

int main(int argc, char** argv) {
  // A peer (socket, function process) that goes away must surface as an error, not kill ztp.
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "ztp — zero-touch secure provisioning: factory PKI, secure element, kit and local cloud"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ztp 0.1.0");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.parse_complete_callback([&] { zt::setup_logging(log_level); });

  zt::cli::register_ca_commands(app);
  zt::cli::register_se_commands(app);
  zt::cli::register_cert_commands(app);
  zt::cli::register_broker_commands(app);
  zt::cli::register_cloud_commands(app);
  zt::cli::register_ca_register_command(app);
  zt::cli::register_kit_commands(app);
  zt::cli::register_demo_command(app);
  zt::cli::register_interact_command(app);
  zt::cli::register_aws_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const zt::cli::CommandFailed& failed) {
    return failed.exit_code;
  }
  return 0;
}
