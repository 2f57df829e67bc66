#include "cloud/service/fleet_provisioning_payload.hpp"

#include <vector>

#include "common/json.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::service::fleet {
namespace {

using nlohmann::json;

Rejection invalid_payload(std::string message) {
  return Rejection{.status_code = 400, .error_code = "InvalidPayload", .error_message = message};
}

std::optional<PayloadFormat> format_of(std::string_view level) {
  if (level == "json") return PayloadFormat::json;
  if (level == "cbor") return PayloadFormat::cbor;
  return std::nullopt;
}

// One CBOR head (RFC 8949 §3): major type, additional information and its argument.
struct Head {
  uint8_t major = 0;
  uint8_t info = 0;
  uint64_t argument = 0;
  bool indefinite = false;
};

bool read_head(std::span<const uint8_t> bytes, size_t& pos, Head& head) {
  if (pos >= bytes.size()) return false;
  uint8_t initial = bytes[pos++];
  head.major = initial >> 5;
  head.info = initial & 0x1f;
  head.indefinite = false;
  if (head.info < 24) {
    head.argument = head.info;
    return true;
  }
  if (head.info == 31) {
    head.indefinite = true;
    return true;
  }
  if (head.info > 27) return false;  // 28..30 are reserved (§3.1)
  size_t count = size_t{1} << (head.info - 24);
  if (bytes.size() - pos < count) return false;
  head.argument = 0;
  for (size_t i = 0; i < count; ++i) head.argument = (head.argument << 8) | bytes[pos++];
  return true;
}

}  // namespace

bool valid_template_name(std::string_view name) {
  // CreateProvisioningTemplate templateName: length 1..36, pattern ^[0-9A-Za-z_-]+$.
  if (name.empty() || name.size() > 36) return false;
  for (char c : name) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<RequestTopic> parse_request_topic(std::string_view topic) {
  if (!topic.starts_with("$aws/certificates/") &&
      !topic.starts_with("$aws/provisioning-templates/"))
    return std::nullopt;
  auto levels = mqtt::split_topic_levels(topic);
  RequestTopic request;
  request.topic = std::string(topic);
  if (levels.size() == 4 && levels[1] == "certificates") {
    if (levels[2] == "create") {
      request.operation = Operation::create_keys_and_certificate;
    } else if (levels[2] == "create-from-csr") {
      request.operation = Operation::create_certificate_from_csr;
    } else {
      return std::nullopt;
    }
    auto format = format_of(levels[3]);
    if (!format) return std::nullopt;
    request.format = *format;
    return request;
  }
  if (levels.size() == 5 && levels[1] == "provisioning-templates" && levels[3] == "provision" &&
      valid_template_name(levels[2])) {
    auto format = format_of(levels[4]);
    if (!format) return std::nullopt;
    request.operation = Operation::register_thing;
    request.format = *format;
    request.template_name = std::string(levels[2]);
    return request;
  }
  return std::nullopt;
}

bool well_formed_cbor(std::span<const uint8_t> bytes, int max_depth) {
  struct Frame {
    uint64_t remaining = 0;  // items still expected (definite length)
    bool indefinite = false;
    int string_major = -1;  // an indefinite-length string: its chunks' major type
  };
  std::vector<Frame> stack;
  uint64_t top_level = 1;  // exactly one item
  size_t pos = 0;
  for (;;) {
    while (!stack.empty() && !stack.back().indefinite && stack.back().remaining == 0)
      stack.pop_back();
    if (stack.empty() && top_level == 0) return pos == bytes.size();
    Head head;
    if (!read_head(bytes, pos, head)) return false;
    if (head.major == 7 && head.indefinite) {  // "break" ends the innermost indefinite item
      if (stack.empty() || !stack.back().indefinite) return false;
      stack.pop_back();
      continue;
    }
    if (stack.empty()) {
      --top_level;
    } else {
      Frame& parent = stack.back();
      if (!parent.indefinite) --parent.remaining;
      // §3.2.3: the chunks of an indefinite string are definite strings of the same type.
      if (parent.string_major >= 0 && (head.major != parent.string_major || head.indefinite))
        return false;
    }
    size_t left = bytes.size() - pos;
    switch (head.major) {
      case 0:
      case 1:
        if (head.indefinite) return false;
        break;
      case 2:
      case 3:
        if (head.indefinite) {
          stack.push_back({.remaining = 0, .indefinite = true, .string_major = head.major});
        } else {
          if (head.argument > left) return false;
          pos += static_cast<size_t>(head.argument);
        }
        break;
      case 4:
        if (!head.indefinite && head.argument > left) return false;  // one byte per item at least
        stack.push_back({.remaining = head.argument, .indefinite = head.indefinite});
        break;
      case 5:
        if (!head.indefinite && head.argument > left / 2) return false;
        stack.push_back({.remaining = head.argument * 2, .indefinite = head.indefinite});
        break;
      case 6:
        if (head.indefinite) return false;
        stack.push_back({.remaining = 1});  // a tag wraps one item
        break;
      default:                                                    // 7: simple values and floats
        if (head.info == 24 && head.argument < 32) return false;  // §3.3: not well-formed
        break;
    }
    if (stack.size() > static_cast<size_t>(max_depth)) return false;
  }
}

std::variant<json, Rejection> decode_request(PayloadFormat format,
                                             std::span<const uint8_t> payload) {
  if (payload.size() > kMaxRequestBytes) {
    return invalid_payload("The payload is larger than " + std::to_string(kMaxRequestBytes) +
                           " bytes.");
  }
  json value;
  if (format == PayloadFormat::json) {
    auto parsed =
        parse_json(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()),
                   kMaxNesting);
    if (!parsed) return invalid_payload("The payload is not valid JSON: " + parsed.error().message);
    value = std::move(*parsed);
  } else {
    if (!well_formed_cbor(payload, kMaxNesting))
      return invalid_payload("The payload is not well-formed CBOR (or nests too deep).");
    try {
      value = json::from_cbor(payload.begin(), payload.end(), /*strict=*/true,
                              /*allow_exceptions=*/false);
    } catch (const json::exception&) {
      value = json(json::value_t::discarded);
    }
    if (value.is_discarded())
      return invalid_payload("The payload is CBOR this API cannot read (map keys must be text).");
  }
  if (!value.is_object()) return invalid_payload("The payload must be an object.");
  return value;
}

