// The factory CA operations on a working directory with the seed kit's file names (kit.md):
// root-ca.key root-ca.crt signer-ca.key signer-ca.csr signer-ca.crt signer-ca-verification.crt
// device.crt. Keys are reused when their file exists (as the seed does) and written 0600 when
// generated; an existing certificate or CSR is only replaced with `force`. Nothing is half-written:
// outputs are atomic, and a key generated for a certificate that could not be written is removed
// again.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::pki {

inline constexpr const char* kRootKeyFile = "root-ca.key";
inline constexpr const char* kRootCertFile = "root-ca.crt";
inline constexpr const char* kSignerKeyFile = "signer-ca.key";
inline constexpr const char* kSignerCsrFile = "signer-ca.csr";
inline constexpr const char* kSignerCertFile = "signer-ca.crt";
inline constexpr const char* kVerificationCertFile = "signer-ca-verification.crt";
inline constexpr const char* kDeviceCsrFile = "device.csr";
inline constexpr const char* kDeviceCertFile = "device.crt";

struct CaOptions {
  std::filesystem::path dir = ".";
  // The key this operation signs with, as a PEM path or pkcs11: URI; empty = the key file in `dir`
  // (root-ca.key for create-root/create-signer, signer-ca.key for the others).
  std::string key;
  bool force = false;  // replace an existing certificate / CSR
  int64_t now = 0;     // unix seconds; 0 = the current time
};

// What an operation did, for a seed-like summary: progress lines and the object it produced.
struct CaReport {
  std::vector<std::string> lines;
  std::filesystem::path output;
  crypto::X509Ptr certificate;  // null for create-signer-csr
  crypto::X509ReqPtr csr;       // set by create-signer-csr
};

Result<CaReport> ca_create_root(const CaOptions& options);
Result<CaReport> ca_create_signer_csr(const CaOptions& options,
                                      std::string_view signer_id = "FFFF");
Result<CaReport> ca_create_signer(const CaOptions& options);
Result<CaReport> ca_create_verification(const CaOptions& options,
                                        std::string_view registration_code);
// `csr_path` and `out_path` are used as given; empty means device.csr / device.crt in options.dir.
Result<CaReport> ca_issue_device(const CaOptions& options, const std::filesystem::path& csr_path,
                                 const std::filesystem::path& out_path);

// The signer CA of a working directory: signer-ca.crt and its key (signer-ca.key or `key`), refused
// unless they belong together. For `ztp kit provision` and the CA registration.
struct SignerCa {
  crypto::X509Ptr certificate;
  crypto::PkeyPtr key;
};
Result<SignerCa> load_signer_ca(const std::filesystem::path& dir, std::string_view key = {});

// Seed-like summary lines for a certificate: subject, issuer, serial, validity.
std::vector<std::string> describe_certificate(const X509* cert);

}  // namespace zt::pki
