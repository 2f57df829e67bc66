#include "pki/ca_directory.hpp"

#include <system_error>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "pki/key_store.hpp"
#include "pki/profiles.hpp"

namespace zt::pki {

namespace fs = std::filesystem;

namespace {

// "root-ca.crt" rather than "./root-ca.crt" in messages when working in the current directory.
fs::path in_dir(const fs::path& dir, const char* name) {
  return dir.empty() || dir == "." ? fs::path(name) : dir / name;
}

int64_t current_time(const CaOptions& options) {
  return options.now != 0 ? options.now : unix_now();
}

// A missing input names the file and the command that makes it.
Status require_input(const fs::path& path, std::string_view made_by) {
  std::error_code ec;
  if (fs::exists(path, ec)) return ok();
  return make_error(Errc::not_found,
                    path.string() + " not found — run `" + std::string(made_by) + "` first");
}

Status refuse_overwrite(const fs::path& path, bool force, std::string_view what) {
  std::error_code ec;
  if (force || !fs::exists(path, ec)) return ok();
  return make_error(
      Errc::already_exists,
      path.string() + " already exists; pass --force to replace this " + std::string(what));
}

// A key about to be used: loaded from `key` (file or pkcs11: URI) when given, else from
// `default_file`, else generated (and saved later, with the output, so a failed run leaves no key
// behind).
struct KeyInUse {
  crypto::PkeyPtr key;
  fs::path generate_into;  // non-empty when the key is new and must be saved
};

Result<KeyInUse> load_key(const CaOptions& options, const fs::path& default_file,
                          std::string_view title, std::vector<std::string>& lines,
                          std::string_view made_by) {
  lines.push_back(std::string("Loading ") + std::string(title) + " key");
  KeyInUse out;
  if (!options.key.empty()) {
    lines.push_back("    Using " +
                    (is_pkcs11_uri(options.key) ? std::string("PKCS#11 key") : options.key));
    ZT_TRY_ASSIGN(out.key, load_signing_key(options.key));
    return out;
  }
  std::error_code ec;
  if (fs::exists(default_file, ec)) {
    lines.push_back("    Loading from " + default_file.string());
    ZT_TRY_ASSIGN(out.key, crypto::load_private_key(default_file));
    return out;
  }
  if (!made_by.empty()) {
    return make_error(Errc::not_found, default_file.string() + " not found — run `" +
                                           std::string(made_by) + "` first");
  }
  lines.push_back("    No key file found, generating a new P-256 key");
  ZT_TRY_ASSIGN(out.key, crypto::generate_p256_key());
  out.generate_into = default_file;
  return out;
}

// Writes the new key (if any) and then the output; removes the new key again if the output fails.
Status write_outputs(const KeyInUse& key, const fs::path& output, std::string_view pem,
                     std::vector<std::string>& lines) {
  ZT_TRY(ensure_directory(output.parent_path().empty() ? fs::path(".") : output.parent_path()));
  if (!key.generate_into.empty()) {
    ZT_TRY(crypto::save_private_key(key.generate_into, key.key.get()));
    lines.push_back("    Saved key to " + key.generate_into.string() + " (mode 0600)");
  }
  Status written = write_file_atomic(output, pem, 0644);
  if (!written) {
    if (!key.generate_into.empty()) {
      std::error_code ec;
      fs::remove(key.generate_into, ec);
    }
    return written;
  }
  lines.push_back("    Saved to " + output.string());
  return ok();
}

Result<crypto::X509ReqPtr> load_csr_checked(const fs::path& path, std::string_view what) {
  ZT_TRY_ASSIGN(crypto::X509ReqPtr csr, crypto::load_csr(path));
  ZT_TRY(crypto::verify_csr_signature(csr.get(), what));
  return csr;
}

}  // namespace

std::vector<std::string> describe_certificate(const X509* cert) {
  std::vector<std::string> lines;
  lines.push_back("    Subject:  " + crypto::name_to_string(X509_get_subject_name(cert)));
  lines.push_back("    Issuer:   " + crypto::name_to_string(X509_get_issuer_name(cert)));
  lines.push_back("    Serial:   " + to_hex(crypto::certificate_serial(cert)));
  auto not_before = crypto::certificate_not_before(cert);
  auto not_after = crypto::certificate_not_after(cert);
  if (not_before && not_after) {
    lines.push_back("    Validity: " + format_iso8601(*not_before) + " to " +
                    format_iso8601(*not_after));
  }
  return lines;
}

namespace {

// Describes the report's new certificate into its lines, writes it (after the new key, if any) and
// names the file as the report's output.
Status write_certificate(const KeyInUse& key, CaReport& report, const fs::path& cert_path) {
  ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(report.certificate.get()));
  for (auto& line : describe_certificate(report.certificate.get()))
    report.lines.push_back(std::move(line));
  ZT_TRY(write_outputs(key, cert_path, pem, report.lines));
  report.output = cert_path;
  return ok();
}

}  // namespace

