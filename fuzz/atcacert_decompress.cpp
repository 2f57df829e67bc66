// Fuzz target: decompress with hostile compressed bytes and hostile templates/definitions; also
// compress and certdef-from-sample on hostile certificates. Must never crash or read out of bounds.
// Input: [mode][72 compressed][64 public key][rest...]
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "atcacert/certdef_from_cert.hpp"
#include "atcacert/codec.hpp"
#include "atcacert/kit_definitions.hpp"

using namespace zt;
using namespace zt::atcacert;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 + 72 + 64) return 0;
  const uint8_t mode = data[0];
  DeviceData device;
  std::copy_n(data + 1, 72, device.compressed.begin());
  std::copy_n(data + 73, 64, device.subject_public_key.begin());
  ByteView rest(data + 137, size - 137);
  if (mode & 0x80) device.issuer_public_key = device.subject_public_key;
  device.device_sn = DeviceSerial{0x01, 0x23, 0, 0, 0, 0, 0, 0, 0xEE};

  switch (mode % 5) {
    case 0: {  // hostile compressed bytes against the kit device definition
      (void)decompress(kit_device_definition(), device);
      break;
    }
    case 1: {  // against the signer definition, with hostile stored serial and dates
      const CertDef& def = kit_signer_definition();
      size_t at = 0;
      auto take = [&](size_t n) {
        Bytes out(rest.begin() + static_cast<ptrdiff_t>(std::min(at, rest.size())),
                  rest.begin() + static_cast<ptrdiff_t>(std::min(at + n, rest.size())));
        at += n;
        return out;
      };
      device.stored_serial = take(16);
      for (const CertElement& e : def.cert_elements) device.elements[e.id] = take(e.cert_loc.count);
      (void)decompress(def, device);
      break;
    }
    case 2: {  // hostile template and element locations
      CertDef def = kit_device_definition();
      if (rest.size() < 2 * kStdElementCount * 2) return 0;
      for (size_t i = 0; i < kStdElementCount; ++i) {
        def.std_cert_elements[i].offset =
            static_cast<uint16_t>(rest[4 * i] << 8 | rest[4 * i + 1]) % 512;
        def.std_cert_elements[i].count = static_cast<uint16_t>(rest[4 * i + 2] % 80);
      }
      def.tbs_cert_loc = {static_cast<uint16_t>(rest[0] % 8), static_cast<uint16_t>(rest[1] * 2)};
      def.cert_template.assign(rest.begin() + 32, rest.end());
      def.template_id = device.compressed[69] >> 4;
      def.chain_id = device.compressed[69] & 0x0F;
      def.sn_source = static_cast<SnSource>(device.compressed[70] >> 4);
      def.issue_date_format = static_cast<DateFormat>(rest[2] % 5);
      def.expire_date_format = static_cast<DateFormat>(rest[3] % 5);
      def.expire_years = rest[4] % 32;
      (void)decompress(def, device);
      break;
    }
    case 3: {  // hostile certificate: compress against the kit definition, and certdef from it
      (void)compress(kit_device_definition(), rest, {device.subject_public_key, device.device_sn});
      (void)compress(kit_signer_definition(), rest);
      auto def = definition_from_certificate(rest);
      if (def) {
        device.compressed[69] = static_cast<uint8_t>(def->template_id << 4 | def->chain_id);
        device.compressed[70] = static_cast<uint8_t>(static_cast<int>(def->sn_source) << 4);
        (void)decompress(*def, device);
      }
      break;
    }
    case 4: {  // hostile definition JSON
      auto def = definition_from_json_text(as_chars(rest));
      if (def) (void)decompress(*def, device);
      break;
    }
  }
  return 0;
}
