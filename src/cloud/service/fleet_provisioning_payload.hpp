// Fleet provisioning's MQTT API on the wire (AWS IoT developer guide, "Device provisioning MQTT
// API"): which request a topic names, the request payloads in JSON or CBOR (the topic's
// payload-format), and the accepted/rejected answers in the same format. Pure: no registry, no
// broker; every byte here comes from a client (fuzz/fleet_provisioning_payload.cpp).
//
//   $aws/certificates/create/<fmt>                         CreateKeysAndCertificate, payload {}
//   $aws/certificates/create-from-csr/<fmt>                CreateCertificateFromCsr
//                                                          {"certificateSigningRequest": "…"}
//   $aws/provisioning-templates/<name>/provision/<fmt>     RegisterThing
//                       {"certificateOwnershipToken": "…", "parameters": {"k": "v", …}}
// each answered on <request topic>/accepted or <request topic>/rejected; a rejection's payload is
// {"statusCode": int, "errorCode": "…", "errorMessage": "…"}.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.hpp"

namespace zt::cloud::service::fleet {

enum class Operation { create_keys_and_certificate, create_certificate_from_csr, register_thing };
enum class PayloadFormat { json, cbor };

struct RequestTopic {
  Operation operation = Operation::create_keys_and_certificate;
  PayloadFormat format = PayloadFormat::json;
  std::string template_name;  // RegisterThing only
  std::string topic;          // the request topic; answers go to topic + "/accepted|rejected"
};

// The request a topic names, or nullopt when it is none of the six request topics (…/accepted and
// …/rejected are not requests). A template name is 1..36 of [0-9A-Za-z_-]
// (CreateProvisioningTemplate's templateName pattern); another name is not a request topic either.
std::optional<RequestTopic> parse_request_topic(std::string_view topic);
bool valid_template_name(std::string_view name);

// Bounds on what a client may send. The broker caps a PUBLISH at 128 KB (AWS IoT's message size);
// a request of this API needs far less. CBOR nesting is checked before nlohmann builds anything
// (its CBOR reader recurses once per level).
inline constexpr size_t kMaxRequestBytes = 16 * 1024;
inline constexpr int kMaxNesting = 8;
// CreateCertificateFromCsr's certificateSigningRequest: 1..4096 characters (API reference).
inline constexpr size_t kMaxCsrChars = 4096;
// RegisterThing's parameters: keys up to 2048, values up to 4096 characters (API reference,
// RegisterThing "parameters"); at most kMaxParameters of them (ours: the request bound applies
// first in practice).
inline constexpr size_t kMaxParameterKeyChars = 2048;
inline constexpr size_t kMaxParameterValueChars = 4096;
inline constexpr size_t kMaxParameters = 100;

// A refusal as the rejected topic carries it.
struct Rejection {
  int status_code = 400;
  std::string error_code;
  std::string error_message;
};

// The payload as a JSON value (an object), from JSON text or CBOR bytes. Rejection "InvalidPayload"
// (400) when it is not well-formed, too large, nested too deep, or not an object.
std::variant<nlohmann::json, Rejection> decode_request(PayloadFormat format,
                                                       std::span<const uint8_t> payload);

// True when `bytes` is exactly one well-formed CBOR data item (RFC 8949) nesting at most
// `max_depth` arrays/maps/tags, whose every declared length fits in what is left of the input.
bool well_formed_cbor(std::span<const uint8_t> bytes, int max_depth);

struct CsrRequest {
  std::string certificate_signing_request;
};
struct RegisterThingRequest {
  std::string certificate_ownership_token;
  std::map<std::string, std::string> parameters;
};
std::variant<CsrRequest, Rejection> read_csr_request(const nlohmann::json& payload);
std::variant<RegisterThingRequest, Rejection> read_register_thing_request(
    const nlohmann::json& payload);

// An answer in the request's format: JSON text, or CBOR bytes (in a std::string, as MQTT payloads
// are carried here).
std::string encode_response(PayloadFormat format, const nlohmann::json& body);
nlohmann::json rejection_body(const Rejection& rejection);

}  // namespace zt::cloud::service::fleet
