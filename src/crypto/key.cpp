#include "crypto/key.hpp"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>

#include "common/file.hpp"
#include "crypto/der_encode.hpp"
#include "crypto/p256_csr.hpp"

namespace zt::crypto {

namespace {

constexpr const char* kCurve = "prime256v1";

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

Result<PkeyPtr> key_from_params(ByteView pub, ByteView scalar) {
  UniquePtr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  UniquePtr<BIGNUM> priv;
  if (!builder) return openssl_error("allocating key parameters");
  OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0);
  OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
  if (!scalar.empty()) {
    priv.reset(BN_bin2bn(scalar.data(), static_cast<int>(scalar.size()), nullptr));
    if (!priv) return openssl_error("reading private scalar");
    OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
  }
  UniquePtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder.get()));
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, scalar.empty() ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR,
                        params.get()) != 1) {
    return openssl_error("building P-256 key", Errc::invalid_argument);
  }
  PkeyPtr key(raw);
  // fromdata does not check that the point is on the curve; a public-key check does.
  UniquePtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return openssl_error("public key is not a point on P-256", Errc::invalid_argument);
  }
  return key;
}

}  // namespace

std::string ec_curve_name(const EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return {};
  char group[64] = {};
  size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &length) != 1) {
    clear_openssl_errors();
    return {};
  }
  return group;
}

std::string key_type_name(const EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return "an RSA key";
  if (id == EVP_PKEY_EC) {
    std::string curve = ec_curve_name(key);
    return curve.empty() ? "an EC key" : "an EC key on " + curve;
  }
  if (id == EVP_PKEY_ED25519) return "an Ed25519 key";
  if (const char* name = EVP_PKEY_get0_type_name(key)) return std::string("a ") + name + " key";
  return "a key of unknown type";
}

Result<PkeyPtr> generate_rsa_key(int bits) {
  EVP_PKEY* raw = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (raw == nullptr) return openssl_error("generating RSA key");
  return PkeyPtr(raw);
}

Result<std::string> private_key_to_traditional_pem(const EVP_PKEY* key) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio) bio.reset(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                   nullptr) != 1) {
    return openssl_error("encoding private key");
  }
  return bio_to_string(bio.get());
}

Result<PkeyPtr> generate_p256_key() {
  EVP_PKEY* raw = EVP_EC_gen(kCurve);
  if (raw == nullptr) return openssl_error("generating P-256 key");
  return PkeyPtr(raw);
}

Status require_p256(const EVP_PKEY* key, std::string_view what) {
  if (key == nullptr) return make_error(Errc::invalid_argument, std::string(what) + " is missing");
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) == 1 &&
        std::string_view(group) == kCurve) {
      return ok();
    }
    // Keys held in a PKCS#11 token (legacy engine keys) may not expose the group name as a param.
    if (EVP_PKEY_get_bits(key) == 256) return ok();
  }
  return make_error(Errc::invalid_argument, std::string(what) + " is " + key_type_name(key) +
                                                "; an ECDSA P-256 (prime256v1) key is required");
}

Result<PkeyPtr> private_key_from_pem(std::string_view pem, std::string_view what) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return openssl_error("allocating BIO");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return openssl_error(std::string(what) + " is not a PEM private key", Errc::parse);
  }
  PkeyPtr key(raw);
  ZT_TRY(require_p256(key.get(), what));
  return key;
}

Result<std::string> private_key_to_pem(const EVP_PKEY* key) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio) bio.reset(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("encoding private key");
  }
  return bio_to_string(bio.get());
}

Result<PkeyPtr> public_key_from_pem(std::string_view pem, std::string_view what) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr)
    return openssl_error(std::string(what) + " is not a PEM public key", Errc::parse);
  PkeyPtr key(raw);
  ZT_TRY(require_p256(key.get(), what));
  return key;
}

Result<std::string> public_key_to_pem(const EVP_PKEY* key) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
    return openssl_error("encoding public key");
  return bio_to_string(bio.get());
}

