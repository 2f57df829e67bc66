#include "cloud/iam/form.hpp"

#include <algorithm>

namespace zt::cloud::iam {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// WHATWG URL "application/x-www-form-urlencoded parsing": '+' is a space, %XX a byte. Unlike the
// WHATWG parser (which keeps a bad escape literally) a bad escape is an error: a request whose
// bytes we cannot read unambiguously is refused.
Result<std::string> decode_component(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      bool complete = i + 2 < text.size();
      int high = complete ? hex_digit(text[i + 1]) : -1;
      int low = complete ? hex_digit(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return make_error(Errc::parse, "malformed percent-encoding in " + std::string(what));
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  if (!valid_utf8(out)) return make_error(Errc::parse, std::string(what) + " is not UTF-8");
  return out;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = byte < 0x80           ? 1
                    : (byte >> 5) == 0x6  ? 2
                    : (byte >> 4) == 0xE  ? 3
                    : (byte >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code = length == 1 ? byte : byte & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // RFC 3629 §3: shortest form only, no UTF-16 surrogates, nothing above U+10FFFF.
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
      return false;
    i += length;
  }
  return true;
}

Result<FormFields> parse_form(std::string_view body, const FormLimits& limits) {
  if (body.size() > limits.max_bytes) {
    return make_error(Errc::invalid_argument, "the request body has " +
                                                  std::to_string(body.size()) + " bytes; at most " +
                                                  std::to_string(limits.max_bytes) + " are read");
  }
  FormFields fields;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view item = body.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    if (fields.size() == limits.max_fields) {
      return make_error(Errc::invalid_argument,
                        "more than " + std::to_string(limits.max_fields) + " parameters");
    }
    size_t eq = item.find('=');
    std::string_view raw_name = item.substr(0, eq);
    if (raw_name.empty()) return make_error(Errc::invalid_argument, "a parameter without a name");
    if (raw_name.size() > limits.max_name_bytes * 3) {
      return make_error(Errc::invalid_argument, "a parameter name is too long");
    }
    ZT_TRY_ASSIGN(std::string name, decode_component(raw_name, "a parameter name"));
    if (name.size() > limits.max_name_bytes) {
      return make_error(Errc::invalid_argument, "a parameter name is too long");
    }
    std::string value;
    if (eq != std::string_view::npos) {
      ZT_TRY_ASSIGN(value, decode_component(item.substr(eq + 1), "parameter " + name));
    }
    if (std::any_of(fields.begin(), fields.end(),
                    [&](const auto& field) { return field.first == name; })) {
      return make_error(Errc::invalid_argument, "parameter " + name + " is given twice");
    }
    fields.emplace_back(std::move(name), std::move(value));
  }
  return fields;
}

std::optional<std::string> form_value(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return std::nullopt;
}

}  // namespace zt::cloud::iam
