// The configuration the Zero Touch kit's firmware writes into a blank ATECC508A, and the
// firmware's configure step (`provision`). Slot map (reference/kit.md): 0 device private key
// (P-256, GenKey, never readable), 8 metadata, 10 device compressed cert, 11 signer public key,
// 12 signer compressed cert, 14 signer serial + dates, 15 root ("signer CA") public key.
#pragma once

#include <array>

#include "common/result.hpp"
#include "crypto/key.hpp"
#include "secure_element/device.hpp"

namespace zt::se {

// I2C address the kit moves its AWS chip to (reference/kit.md: 0xB0).
inline constexpr uint8_t kit_i2c_address = 0xB0;

// The 128-byte configuration image; bytes 0-15 and 84-87 are not written (see
// Device::write_config).
const std::array<uint8_t, config_size>& kit_config();

struct ProvisionResult {
  crypto::PublicKeyRaw device_public_key{};  // slot 0
};

// On a blank chip: write kit_config(), lock config (CRC checked), lock data, then GenKey the
// private-key slots 0, 2, 3 and 7 (the order of the seed firmware's ecc_configure.c: data is locked
// before the keys are generated, which SlotConfig.WriteConfig = GenKey allows). Fails, changing
// nothing, when the configuration zone is already locked. `config` is another image for a product
// that configures some slots differently (the kit's fleet-claim flow: kit/flow.hpp).
Result<ProvisionResult> provision(Device& device,
                                  const std::array<uint8_t, config_size>& config = kit_config());

}  // namespace zt::se
