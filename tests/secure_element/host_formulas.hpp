// The host side of the chip's SHA-256 formulas, written in the tests from the published layouts
// (cryptoauthlib lib/host/atca_host.c, Microchip's public-key-rotation example) with OpenSSL's
// SHA-256, independently of the emulator's code, so a test compares the chip with the formula.
#pragma once

#include <array>

#include "common/bytes.hpp"
#include "crypto/digest.hpp"

namespace zt::se::testing {

using Digest = std::array<uint8_t, 32>;
using SerialNumber = std::array<uint8_t, 9>;

inline Bytes concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (ByteView part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}
inline Bytes le16(uint16_t value) {
  return Bytes{static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8)};
}

// Nonce random (atcah_nonce): SHA-256(RandOut, NumIn(20), 16 mode 00).
inline Digest host_nonce(ByteView rand_out, ByteView num_in, uint8_t mode) {
  return crypto::sha256(concat({rand_out, num_in, Bytes{0x16, mode, 0x00}}));
}

// GenDig over a data slot (atcah_gen_dig): SHA-256(key, 15 02 id(LE) | OtherData for a NoMac key,
// SN8 SN0 SN1, 25 zeros, TempKey).
inline Digest host_gen_dig(ByteView key, uint16_t id, const SerialNumber& sn, ByteView temp_key,
                           ByteView other_data = {}) {
  const Bytes header = other_data.empty() ? concat({Bytes{0x15, 0x02}, le16(id)})
                                          : Bytes(other_data.begin(), other_data.end());
  return crypto::sha256(concat({key, header, Bytes{sn[8], sn[0], sn[1]}, Bytes(25, 0), temp_key}));
}

// Write / PrivWrite input MAC (atcah_write_auth_mac, atcah_privwrite_auth_mac): SHA-256(TempKey,
// opcode param1 param2(LE) SN8 SN0 SN1, `zeros` zeros (25 Write, 21 PrivWrite), plain text).
inline Digest host_auth_mac(ByteView temp_key, uint8_t opcode, uint8_t param1, uint16_t param2,
                            const SerialNumber& sn, size_t zeros, ByteView plain) {
  return crypto::sha256(concat({temp_key, Bytes{opcode, param1}, le16(param2),
                                Bytes{sn[8], sn[0], sn[1]}, Bytes(zeros, 0), plain}));
}

// atcah_include_data for MAC/HMAC modes: OTP / SN bytes after opcode, mode and KeyID.
inline Bytes host_include_data(uint8_t mode, ByteView otp, const SerialNumber& sn) {
  Bytes out;
  // calib_command.h: MAC_MODE_INCLUDE_OTP_88 0x10 (bit 4, wins), MAC_MODE_INCLUDE_OTP_64 0x20.
  if (mode & 0x10) {
    out.assign(otp.begin(), otp.begin() + 11);
  } else {
    out = (mode & 0x20) ? Bytes(otp.begin(), otp.begin() + 8) : Bytes(8, 0);
    out.insert(out.end(), 3, 0);
  }
  const bool full = mode & 0x40;
  out.push_back(sn[8]);
  for (size_t i = 4; i < 8; ++i) out.push_back(full ? sn[i] : 0);
  out.insert(out.end(), {sn[0], sn[1], full ? sn[2] : uint8_t{0}, full ? sn[3] : uint8_t{0}});
  return out;
}

// HMAC-SHA256 written out (FIPS 198: key padded to 64 bytes, ipad 0x36, opad 0x5C) so the test
// does not share the emulator's HMAC code.
inline Digest host_hmac(ByteView key, ByteView message) {
  Bytes inner(64, 0x36), outer(64, 0x5C);
  for (size_t i = 0; i < key.size(); ++i) {
    inner[i] ^= key[i];
    outer[i] ^= key[i];
  }
  const Digest inner_digest = crypto::sha256(concat({inner, message}));
  return crypto::sha256(concat({outer, inner_digest}));
}

}  // namespace zt::se::testing