Result<CaReport> ca_create_root(const CaOptions& options) {
  CaReport report;
  const fs::path cert_path = in_dir(options.dir, kRootCertFile);
  ZT_TRY(refuse_overwrite(cert_path, options.force, "certificate"));
  ZT_TRY_ASSIGN(KeyInUse key,
                load_key(options, in_dir(options.dir, kRootKeyFile), "root CA", report.lines, ""));
  report.lines.push_back("Generating self-signed root CA certificate");
  ZT_TRY_ASSIGN(report.certificate, create_root_certificate(key.key.get(), current_time(options)));
  ZT_TRY(write_certificate(key, report, cert_path));
  return report;
}

Result<CaReport> ca_create_signer_csr(const CaOptions& options, std::string_view signer_id) {
  CaReport report;
  const fs::path csr_path = in_dir(options.dir, kSignerCsrFile);
  ZT_TRY(refuse_overwrite(csr_path, options.force, "CSR"));
  ZT_TRY_ASSIGN(KeyInUse key, load_key(options, in_dir(options.dir, kSignerKeyFile), "signer CA",
                                       report.lines, ""));
  report.lines.push_back("Generating signer CA CSR");
  ZT_TRY_ASSIGN(report.csr, create_signer_csr(key.key.get(), signer_id));
  ZT_TRY_ASSIGN(std::string pem, crypto::csr_to_pem(report.csr.get()));
  report.lines.push_back("    Subject:  " +
                         crypto::name_to_string(X509_REQ_get_subject_name(report.csr.get())));
  ZT_TRY(write_outputs(key, csr_path, pem, report.lines));
  report.output = csr_path;
  return report;
}

Result<CaReport> ca_create_signer(const CaOptions& options) {
  CaReport report;
  const fs::path cert_path = in_dir(options.dir, kSignerCertFile);
  const fs::path csr_path = in_dir(options.dir, kSignerCsrFile);
  const fs::path root_cert_path = in_dir(options.dir, kRootCertFile);
  ZT_TRY(refuse_overwrite(cert_path, options.force, "certificate"));
  ZT_TRY(require_input(csr_path, "ztp ca create-signer-csr"));
  ZT_TRY(require_input(root_cert_path, "ztp ca create-root"));

  report.lines.push_back("Loading signer CA CSR");
  report.lines.push_back("    Loading from " + csr_path.string());
  ZT_TRY_ASSIGN(crypto::X509ReqPtr csr, load_csr_checked(csr_path, csr_path.string()));
  ZT_TRY_ASSIGN(KeyInUse root_key, load_key(options, in_dir(options.dir, kRootKeyFile), "root CA",
                                            report.lines, "ztp ca create-root"));
  report.lines.push_back("Loading root CA certificate");
  report.lines.push_back("    Loading from " + root_cert_path.string());
  ZT_TRY_ASSIGN(crypto::X509Ptr root_cert, crypto::load_certificate(root_cert_path));
  ZT_TRY_ASSIGN(crypto::PkeyPtr root_public, crypto::certificate_public_key(root_cert.get()));
  if (!crypto::same_public_key(root_public.get(), root_key.key.get())) {
    return make_error(Errc::invalid_argument,
                      "the root CA key does not match " + root_cert_path.string() +
                          " — re-run `ztp ca create-root --force` or pass the matching --key");
  }

  report.lines.push_back("Generating signer CA certificate from CSR");
  ZT_TRY_ASSIGN(report.certificate,
                issue_signer_certificate(csr.get(), root_cert.get(), root_key.key.get(),
                                         current_time(options)));
  ZT_TRY(write_certificate(KeyInUse{}, report, cert_path));
  return report;
}

