// Serial-number sources other than the kit's: definitions generated with --sn-source, certificates
// whose serial follows the source, rebuilt from slots (the device serial comes from the config
// zone).
#include <gtest/gtest.h>

#include "atcacert/certdef_from_cert.hpp"
#include "atcacert/slots.hpp"
#include "kit_profile.hpp"

namespace zt::atcacert {
namespace {

Bytes reissue_with_serial(const testing::Issued& device, const testing::Issued& signer,
                          ByteView serial) {
  crypto::X509Ptr x(X509_dup(device.cert.get()));
  testing::set_serial(x.get(), serial);
  X509_sign(x.get(), signer.key.get(), EVP_sha256());
  return *crypto::certificate_to_der(x.get());
}

struct SourceCase {
  SnSource source;
  size_t serial_size;
};

class SerialSourceRoundTrip : public ::testing::TestWithParam<SourceCase> {};

TEST_P(SerialSourceRoundTrip, CompressDecompressAndSlots) {
  const SourceCase param = GetParam();
  const DeviceSerial device_sn{0x01, 0x23, 0x9A, 0x4C, 0x11, 0x22, 0x33, 0x44, 0xEE};
  auto root = testing::pki_root({2020, 1, 1, 0, 0, 0});
  auto signer = testing::pki_signer(root, {2024, 7, 1, 12, 0, 0}, "C0DE");
  auto device = testing::make_device(signer, {2025, 3, 9, 17, 0, 0});

  // A sample whose serial has the source's size, then the definition from it.
  Bytes placeholder(param.serial_size, 0x11);
  placeholder[0] = 0x40;
  Bytes sample = reissue_with_serial(device, signer, placeholder);
  DefinitionOptions options;
  options.sn_source = param.source;
  options.template_id = 7;
  auto def = definition_from_certificate(sample, options);
  ASSERT_TRUE(def) << def.error().message;
  ASSERT_EQ(def->element(StdElement::cert_sn).count, param.serial_size);

  SerialInputs inputs{device.public_key,
                      *encode_compressed_dates({2025, 3, 9, 17, 0, 0}, 0),
                      {0xC0, 0xDE},
                      device_sn};
  Bytes serial = *generate_serial(param.source, param.serial_size, inputs);
  Bytes cert = reissue_with_serial(device, signer, serial);

  auto data = compress(*def, cert, {signer.public_key, device_sn});
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->compressed[69], 0x70);
  EXPECT_EQ(data->compressed[70], static_cast<uint8_t>(static_cast<int>(param.source) << 4));
  EXPECT_EQ(*decompress(*def, *data), cert);

  // Without the device serial the DEVICE_SN sources cannot be compressed.
  if (param.source == SnSource::device_sn || param.source == SnSource::device_sn_hash) {
    auto refused = compress(*def, cert, {signer.public_key, std::nullopt});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("device serial number"), std::string::npos);
  }

  MemorySlotStore store(device_sn);
  store.set_private_key_public_part(0, device.public_key);
  ASSERT_TRUE(write_cert(*def, store, cert, {signer.public_key, device_sn}));
  auto rebuilt = read_cert(*def, store, signer.public_key);
  ASSERT_TRUE(rebuilt) << rebuilt.error().message;
  EXPECT_EQ(*rebuilt, cert);
  EXPECT_TRUE(verify_signature(*def, *rebuilt, signer.public_key));
}

INSTANTIATE_TEST_SUITE_P(Sources, SerialSourceRoundTrip,
                         ::testing::Values(SourceCase{SnSource::device_sn, 10},
                                           SourceCase{SnSource::signer_id, 3},
                                           SourceCase{SnSource::device_sn_hash, 16},
                                           SourceCase{SnSource::device_sn_hash, 20},
                                           SourceCase{SnSource::pub_key_hash, 12}),
                         [](const auto& info) {
                           return std::string(to_string(info.param.source)) + "_" +
                                  std::to_string(info.param.serial_size);
                         });

}  // namespace
}  // namespace zt::atcacert