Result<PkeyPtr> load_private_key(const std::filesystem::path& path) {
  ZT_TRY_ASSIGN(std::string pem, read_text_file(path, 1 << 20));
  auto key = private_key_from_pem(pem, path.string());
  secure_zero(pem.data(), pem.size());
  return key;
}

Status save_private_key(const std::filesystem::path& path, const EVP_PKEY* key) {
  ZT_TRY_ASSIGN(std::string pem, private_key_to_pem(key));
  Status status = write_file_atomic(path, pem, 0600);
  secure_zero(pem.data(), pem.size());
  return status;
}

Result<PublicKeyRaw> public_key_raw(const EVP_PKEY* key) {
  uint8_t point[65];
  size_t length = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point,
                                      &length) != 1) {
    // Engine-backed keys: fall back to the SubjectPublicKeyInfo encoding, which for P-256 is
    // exactly 91 bytes ending in the 65-byte uncompressed point.
    ZT_TRY(require_p256(key, "public key"));
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(key, &der);
    if (n != 91) {
      OPENSSL_free(der);
      return openssl_error("reading public key");
    }
    std::copy(der + n - 65, der + n, point);
    OPENSSL_free(der);
    length = 65;
  }
  if (length != 65 || point[0] != 0x04) {
    return make_error(Errc::invalid_argument, "public key is not an uncompressed P-256 point");
  }
  PublicKeyRaw out{};
  std::copy(point + 1, point + 65, out.begin());
  return out;
}

Result<PkeyPtr> public_key_from_raw(ByteView x_y) {
  if (x_y.size() != 64) {
    return make_error(Errc::invalid_argument, "raw P-256 public key must be 64 bytes (X||Y), got " +
                                                  std::to_string(x_y.size()));
  }
  Bytes point(65);
  point[0] = 0x04;
  std::copy(x_y.begin(), x_y.end(), point.begin() + 1);
  return p256_public_key_from_point(point);  // on-curve check without fromdata's cost
}

Result<Bytes> public_key_spki_der(const EVP_PKEY* key) {
  return encode_der(i2d_PUBKEY, key, "encoding SubjectPublicKeyInfo");
}

Result<PkeyPtr> public_key_from_spki_der(ByteView der) {
  const unsigned char* p = der.data();
  EVP_PKEY* raw = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) return openssl_error("not a DER SubjectPublicKeyInfo", Errc::parse);
  PkeyPtr key(raw);
  ZT_TRY(require_p256(key.get(), "public key"));
  return key;
}

Result<Bytes> private_key_scalar(const EVP_PKEY* key) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1)
    return openssl_error("reading private key");
  UniquePtr<BIGNUM> bn(raw);
  Bytes out(32);
  if (BN_bn2binpad(bn.get(), out.data(), 32) != 32)
    return openssl_error("private scalar is not 32 bytes");
  return out;
}

Result<PkeyPtr> private_key_from_scalar(ByteView scalar) {
  if (scalar.size() != 32)
    return make_error(Errc::invalid_argument, "P-256 private scalar must be 32 bytes");
  UniquePtr<BIGNUM> d(BN_bin2bn(scalar.data(), 32, nullptr));
  UniquePtr<EC_GROUP> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  if (!d || !group) return openssl_error("allocating P-256 group");
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    return make_error(Errc::invalid_argument, "private scalar is out of range for P-256");
  }
  UniquePtr<EC_POINT> pub(EC_POINT_new(group.get()));
  UniquePtr<BN_CTX> bn_ctx(BN_CTX_new());
  if (!pub || !bn_ctx ||
      EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1) {
    return openssl_error("computing public key");
  }
  Bytes point(65);
  if (EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                         point.size(), bn_ctx.get()) != 65) {
    return openssl_error("encoding public key");
  }
  return key_from_params(point, scalar);
}

bool same_public_key(const EVP_PKEY* a, const EVP_PKEY* b) {
  auto ra = public_key_raw(a);
  auto rb = public_key_raw(b);
  return ra && rb && *ra == *rb;
}

}  // namespace zt::crypto
