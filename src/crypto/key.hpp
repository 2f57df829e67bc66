// P-256 keys: generation, PEM (PKCS#8) load/save, raw X||Y public keys as the ATECC508A returns
// them.
#pragma once

#include <array>
#include <filesystem>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "crypto/ossl.hpp"

namespace zt::crypto {

using PublicKeyRaw = std::array<uint8_t, 64>;  // X || Y, big-endian, no 0x04 prefix

Result<PkeyPtr> generate_p256_key();

// RSA (CreateKeysAndCertificate's key pair is a 2048-bit RSA one, as AWS's).
Result<PkeyPtr> generate_rsa_key(int bits);
// The curve of an EC key as OpenSSL names it ("prime256v1", "secp384r1", "secp521r1"); "" for
// a key of another type. key_type_name: "an RSA key", "an EC key", ... for messages.
std::string ec_curve_name(const EVP_PKEY* key);
std::string key_type_name(const EVP_PKEY* key);
// PEM of the private key in its algorithm's own ("traditional") form: "BEGIN RSA PRIVATE KEY"
// (PKCS#1) for RSA, as AWS returns CreateKeysAndCertificate's key.
Result<std::string> private_key_to_traditional_pem(const EVP_PKEY* key);

// Fails unless `key` is an EC key on P-256; `what` names the key in the message.
Status require_p256(const EVP_PKEY* key, std::string_view what);

Result<PkeyPtr> private_key_from_pem(std::string_view pem, std::string_view what = "private key");
Result<std::string> private_key_to_pem(const EVP_PKEY* key);  // PKCS#8, unencrypted
Result<PkeyPtr> public_key_from_pem(std::string_view pem, std::string_view what = "public key");
Result<std::string> public_key_to_pem(const EVP_PKEY* key);

// Loads a P-256 private key file; the error names the file.
Result<PkeyPtr> load_private_key(const std::filesystem::path& path);
// Writes the key as PKCS#8 PEM, mode 0600, atomically.
Status save_private_key(const std::filesystem::path& path, const EVP_PKEY* key);

Result<PublicKeyRaw> public_key_raw(const EVP_PKEY* key);
Result<PkeyPtr> public_key_from_raw(ByteView x_y);
Result<Bytes> public_key_spki_der(const EVP_PKEY* key);  // SubjectPublicKeyInfo
Result<PkeyPtr> public_key_from_spki_der(ByteView der);

// The 32-byte private scalar; for the secure-element emulator's own storage only.
Result<Bytes> private_key_scalar(const EVP_PKEY* key);
Result<PkeyPtr> private_key_from_scalar(ByteView scalar);

// True when both keys have the same public component.
bool same_public_key(const EVP_PKEY* a, const EVP_PKEY* b);

}  // namespace zt::crypto
