#include <gtest/gtest.h>

#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/key.hpp"

namespace zt::crypto {
namespace {

TEST(Digest, FipsAndRfcVectors) {
  // FIPS 180-2 appendix B.1 and RFC 4231 test case 2.
  EXPECT_EQ(to_hex(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha1(as_bytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(to_hex(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  Sha256 incremental;
  incremental.update(as_bytes("ab"));
  incremental.update(as_bytes("c"));
  EXPECT_EQ(incremental.finish(), sha256(as_bytes("abc")));
}

TEST(Keys, GenerateSaveLoadAndRaw) {
  auto key = generate_p256_key();
  ASSERT_TRUE(key);
  ASSERT_TRUE(require_p256(key->get(), "key"));
  auto pem = private_key_to_pem(key->get());
  ASSERT_TRUE(pem);
  EXPECT_NE(pem->find("BEGIN PRIVATE KEY"), std::string::npos);  // PKCS#8
  auto again = private_key_from_pem(*pem);
  ASSERT_TRUE(again);
  EXPECT_TRUE(same_public_key(key->get(), again->get()));

  auto raw = public_key_raw(key->get());
  ASSERT_TRUE(raw);
  auto pub = public_key_from_raw(*raw);
  ASSERT_TRUE(pub);
  EXPECT_TRUE(same_public_key(key->get(), pub->get()));

  auto scalar = private_key_scalar(key->get());
  ASSERT_TRUE(scalar);
  auto rebuilt = private_key_from_scalar(*scalar);
  ASSERT_TRUE(rebuilt);
  EXPECT_TRUE(same_public_key(key->get(), rebuilt->get()));
}

TEST(Keys, RejectsPointsOffTheCurveAndBadScalars) {
  Bytes not_a_point(64, 0x01);
  EXPECT_FALSE(public_key_from_raw(not_a_point));
  EXPECT_FALSE(public_key_from_raw(Bytes(63, 0)));
  EXPECT_FALSE(private_key_from_scalar(Bytes(32, 0)));
  EXPECT_FALSE(private_key_from_scalar(Bytes(32, 0xFF)));  // above the group order
}

TEST(Keys, WrongKeyTypeNamesIt) {
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  ASSERT_EQ(EVP_PKEY_keygen_init(ctx.get()), 1);
  EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 1024);
  ASSERT_EQ(EVP_PKEY_generate(ctx.get(), &raw), 1);
  PkeyPtr rsa(raw);
  auto status = require_p256(rsa.get(), "root-ca.key");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("root-ca.key is an RSA key"), std::string::npos);

  PkeyPtr p384(EVP_EC_gen("secp384r1"));
  status = require_p256(p384.get(), "signer-ca.key");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("secp384r1"), std::string::npos);
}

TEST(Ecdsa, SignVerifyAndEncodings) {
  auto key = generate_p256_key();
  ASSERT_TRUE(key);
  auto digest = sha256(as_bytes("message"));
  auto raw = ecdsa_sign_digest_raw(key->get(), digest);
  ASSERT_TRUE(raw);
  EXPECT_TRUE(ecdsa_verify_digest_raw(key->get(), digest, *raw));
  auto der = signature_raw_to_der(*raw);
  ASSERT_TRUE(der);
  EXPECT_TRUE(ecdsa_verify_digest(key->get(), digest, *der));
  EXPECT_EQ(*signature_der_to_raw(*der), *raw);
  auto tampered = *raw;
  tampered[10] ^= 1;
  EXPECT_FALSE(ecdsa_verify_digest_raw(key->get(), digest, tampered));
  Bytes trailing = *der;
  trailing.push_back(0);
  EXPECT_FALSE(signature_der_to_raw(trailing));
}

TEST(Ecdh, BothSidesAgree) {
  auto a = generate_p256_key();
  auto b = generate_p256_key();
  ASSERT_TRUE(a && b);
  auto ab = ecdh_shared_secret(a->get(), b->get());
  auto ba = ecdh_shared_secret(b->get(), a->get());
  ASSERT_TRUE(ab && ba);
  EXPECT_EQ(ab->size(), 32u);
  EXPECT_EQ(*ab, *ba);
}

}  // namespace
}  // namespace zt::crypto
