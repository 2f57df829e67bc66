// Fuzz target: fleet provisioning's request payloads (cloud/service/fleet_provisioning_payload):
// the first byte picks the format (JSON or CBOR) and the request read from the payload (CSR or
// RegisterThing); the rest is the payload. Every path must answer a value or a Rejection, and an
// accepted CBOR document must agree with the well-formedness check that let it through.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cloud/service/fleet_provisioning_payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fleet = zt::cloud::service::fleet;
  if (size == 0) return 0;
  auto format = (data[0] & 1) ? fleet::PayloadFormat::cbor : fleet::PayloadFormat::json;
  std::span<const uint8_t> payload(data + 1, size - 1);
  if (format == fleet::PayloadFormat::cbor &&
      !fleet::well_formed_cbor(payload, fleet::kMaxNesting)) {
    // Refused before nlohmann sees it: decode_request must refuse it too.
    if (!std::holds_alternative<fleet::Rejection>(fleet::decode_request(format, payload)))
      __builtin_trap();
    return 0;
  }
  auto decoded = fleet::decode_request(format, payload);
  const auto* body = std::get_if<nlohmann::json>(&decoded);
  if (!body) return 0;
  if (data[0] & 2) {
    (void)fleet::read_register_thing_request(*body);
  } else {
    (void)fleet::read_csr_request(*body);
  }
  // Answers quote client text: encoding must not throw on any of it.
  (void)fleet::encode_response(format, *body);
  (void)fleet::encode_response(fleet::PayloadFormat::json, *body);
  return 0;
}
