// Fixtures the kit tests share: an emulated ATECC508A (configured as the seed firmware configures
// it on first start, or left blank) and a root + signer CA pair from zt::pki's profiles.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "crypto/key.hpp"
#include "pki/profiles.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/transport.hpp"
#include "secure_element/zones.hpp"

namespace zt::kit::fixtures {

inline constexpr int64_t kNow = 1795617441;

struct Chip {
  std::shared_ptr<se::Emulator> emulator = std::make_shared<se::Emulator>(se::blank_chip());
  std::shared_ptr<se::Device> device =
      std::make_shared<se::Device>(std::make_unique<se::InProcessTransport>(emulator));
  crypto::PublicKeyRaw public_key{};  // slot 0's, once configured

  explicit Chip(bool configure = true) {
    if (!configure) return;
    auto provisioned = se::provision(*device);
    EXPECT_TRUE(provisioned) << (provisioned ? "" : provisioned.error().message);
    if (provisioned) public_key = provisioned->device_public_key;
  }
};

struct CaPair {
  crypto::PkeyPtr root_key = std::move(*crypto::generate_p256_key());
  crypto::PkeyPtr signer_key = std::move(*crypto::generate_p256_key());
  crypto::X509Ptr root, signer;

  CaPair() {
    root = std::move(*pki::create_root_certificate(root_key.get(), kNow));
    auto csr = pki::create_signer_csr(signer_key.get());
    signer =
        std::move(*pki::issue_signer_certificate(csr->get(), root.get(), root_key.get(), kNow));
  }
};

}  // namespace zt::kit::fixtures
