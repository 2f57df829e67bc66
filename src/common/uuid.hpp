// RFC 4122 version-4 UUIDs: AWS's thingId, thingTypeId, policy ids, x-amzn-RequestId and the rules
// SQL newuuid() all use this one text form, 8-4-4-4-12 lowercase hex.
#pragma once

#include <string>

#include "common/bytes.hpp"

namespace zt {

// The version-4 UUID text of 16 random bytes (RFC 4122 §4.4: version nibble 4, variant bits 10).
// Fewer or more than 16 bytes is a programmer error (std::invalid_argument).
std::string format_uuid_v4(ByteView random16);

// A new random version-4 UUID (OpenSSL's DRBG).
std::string new_uuid();

}  // namespace zt
