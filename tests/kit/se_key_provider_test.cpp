#include "kit/se_key_provider.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "crypto/digest.hpp"
#include "crypto/ecdsa.hpp"
#include "crypto/x509.hpp"
#include "crypto/x509_builder.hpp"
#include "kit_fixtures.hpp"

namespace zt::crypto {
template <>
struct Deleter<SSL_CTX> {
  void operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }
};
template <>
struct Deleter<SSL> {
  void operator()(SSL* p) const noexcept { SSL_free(p); }
};
}  // namespace zt::crypto

namespace zt::kit {
namespace {

using fixtures::kNow;
using ProvisionedChip = fixtures::Chip;
using Pki = fixtures::CaPair;

TEST(SeKeyProvider, SignsThroughTheChipAndOpenSslVerifies) {
  ProvisionedChip chip;
  auto key = se_private_key(chip.device, 0);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_TRUE(EVP_PKEY_is_a(key->get(), "EC"));
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 256);
  auto raw = crypto::public_key_raw(key->get());
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_EQ(*raw, chip.public_key);

  crypto::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  std::string message = "zero touch";
  ASSERT_EQ(
      EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key->get(), nullptr),
      1);
  size_t length = 0;
  ASSERT_EQ(EVP_DigestSign(ctx.get(), nullptr, &length,
                           reinterpret_cast<const uint8_t*>(message.data()), message.size()),
            1);
  Bytes signature(length);
  ASSERT_EQ(EVP_DigestSign(ctx.get(), signature.data(), &length,
                           reinterpret_cast<const uint8_t*>(message.data()), message.size()),
            1);
  signature.resize(length);
  auto pub = crypto::public_key_from_raw(chip.public_key);
  EXPECT_TRUE(
      crypto::ecdsa_verify_digest(pub->get(), crypto::sha256(as_bytes(message)), signature));
}

TEST(SeKeyProvider, PrivateKeyCannotBeExported) {
  ProvisionedChip chip;
  auto key = se_private_key(chip.device, 0);
  ASSERT_TRUE(key);
  EXPECT_FALSE(crypto::private_key_scalar(key->get()));
  EXPECT_FALSE(crypto::private_key_to_pem(key->get()));
}

TEST(SeKeyProvider, CsrSignedInsideTheChipIsIssuedAndMatchesTheKey) {
  ProvisionedChip chip;
  Pki pki;
  auto key = se_private_key(chip.device, 0);
  ASSERT_TRUE(key);
  auto name = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  crypto::CsrFields fields{.subject = name->get(), .extensions = {}};
  auto csr = crypto::build_csr(fields, key->get());
  ASSERT_TRUE(csr) << csr.error().message;
  ASSERT_TRUE(crypto::verify_csr_signature(csr->get()));
  auto device_cert =
      pki::issue_device_certificate(csr->get(), pki.signer.get(), pki.signer_key.get(), kNow);
  ASSERT_TRUE(device_cert) << device_cert.error().message;
  EXPECT_EQ(X509_check_private_key(device_cert->get(), key->get()), 1);
  // A key from another slot does not match the certificate.
  auto other = se_private_key(chip.device, 2);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_NE(X509_check_private_key(device_cert->get(), other->get()), 1);
}

// A mutual-TLS handshake over an in-memory BIO pair: the server requires a client certificate
// chained to the root; the client's key is the chip's slot 0.
std::string handshake(int tls_version) {
  ProvisionedChip chip;
  Pki pki;
  auto key = se_private_key(chip.device, 0);
  if (!key) return key.error().message;
  auto name = crypto::make_name({{"O", "Example Inc"}, {"CN", "Example Device"}});
  crypto::CsrFields fields{.subject = name->get(), .extensions = {}};
  auto csr = crypto::build_csr(fields, key->get());
  auto device_cert =
      pki::issue_device_certificate(csr->get(), pki.signer.get(), pki.signer_key.get(), kNow);
  auto server_key = crypto::generate_p256_key();
  auto server_ca_key = crypto::generate_p256_key();
  auto server_ca = pki::create_server_ca(server_ca_key->get(), "Test Server CA", kNow - 86400);
  auto server_cert = pki::issue_server_certificate(
      server_key->get(), {"localhost"}, server_ca->get(), server_ca_key->get(), kNow - 86400);
  if (!device_cert || !server_cert) return "certificate setup failed";

  crypto::UniquePtr<SSL_CTX> server_ctx(SSL_CTX_new(TLS_server_method()));
  crypto::UniquePtr<SSL_CTX> client_ctx(SSL_CTX_new(TLS_client_method()));
  for (SSL_CTX* ctx : {server_ctx.get(), client_ctx.get()}) {
    SSL_CTX_set_min_proto_version(ctx, tls_version);
    SSL_CTX_set_max_proto_version(ctx, tls_version);
  }
  SSL_CTX_use_certificate(server_ctx.get(), server_cert->get());
  SSL_CTX_use_PrivateKey(server_ctx.get(), server_key->get());
  X509_STORE_add_cert(SSL_CTX_get_cert_store(server_ctx.get()), pki.root.get());
  SSL_CTX_set_verify(server_ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(server_ctx.get()), kNow + 3600);

  if (SSL_CTX_use_certificate(client_ctx.get(), device_cert->get()) != 1 ||
      SSL_CTX_use_PrivateKey(client_ctx.get(), key->get()) != 1 ||
      SSL_CTX_check_private_key(client_ctx.get()) != 1) {
    return crypto::openssl_error("client key/certificate").message;
  }
  X509_up_ref(pki.signer.get());
  SSL_CTX_add_extra_chain_cert(client_ctx.get(), pki.signer.get());
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()), server_ca->get());
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(client_ctx.get()), kNow + 3600);

  crypto::UniquePtr<SSL> server(SSL_new(server_ctx.get()));
  crypto::UniquePtr<SSL> client(SSL_new(client_ctx.get()));
  BIO *client_bio = nullptr, *server_bio = nullptr;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  bool client_done = false, server_done = false;
  for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
    if (!client_done) {
      int rc = SSL_do_handshake(client.get());
      if (rc == 1)
        client_done = true;
      else if (SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ)
        return crypto::openssl_error("client handshake").message;
    }
    if (!server_done) {
      int rc = SSL_do_handshake(server.get());
      if (rc == 1)
        server_done = true;
      else if (SSL_get_error(server.get(), rc) != SSL_ERROR_WANT_READ)
        return crypto::openssl_error("server handshake").message;
    }
  }
  if (!client_done || !server_done) return "handshake did not finish";
  crypto::X509Ptr peer(SSL_get1_peer_certificate(server.get()));
  if (!peer || X509_cmp(peer.get(), device_cert->get()) != 0)
    return "server saw another client certificate";
  if (SSL_get_verify_result(server.get()) != X509_V_OK) return "client chain did not verify";
  return "ok";
}

TEST(SeKeyProvider, MutualTls12HandshakeWithTheKeyInTheChip) {
  EXPECT_EQ(handshake(TLS1_2_VERSION), "ok");
}
TEST(SeKeyProvider, MutualTls13HandshakeWithTheKeyInTheChip) {
  EXPECT_EQ(handshake(TLS1_3_VERSION), "ok");
}

}  // namespace
}  // namespace zt::kit