Result<SignerCa> load_signer_ca(const fs::path& dir, std::string_view key) {
  const fs::path cert_path = in_dir(dir, kSignerCertFile);
  const fs::path key_path = in_dir(dir, kSignerKeyFile);
  ZT_TRY(require_input(cert_path, "ztp ca create-signer"));
  SignerCa signer;
  if (key.empty()) {
    ZT_TRY(require_input(key_path, "ztp ca create-signer-csr"));
    ZT_TRY_ASSIGN(signer.key, crypto::load_private_key(key_path));
  } else {
    ZT_TRY_ASSIGN(signer.key, load_signing_key(key));
  }
  ZT_TRY_ASSIGN(signer.certificate, crypto::load_certificate(cert_path));
  ZT_TRY_ASSIGN(crypto::PkeyPtr cert_key, crypto::certificate_public_key(signer.certificate.get()));
  if (!crypto::same_public_key(cert_key.get(), signer.key.get())) {
    std::string key_name =
        key.empty() ? key_path.string() : std::string("the signer key given with --key");
    return make_error(Errc::invalid_argument,
                      key_name + " does not match the public key in " + cert_path.string() +
                          " — re-run `ztp ca create-signer-csr` and `ztp ca create-signer`");
  }
  return signer;
}

namespace {

// load_signer_ca, saying so in the report (and which key, a PKCS#11 URI without its PIN).
Result<SignerCa> load_signer_ca_reporting(const CaOptions& options, CaReport& report) {
  report.lines.push_back("Loading signer CA key and certificate");
  if (!options.key.empty()) {
    report.lines.push_back(
        "    Using " + (is_pkcs11_uri(options.key) ? redact_pkcs11_uri(options.key) : options.key));
  }
  return load_signer_ca(options.dir, options.key);
}

}  // namespace

Result<CaReport> ca_create_verification(const CaOptions& options,
                                        std::string_view registration_code) {
  CaReport report;
  const fs::path cert_path = in_dir(options.dir, kVerificationCertFile);
  ZT_TRY(refuse_overwrite(cert_path, options.force, "certificate"));
  ZT_TRY_ASSIGN(SignerCa signer, load_signer_ca_reporting(options, report));
  report.lines.push_back("Generating signer CA verification certificate");
  ZT_TRY_ASSIGN(report.certificate,
                create_verification_certificate(registration_code, signer.certificate.get(),
                                                signer.key.get(), current_time(options)));
  ZT_TRY(write_certificate(KeyInUse{}, report, cert_path));
  return report;
}

Result<CaReport> ca_issue_device(const CaOptions& options, const fs::path& csr_path_in,
                                 const fs::path& out_path_in) {
  CaReport report;
  const fs::path csr_path = csr_path_in.empty() ? in_dir(options.dir, kDeviceCsrFile) : csr_path_in;
  const fs::path out_path =
      out_path_in.empty() ? in_dir(options.dir, kDeviceCertFile) : out_path_in;
  ZT_TRY(refuse_overwrite(out_path, options.force, "certificate"));
  std::error_code ec;
  if (!fs::exists(csr_path, ec)) {
    return make_error(
        Errc::not_found,
        "device CSR " + csr_path.string() +
            " not found — the device makes it (`ztp kit provision`, or `openssl req`)");
  }
  ZT_TRY_ASSIGN(SignerCa signer, load_signer_ca_reporting(options, report));
  report.lines.push_back("Loading device CSR");
  report.lines.push_back("    Loading from " + csr_path.string());
  ZT_TRY_ASSIGN(crypto::X509ReqPtr csr, load_csr_checked(csr_path, csr_path.string()));
  report.lines.push_back("Generating device certificate from CSR");
  std::vector<std::string> dropped;
  ZT_TRY_ASSIGN(report.certificate,
                issue_device_certificate(csr.get(), signer.certificate.get(), signer.key.get(),
                                         current_time(options), &dropped));
  for (const auto& name : dropped) {
    report.lines.push_back("    Dropped CSR extension: " + name +
                           " (device certificates carry only SKI, AKI, basicConstraints CA:FALSE, "
                           "keyUsage digitalSignature, extendedKeyUsage clientAuth)");
  }
  ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(report.certificate.get()));
  for (auto& line : describe_certificate(report.certificate.get()))
    report.lines.push_back(std::move(line));
  if (auto ski = crypto::subject_key_identifier(report.certificate.get())) {
    report.lines.push_back("    Thing:    " + to_hex(*ski) + " (hex SubjectKeyIdentifier)");
  }
  ZT_TRY(write_outputs(KeyInUse{}, out_path, pem, report.lines));
  report.output = out_path;
  return report;
}

}  // namespace zt::pki