std::variant<CsrRequest, Rejection> read_csr_request(const json& payload) {
  auto csr = string_member(payload, "certificateSigningRequest");
  if (!csr) return invalid_payload(csr.error().message);
  if (!*csr || (*csr)->empty()) return invalid_payload("certificateSigningRequest is required.");
  if ((*csr)->size() > kMaxCsrChars) {
    return invalid_payload("certificateSigningRequest is longer than " +
                           std::to_string(kMaxCsrChars) + " characters.");
  }
  return CsrRequest{.certificate_signing_request = std::move(**csr)};
}

std::variant<RegisterThingRequest, Rejection> read_register_thing_request(const json& payload) {
  RegisterThingRequest request;
  auto token = string_member(payload, "certificateOwnershipToken");
  if (!token) return invalid_payload(token.error().message);
  if (!*token || (*token)->empty()) {
    // The message AWS answers for a missing token (aws-iot-device-sdk-js-v2 issue #69).
    return Rejection{.status_code = 400,
                     .error_code = "InvalidCertificateOwnershipToken",
                     .error_message = "Certificate ownership token cannot be empty."};
  }
  request.certificate_ownership_token = std::move(**token);
  auto parameters = object_member(payload, "parameters");
  if (!parameters) return invalid_payload(parameters.error().message);
  if (*parameters == nullptr) return request;
  if ((*parameters)->size() > kMaxParameters) {
    return invalid_payload("parameters has more than " + std::to_string(kMaxParameters) +
                           " entries.");
  }
  for (const auto& [key, value] : (*parameters)->items()) {
    if (!value.is_string())
      return invalid_payload("parameters." + key.substr(0, 64) + " must be a string");
    const auto& text = value.get_ref<const std::string&>();
    if (key.size() > kMaxParameterKeyChars || text.size() > kMaxParameterValueChars) {
      return invalid_payload(
          "A parameter name is longer than 2048 or its value longer than 4096 "
          "characters.");
    }
    request.parameters.emplace(key, text);
  }
  return request;
}

std::string encode_response(PayloadFormat format, const json& body) {
  // Replace, not throw: a message may quote a client's text, which CBOR does not check for UTF-8.
  if (format == PayloadFormat::json)
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
  std::vector<uint8_t> bytes = json::to_cbor(body);
  return std::string(bytes.begin(), bytes.end());
}

json rejection_body(const Rejection& rejection) {
  return {{"statusCode", rejection.status_code},
          {"errorCode", rejection.error_code},
          {"errorMessage", rejection.error_message}};
}

}  // namespace zt::cloud::service::fleet
