#include "kit/se_slot_store.hpp"

#include <algorithm>

namespace zt::kit {
namespace {

Status check_range(int slot, size_t offset, size_t length) {
  size_t size = atcacert::slot_size(slot);
  if (size == 0 || offset > size || length > size - offset) {
    return make_error(Errc::invalid_argument, "slot " + std::to_string(slot) + ": range " +
                                                  std::to_string(offset) + "+" +
                                                  std::to_string(length) + " is outside the slot");
  }
  return ok();
}

}  // namespace

Result<Bytes> SeSlotStore::read_slot(int slot, size_t offset, size_t length) {
  ZT_TRY(check_range(slot, offset, length));
  ZT_TRY_ASSIGN(Bytes whole, device_->read_slot(static_cast<unsigned>(slot)));
  if (whole.size() < offset + length) {
    return make_error(Errc::io, "slot " + std::to_string(slot) + ": short read");
  }
  return Bytes(whole.begin() + static_cast<std::ptrdiff_t>(offset),
               whole.begin() + static_cast<std::ptrdiff_t>(offset + length));
}

Status SeSlotStore::write_slot(int slot, size_t offset, ByteView data) {
  ZT_TRY(check_range(slot, offset, data.size()));
  size_t begin = offset & ~size_t{3};
  size_t end = (offset + data.size() + 3) & ~size_t{3};
  if (begin == offset && end == offset + data.size()) {
    return device_->write_slot(static_cast<unsigned>(slot), data, offset);
  }
  ZT_TRY_ASSIGN(Bytes words, read_slot(slot, begin, end - begin));
  std::copy(data.begin(), data.end(), words.begin() + static_cast<std::ptrdiff_t>(offset - begin));
  return device_->write_slot(static_cast<unsigned>(slot), words, begin);
}

Result<Bytes> SeSlotStore::read_config(size_t offset, size_t length) {
  ZT_TRY_ASSIGN(Bytes config, device_->read_config());
  if (offset > config.size() || length > config.size() - offset) {
    return make_error(Errc::invalid_argument, "config zone: range outside 128 bytes");
  }
  return Bytes(config.begin() + static_cast<std::ptrdiff_t>(offset),
               config.begin() + static_cast<std::ptrdiff_t>(offset + length));
}

Result<crypto::PublicKeyRaw> SeSlotStore::generate_public_key(int slot) {
  return device_->public_key(static_cast<unsigned>(slot));
}

}  // namespace zt::kit
