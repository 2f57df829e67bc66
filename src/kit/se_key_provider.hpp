// An OpenSSL 3 provider ("zt-se": EC keymgmt + ECDSA signature) whose private-key operations go to
// a secure element, the shape of tpm2-openssl and pkcs11-provider. TLS code gets an ordinary
// EVP_PKEY (SSL_CTX_use_PrivateKey) and never sees key material: every signature is a Nonce + Sign
// on the chip. Digests longer than 32 bytes are truncated to the curve size as ECDSA prescribes
// (FIPS 186-4 §6.4), so TLS may pick any ECDSA signature algorithm.
#pragma once

#include <memory>

#include "common/result.hpp"
#include "crypto/ossl.hpp"
#include "secure_element/device.hpp"

namespace zt::kit {

// Loads the provider (and the default provider beside it) into the default library context, once.
// Sets "?provider=default" as the default property query, a preference that keeps ordinary key
// parsing on the default provider.
Status load_se_provider();

// An EVP_PKEY for the P-256 key in `slot`: its public half is read from the chip (GenKey public
// mode), its private operations are performed by the chip.
Result<crypto::PkeyPtr> se_private_key(std::shared_ptr<se::Device> device, unsigned slot);

}  // namespace zt::kit
