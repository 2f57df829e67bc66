#include "pki/profiles.hpp"

#include <memory>

#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"

namespace zt::pki {

namespace {

using crypto::NameEntry;
using crypto::X509ExtensionPtr;

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Same calendar date `years` later; Feb 29 becomes Feb 28 in a non-leap target year.
int64_t add_years(int64_t unix_seconds, int years) {
  UtcTime t = to_utc(unix_seconds);
  t.year += years;
  if (t.month == 2 && t.day == 29 && !is_leap(t.year)) t.day = 28;
  return to_unix(t);
}

Status require_signing_key(EVP_PKEY* key, std::string_view what) {
  return crypto::require_p256(key, what);
}

// The issuer's key must be the one its certificate names, or the chain cannot verify.
Status require_key_matches(const X509* cert, EVP_PKEY* key, std::string_view cert_what,
                           std::string_view key_what) {
  ZT_TRY_ASSIGN(crypto::PkeyPtr cert_key, crypto::certificate_public_key(cert));
  if (!crypto::same_public_key(cert_key.get(), key)) {
    return make_error(
        Errc::invalid_argument,
        std::string(key_what) + " does not match the public key of " + std::string(cert_what));
  }
  return ok();
}

Result<std::vector<X509ExtensionPtr>> key_id_extensions(EVP_PKEY* subject_key,
                                                        const X509* issuer_cert,
                                                        EVP_PKEY* self_signed_key = nullptr) {
  std::vector<X509ExtensionPtr> out;
  ZT_TRY_ASSIGN(Bytes ski, crypto::key_identifier(subject_key));
  ZT_TRY_ASSIGN(X509ExtensionPtr ski_ext, crypto::subject_key_identifier_extension(ski));
  out.push_back(std::move(ski_ext));
  Bytes aki;
  if (issuer_cert != nullptr) {
    auto issuer_ski = crypto::subject_key_identifier(issuer_cert);
    if (!issuer_ski)
      return make_error(Errc::invalid_argument, "issuer certificate has no SubjectKeyIdentifier");
    aki = std::move(*issuer_ski);
  } else {
    ZT_TRY_ASSIGN(aki, crypto::key_identifier(self_signed_key));
  }
  ZT_TRY_ASSIGN(X509ExtensionPtr aki_ext, crypto::authority_key_identifier_extension(aki));
  out.push_back(std::move(aki_ext));
  return out;
}

// [BasicConstraints critical CA:TRUE pathlen 0, KeyUsage critical, SKI, AKI] —
// ca_create_signer_csr.py add_signer_extensions(), shared by the signer CSR and the signer
// certificate.
Result<std::vector<X509ExtensionPtr>> signer_extensions(EVP_PKEY* signer_key,
                                                        const X509* root_cert) {
  std::vector<X509ExtensionPtr> out;
  ZT_TRY_ASSIGN(X509ExtensionPtr bc, crypto::basic_constraints_extension(true, 0));
  out.push_back(std::move(bc));
  ZT_TRY_ASSIGN(X509ExtensionPtr ku,
                crypto::key_usage_extension(crypto::kDigitalSignature | crypto::kKeyCertSign |
                                            crypto::kCrlSign));
  out.push_back(std::move(ku));
  ZT_TRY_ASSIGN(auto ids, key_id_extensions(signer_key, root_cert, signer_key));
  for (auto& ext : ids) out.push_back(std::move(ext));
  return out;
}

}  // namespace

Bytes random_serial() {
  Bytes serial = crypto::random_bytes(16);
  serial[0] &= 0x7F;  // positive INTEGER
  serial[0] |= 0x40;  // a non-zero top byte DER cannot trim
  return serial;
}

std::array<uint8_t, 3> compress_date(const UtcTime& issue, int expire_years) {
  // atcacert_date_enc_compcert (cryptoauthlib lib/atcacert/atcacert_date.c), confirmed against its
  // source: | year-2000: 5 | month: 4 | day: 5 | hour: 5 | expire years: 5 |, most significant bit
  // of byte 0 first; minutes and seconds are not stored. aws_kit_common.py device_cert_sn() packs
  // the same way: b0 = year<<3 | month>>1, b1 = (month&1)<<7 | day<<2 | hour>>3, b2 = (hour&7)<<5 |
  // years.
  const unsigned year = static_cast<unsigned>(issue.year - 2000) & 0x1F;
  const unsigned month = static_cast<unsigned>(issue.month) & 0x0F;
  const unsigned day = static_cast<unsigned>(issue.day) & 0x1F;
  const unsigned hour = static_cast<unsigned>(issue.hour) & 0x1F;
  const unsigned years = static_cast<unsigned>(expire_years) & 0x1F;
  return {static_cast<uint8_t>((year << 3) | (month >> 1)),
          static_cast<uint8_t>(((month & 1) << 7) | (day << 2) | (hour >> 3)),
          static_cast<uint8_t>(((hour & 7) << 5) | years)};
}

Bytes device_serial_number(ByteView public_key_xy64,
                           std::span<const uint8_t, 3> compressed_issue_date) {
  crypto::Sha256 hash;
  hash.update(public_key_xy64);
  hash.update(compressed_issue_date);
  crypto::Sha256Digest digest = hash.finish();
  Bytes serial(digest.begin(), digest.begin() + 16);
  serial[0] &= 0x7F;
  serial[0] |= 0x40;
  return serial;
}

Result<crypto::X509Ptr> create_root_certificate(EVP_PKEY* root_key, int64_t now) {
  ZT_TRY(require_signing_key(root_key, "the root CA key"));
  ZT_TRY_ASSIGN(auto name, crypto::make_name({{"O", std::string(kOrganization)},
                                              {"CN", std::string(kRootCommonName)}}));
  crypto::CertificateFields fields{.serial = random_serial(),
                                   .issuer = name.get(),
                                   .subject = name.get(),
                                   .not_before = now,
                                   .not_after = add_years(now, kRootValidityYears),
                                   .public_key = root_key,
                                   .extensions = {}};
  ZT_TRY_ASSIGN(Bytes ski, crypto::key_identifier(root_key));
  ZT_TRY_ASSIGN(X509ExtensionPtr ski_ext, crypto::subject_key_identifier_extension(ski));
  ZT_TRY_ASSIGN(X509ExtensionPtr bc, crypto::basic_constraints_extension(true, std::nullopt));
  fields.extensions.push_back(std::move(ski_ext));
  fields.extensions.push_back(std::move(bc));
  return crypto::build_certificate(fields, root_key);
}

Result<crypto::X509ReqPtr> create_signer_csr(EVP_PKEY* signer_key, std::string_view signer_id) {
  ZT_TRY(require_signing_key(signer_key, "the signer CA key"));
  // The signer id is the 4 hex characters compressed certificates carry (atcacert
  // STDCERT_SIGNER_ID). atcacert_set_signer_id writes them upper-case, so a lower-case id in the
  // CN could not be rebuilt bit for bit: `ztp cert compress` would refuse every chain of it.
  bool upper_hex4 = signer_id.size() == 4;
  for (char c : signer_id)
    upper_hex4 = upper_hex4 && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
  if (!upper_hex4) {
    std::string upper(signer_id);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    bool only_case = signer_id.size() == 4;
    for (char c : signer_id) only_case = only_case && std::isxdigit(static_cast<unsigned char>(c));
    return make_error(Errc::invalid_argument,
                      "signer id must be 4 upper-case hexadecimal characters (0-9, A-F), got \"" +
                          std::string(signer_id) + "\"" +
                          (only_case ? "; compressed certificates write the signer id upper-case "
                                       "(atcacert), so use \"" +
                                           upper + "\""
                                     : std::string()));
  }
  ZT_TRY_ASSIGN(
      auto name,
      crypto::make_name({{"O", std::string(kOrganization)},
                         {"CN", std::string(kSignerCommonNamePrefix) + std::string(signer_id)}}));
  ZT_TRY_ASSIGN(auto extensions, signer_extensions(signer_key, nullptr));
  crypto::CsrFields fields{.subject = name.get(), .extensions = std::move(extensions)};
  return crypto::build_csr(fields, signer_key);
}

Result<crypto::X509Ptr> issue_signer_certificate(X509_REQ* csr, const X509* root_cert,
                                                 EVP_PKEY* root_key, int64_t now) {
  ZT_TRY(require_signing_key(root_key, "the root CA key"));
  ZT_TRY(require_key_matches(root_cert, root_key, "the root CA certificate", "the root CA key"));
  ZT_TRY(crypto::verify_csr_signature(csr, "the signer CA CSR"));
  ZT_TRY_ASSIGN(crypto::PkeyPtr signer_key, crypto::csr_public_key(csr));
  // kit.md: compressed dates cannot hold Feb 29 (the +10-year date would not exist).
  UtcTime start = to_utc(now);
  if (start.month == 2 && start.day == 29) start.day = 28;
  const int64_t not_before = to_unix(start);
  crypto::CertificateFields fields{.serial = random_serial(),
                                   .issuer = X509_get_subject_name(root_cert),
                                   .subject = X509_REQ_get_subject_name(csr),
                                   .not_before = not_before,
                                   .not_after = add_years(not_before, kSignerValidityYears),
                                   .public_key = signer_key.get(),
                                   .extensions = {}};
  ZT_TRY_ASSIGN(fields.extensions, signer_extensions(signer_key.get(), root_cert));
  return crypto::build_certificate(fields, root_key);
}

Result<crypto::X509Ptr> create_verification_certificate(std::string_view registration_code,
                                                        const X509* signer_cert,
                                                        EVP_PKEY* signer_key, int64_t now) {
  ZT_TRY(require_signing_key(signer_key, "the signer CA key"));
  ZT_TRY(require_key_matches(signer_cert, signer_key, "the signer CA certificate",
                             "the signer CA key"));
  if (registration_code.empty() || registration_code.size() > 64) {
    return make_error(Errc::invalid_argument, "registration code must be 1..64 characters (a CN)");
  }
  ZT_TRY_ASSIGN(auto subject, crypto::make_name({{"CN", std::string(registration_code)}}));
  ZT_TRY_ASSIGN(crypto::PkeyPtr signer_public, crypto::certificate_public_key(signer_cert));
  crypto::CertificateFields fields{.serial = random_serial(),
                                   .issuer = X509_get_subject_name(signer_cert),
                                   .subject = subject.get(),
                                   .not_before = now,
                                   .not_after = now + kVerificationValiditySeconds,
                                   .public_key = signer_public.get(),
                                   .extensions = {}};
  return crypto::build_certificate(fields, signer_key);
}

Result<crypto::X509Ptr> create_server_ca(EVP_PKEY* key, std::string_view common_name, int64_t now) {
  ZT_TRY(require_signing_key(key, "the server CA key"));
  ZT_TRY_ASSIGN(auto name, crypto::make_name({{"CN", std::string(common_name)}}));
  crypto::CertificateFields fields{.serial = random_serial(),
                                   .issuer = name.get(),
                                   .subject = name.get(),
                                   .not_before = now - 3600,
                                   .not_after = add_years(now, 10),
                                   .public_key = key,
                                   .extensions = {}};
  ZT_TRY_ASSIGN(X509ExtensionPtr bc, crypto::basic_constraints_extension(true, std::nullopt));
  ZT_TRY_ASSIGN(X509ExtensionPtr ku,
                crypto::key_usage_extension(crypto::kKeyCertSign | crypto::kCrlSign));
  ZT_TRY_ASSIGN(Bytes ski, crypto::key_identifier(key));
  ZT_TRY_ASSIGN(X509ExtensionPtr ski_ext, crypto::subject_key_identifier_extension(ski));
  fields.extensions.push_back(std::move(bc));
  fields.extensions.push_back(std::move(ku));
  fields.extensions.push_back(std::move(ski_ext));
  return crypto::build_certificate(fields, key);
}

Result<crypto::X509Ptr> issue_server_certificate(EVP_PKEY* server_public_key,
                                                 const std::vector<std::string>& dns_names_and_ips,
                                                 const X509* ca_cert, EVP_PKEY* ca_key,
                                                 int64_t now) {
  ZT_TRY(require_signing_key(ca_key, "the server CA key"));
  ZT_TRY(require_key_matches(ca_cert, ca_key, "the server CA certificate", "the server CA key"));
  if (dns_names_and_ips.empty())
    return make_error(Errc::invalid_argument, "a server certificate needs a name");
  ZT_TRY_ASSIGN(auto subject, crypto::make_name({{"CN", dns_names_and_ips.front()}}));
  crypto::CertificateFields fields{
      .serial = random_serial(),
      .issuer = X509_get_subject_name(ca_cert),
      .subject = subject.get(),
      .not_before = now - 3600,
      .not_after = now + 825LL * 86400,  // CA/Browser-forum style lifetime
      .public_key = server_public_key,
      .extensions = {}};
  ZT_TRY_ASSIGN(X509ExtensionPtr bc, crypto::basic_constraints_extension(false, std::nullopt));
  ZT_TRY_ASSIGN(X509ExtensionPtr ku, crypto::key_usage_extension(crypto::kDigitalSignature));
  ZT_TRY_ASSIGN(X509ExtensionPtr eku, crypto::extended_key_usage_extension(true, false));
  ZT_TRY_ASSIGN(X509ExtensionPtr san, crypto::subject_alt_name_extension(dns_names_and_ips));
  fields.extensions.push_back(std::move(bc));
  fields.extensions.push_back(std::move(ku));
  fields.extensions.push_back(std::move(eku));
  fields.extensions.push_back(std::move(san));
  ZT_TRY_ASSIGN(auto ids, key_id_extensions(server_public_key, ca_cert));
  for (auto& ext : ids) fields.extensions.push_back(std::move(ext));
  return crypto::build_certificate(fields, ca_key);
}

}  // namespace zt::pki
