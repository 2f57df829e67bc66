#pragma once

#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt {

std::string to_hex(ByteView bytes);  // lowercase
std::string to_hex_upper(ByteView bytes);
Result<Bytes> from_hex(std::string_view hex);  // accepts either case; no separators

std::string base64_encode(ByteView bytes);
Result<Bytes> base64_decode(std::string_view text);  // standard alphabet, padding required

}  // namespace zt
