#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zt {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
inline std::string_view as_chars(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline Bytes to_bytes(std::string_view text) { return {text.begin(), text.end()}; }

// Overwrites secret material so it does not linger in freed memory.
void secure_zero(void* data, size_t size);

// Constant-time equality for secrets (MACs, signatures, tokens): time depends on the length only.
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace zt
