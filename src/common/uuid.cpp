#include "common/uuid.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "common/hex.hpp"

namespace zt {

std::string format_uuid_v4(ByteView random16) {
  if (random16.size() != 16) throw std::invalid_argument("format_uuid_v4 wants 16 bytes");
  Bytes bytes(random16.begin(), random16.end());
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);
  std::string hex = to_hex(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string new_uuid() {
  std::array<uint8_t, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");  // the DRBG cannot fail once seeded
  }
  return format_uuid_v4(random);
}

}  // namespace zt
