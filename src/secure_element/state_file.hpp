// The chip's non-volatile memory on disk: one JSON file (format "zerotouch-atecc508a-state",
// version 1) holding the configuration zone (which includes the counters), OTP zone and the 16 data
// slots, in hex. The file IS the chip's EEPROM, so it contains the private keys of key slots: it is
// written mode 0600, atomically (temp + fsync + rename, common/file.hpp), after every change, and
// never printed.
#pragma once

#include <filesystem>

#include "common/result.hpp"
#include "secure_element/zones.hpp"

namespace zt::se {

inline constexpr int state_file_version = 1;

std::string encode_state(const ChipState& state);
Result<ChipState> decode_state(std::string_view json,
                               std::string_view what = "secure element state");

Result<ChipState> load_state(const std::filesystem::path& path);
Status save_state(const std::filesystem::path& path, const ChipState& state);
// Loads `path`, or creates it holding a new blank chip (random serial number) when it does not
// exist.
Result<ChipState> load_or_create_state(const std::filesystem::path& path);

}  // namespace zt::se
