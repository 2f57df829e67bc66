// `ztp ca ...`: the factory CA steps of the seed's ca_create_*.py scripts, on a working directory.
#include <fmt/format.h>

#include <string>

#include "cli/commands.hpp"
#include "pki/ca_directory.hpp"

namespace zt::cli {

namespace {

struct CaArgs {
  std::string dir = ".";
  std::string key;
  bool force = false;
};

void add_common_options(CLI::App* command, CaArgs& args, std::string_view key_help) {
  command->add_option("--dir", args.dir, "working directory with the CA files")
      ->capture_default_str();
  command->add_option("--key", args.key, std::string(key_help));
  command->add_flag("--force", args.force, "replace an existing certificate / CSR");
}

pki::CaOptions to_options(const CaArgs& args) {
  return pki::CaOptions{.dir = args.dir, .key = args.key, .force = args.force, .now = 0};
}

Status print_report(Result<pki::CaReport> report) {
  if (!report) return std::move(report).error();
  for (const std::string& line : report->lines) fmt::print("{}\n", line);
  fmt::print("Done\n");
  return ok();
}

}  // namespace

void register_ca_commands(CLI::App& app) {
  CLI::App* ca = app.add_subcommand(
      "ca", "factory PKI: root CA, signer CA, verification and device certificates");
  ca->require_subcommand(1);

  static CaArgs root_args, csr_args, signer_args, verification_args, device_args;
  static std::string signer_id = "FFFF", registration_code, csr_path, out_path;

  CLI::App* root = ca->add_subcommand(
      "create-root", "create root-ca.key (if missing) and a self-signed root-ca.crt");
  add_common_options(root, root_args,
                     "root CA key: PEM file or pkcs11: URI (default <dir>/root-ca.key)");
  root->callback(
      run_command([] { return print_report(pki::ca_create_root(to_options(root_args))); }));

  CLI::App* csr = ca->add_subcommand("create-signer-csr",
                                     "create signer-ca.key (if missing) and signer-ca.csr");
  add_common_options(csr, csr_args,
                     "signer CA key: PEM file or pkcs11: URI (default <dir>/signer-ca.key)");
  csr->add_option("--signer-id", signer_id, "4 hex characters in the signer CN")
      ->capture_default_str();
  csr->callback(run_command(
      [] { return print_report(pki::ca_create_signer_csr(to_options(csr_args), signer_id)); }));

  CLI::App* signer = ca->add_subcommand("create-signer",
                                        "issue signer-ca.crt from signer-ca.csr with the root CA");
  add_common_options(signer, signer_args,
                     "root CA key: PEM file or pkcs11: URI (default <dir>/root-ca.key)");
  signer->callback(
      run_command([] { return print_report(pki::ca_create_signer(to_options(signer_args))); }));

  CLI::App* verification = ca->add_subcommand(
      "create-verification",
      "signer-ca-verification.crt: CN = registration code, signed by the signer CA");
  add_common_options(verification, verification_args,
                     "signer CA key: PEM file or pkcs11: URI (default <dir>/signer-ca.key)");
  verification
      ->add_option("--code", registration_code, "registration code (aws iot get-registration-code)")
      ->required();
  verification->callback(run_command([] {
    return print_report(
        pki::ca_create_verification(to_options(verification_args), registration_code));
  }));

  CLI::App* device =
      ca->add_subcommand("issue-device", "issue a device certificate from a device CSR");
  add_common_options(device, device_args,
                     "signer CA key: PEM file or pkcs11: URI (default <dir>/signer-ca.key)");
  device->add_option("--csr", csr_path, "device CSR, PEM or DER (default <dir>/device.csr)");
  device->add_option("--out", out_path,
                     "where to write the certificate (default <dir>/device.crt)");
  device->callback(run_command([] {
    return print_report(pki::ca_issue_device(to_options(device_args), csr_path, out_path));
  }));
}

}  // namespace zt::cli
