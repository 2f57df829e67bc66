// Each area of the ztp CLI registers its subcommands here; main.cpp calls every register_* once.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "common/result.hpp"

namespace zt::cli {

void register_ca_commands(CLI::App& app);
void register_se_commands(CLI::App& app);
void register_cert_commands(CLI::App& app);
void register_broker_commands(CLI::App& app);
void register_cloud_commands(CLI::App& app);                 // cloud run
void register_cloud_service_commands(CLI::App& cloud);       // cloud function …, cloud setup-jitr
void register_cloud_fleet_commands(CLI::App& cloud);         // cloud simulate-jitr
void register_import_certificates_command(CLI::App& cloud);  // cloud import-certificates
void register_ca_register_command(CLI::App& app);  // ca register (after register_ca_commands)
void register_kit_commands(CLI::App& app);  // kit run|set-wifi|provision|status|reset|press|leds
void register_demo_command(CLI::App& app);  // demo
void register_interact_command(CLI::App& app);  // interact (the web console's device page)
void register_aws_commands(CLI::App& app);      // aws deploy-jitr|teardown-jitr

// Wraps a command body: a failed Status prints "ztp: <message>" on stderr and exits non-zero.
std::function<void()> run_command(std::function<Status()> body);

// Thrown by run_command to carry a non-zero exit code out of CLI11's callback.
struct CommandFailed {
  int exit_code;
};

}  // namespace zt::cli
