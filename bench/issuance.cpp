// Device certificates issued per second on one core — CSR intake (DER parse + signature verify),
// profile build, ECDSA sign, DER output — against the raw OpenSSL ECDSA P-256 rates measured in the
// same run.
//
// Anchor: the issue statement's bound 1/(1/sign + 1/verify + 1/sign) (target: >= 70 % of it). One
// issuance needs one verify and one sign, so the tighter bound 1/(1/sign + 1/verify) is printed
// too.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "pki/device_issuer.hpp"
#include "pki/profiles.hpp"

namespace {

using namespace zt;
using Clock = std::chrono::steady_clock;

// Runs `op` repeatedly for about `seconds`; returns operations per second.
template <class Op>
double rate(double seconds, Op&& op) {
  size_t count = 0;
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration<double>(seconds);
  Clock::time_point now;
  do {
    for (int i = 0; i < 16; ++i) op(count++);
    now = Clock::now();
  } while (now < stop);
  return static_cast<double>(count) / std::chrono::duration<double>(now - start).count();
}

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "bench_issuance: {}\n", what);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int64_t now = 1795617441;

  auto root_key = crypto::generate_p256_key();
  auto signer_key = crypto::generate_p256_key();
  auto root = pki::create_root_certificate(root_key->get(), now);
  auto signer_csr = pki::create_signer_csr(signer_key->get());
  auto signer = pki::issue_signer_certificate(signer_csr->get(), root->get(), root_key->get(), now);
  if (!signer) die(signer.error().message);

  // Device CSRs as the kit sends them (DER, O=Example Inc, CN=Example Device), made up front.
  constexpr size_t kCsrs = 512;
  std::vector<Bytes> csrs;
  auto subject = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  for (size_t i = 0; i < kCsrs; ++i) {
    auto key = crypto::generate_p256_key();
    crypto::CsrFields fields{.subject = subject->get(), .extensions = {}};
    auto csr = crypto::build_csr(fields, key->get());
    csrs.push_back(std::move(*crypto::csr_to_der(csr->get())));
  }

  // Raw ECDSA P-256 over a SHA-256 digest, with reused contexts: OpenSSL at its fastest.
  crypto::Sha256Digest digest = crypto::sha256(as_bytes("zerotouch issuance benchmark"));
  crypto::UniquePtr<EVP_PKEY_CTX> sign_ctx(EVP_PKEY_CTX_new(signer_key->get(), nullptr));
  if (!sign_ctx || EVP_PKEY_sign_init(sign_ctx.get()) != 1) die("sign init");
  unsigned char signature[80];
  size_t signature_size = sizeof signature;
  EVP_PKEY_sign(sign_ctx.get(), signature, &signature_size, digest.data(), digest.size());
  auto signer_public = crypto::certificate_public_key(signer->get());
  crypto::UniquePtr<EVP_PKEY_CTX> verify_ctx(EVP_PKEY_CTX_new(signer_public->get(), nullptr));
  if (!verify_ctx || EVP_PKEY_verify_init(verify_ctx.get()) != 1) die("verify init");

  const double sign_rate = rate(seconds, [&](size_t) {
    size_t n = sizeof signature;
    if (EVP_PKEY_sign(sign_ctx.get(), signature, &n, digest.data(), digest.size()) != 1)
      die("sign");
  });
  signature_size = sizeof signature;
  if (EVP_PKEY_sign(sign_ctx.get(), signature, &signature_size, digest.data(), digest.size()) != 1)
    die("sign");
  const double verify_rate = rate(seconds, [&](size_t) {
    if (EVP_PKEY_verify(verify_ctx.get(), signature, signature_size, digest.data(),
                        digest.size()) != 1) {
      die("verify");
    }
  });

  auto issuer = pki::DeviceCertificateIssuer::create(signer->get(), signer_key->get());
  if (!issuer) die(issuer.error().message);
  const double issue_rate = rate(seconds, [&](size_t i) {
    auto der = issuer->issue_der(csrs[i % kCsrs], now);
    if (!der) die(der.error().message);
  });

  const double bound = 1.0 / (2.0 / sign_rate + 1.0 / verify_rate);
  const double tight = 1.0 / (1.0 / sign_rate + 1.0 / verify_rate);
  fmt::print("issuance (one core, {:.1f} s per figure)\n", seconds);
  fmt::print("  raw OpenSSL ECDSA P-256 sign      {:10.0f} /s\n", sign_rate);
  fmt::print("  raw OpenSSL ECDSA P-256 verify    {:10.0f} /s\n", verify_rate);
  fmt::print(
      "  device certificates issued        {:10.0f} /s  (CSR DER in: parse, verify, build, sign, "
      "DER out)\n",
      issue_rate);
  fmt::print(
      "  bound 1/(1/sign+1/verify+1/sign)  {:10.0f} /s  -> ratio {:.0f} % (target >= 70 %)\n",
      bound, 100.0 * issue_rate / bound);
  fmt::print("  tighter 1/(1/sign+1/verify)       {:10.0f} /s  -> ratio {:.0f} %\n", tight,
             100.0 * issue_rate / tight);
  return 0;
}
