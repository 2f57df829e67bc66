// atcacert's SlotStore over a zt::se::Device: how the kit firmware writes and reads its compressed
// certificates (slots 10-15) on the ATECC508A.
#pragma once

#include <memory>

#include "atcacert/slots.hpp"
#include "secure_element/device.hpp"

namespace zt::kit {

class SeSlotStore final : public atcacert::SlotStore {
 public:
  explicit SeSlotStore(std::shared_ptr<se::Device> device) : device_(std::move(device)) {}
  Result<Bytes> read_slot(int slot, size_t offset, size_t length) override;
  // The chip writes whole 4-byte words at word-aligned offsets (datasheet §9.21 Write): an
  // unaligned range (slot 14's dates at 22 and 37) is a read-modify-write of the covering words.
  Status write_slot(int slot, size_t offset, ByteView data) override;
  Result<Bytes> read_config(size_t offset, size_t length) override;
  Result<crypto::PublicKeyRaw> generate_public_key(int slot) override;

 private:
  std::shared_ptr<se::Device> device_;
};

}  // namespace zt::kit
