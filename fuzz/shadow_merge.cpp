// Fuzz target: shadow update requests (JSON parse, validation, merge, delta, metadata) applied in
// sequence to one shadow; the first byte picks update/get/delete so all paths interleave.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cloud/shadow/shadow.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using zt::cloud::shadow::Shadow;
  static Shadow shadow;
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 8) {
    case 0:
      (void)shadow.remove(1, "fuzz");
      break;
    case 1:
      (void)shadow.get(1, "fuzz");
      break;
    default: {
      auto outcome = shadow.update(payload, 1);
      if (outcome && shadow.exists()) {
        auto restored = Shadow::from_storage(shadow.to_storage());
        if (!restored || restored->to_storage() != shadow.to_storage()) __builtin_trap();
      }
    }
  }
  return 0;
}
