#include "aws/xml_reader.hpp"

#include <charconv>
#include <optional>

namespace zt::aws {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// XML 1.0 §4.6 (the five predefined entities) and §4.1 (character references).
Status decode_entities(std::string_view text, std::string& out) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      return make_error(Errc::parse, "XML: unterminated entity reference");
    }
    std::string_view name = text.substr(i + 1, semi - i - 1);
    i = semi;
    if (name == "lt") {
      out += '<';
    } else if (name == "gt") {
      out += '>';
    } else if (name == "amp") {
      out += '&';
    } else if (name == "quot") {
      out += '"';
    } else if (name == "apos") {
      out += '\'';
    } else if (name.size() > 1 && name[0] == '#') {
      bool hex = name[1] == 'x';
      std::string_view digits = name.substr(hex ? 2 : 1);
      uint32_t code = 0;
      auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
          code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return make_error(Errc::parse, "XML: bad character reference &" + std::string(name) + ";");
      }
      append_utf8(out, code);
    } else {
      return make_error(Errc::parse, "XML: unknown entity &" + std::string(name) + ";");
    }
  }
  return ok();
}

std::string_view local_name(std::string_view qualified) {
  auto colon = qualified.find(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

// The end of a start or end tag: the '>' that is not inside a quoted attribute value.
size_t tag_end(std::string_view text, size_t from) {
  char quote = 0;
  for (size_t i = from; i < text.size(); ++i) {
    if (quote) {
      if (text[i] == quote) quote = 0;
    } else if (text[i] == '"' || text[i] == '\'') {
      quote = text[i];
    } else if (text[i] == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

struct Open {
  std::string qualified;
  XmlElement element;
};

}  // namespace

const XmlElement* XmlElement::child(std::string_view wanted) const {
  for (const auto& element : children) {
    if (element.name == wanted) return &element;
  }
  return nullptr;
}

const XmlElement* XmlElement::find(std::string_view path) const {
  const XmlElement* at = this;
  while (at && !path.empty()) {
    size_t slash = path.find('/');
    at = at->child(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return at;
}

std::string XmlElement::text_at(std::string_view path) const {
  const XmlElement* element = find(path);
  return element ? element->text : std::string();
}

Result<XmlElement> parse_xml(std::string_view text, const XmlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return make_error(Errc::invalid_argument, "XML document of " + std::to_string(text.size()) +
                                                  " bytes exceeds " +
                                                  std::to_string(limits.max_bytes));
  }
  std::vector<Open> stack;
  std::optional<XmlElement> root;
  size_t elements = 0;
  // Closes the innermost element: its text is trimmed, and it joins its parent or is the root.
  auto close = [&]() {
    XmlElement done = std::move(stack.back().element);
    stack.pop_back();
    done.text = trim(done.text);
    if (stack.empty()) {
      root = std::move(done);
    } else {
      stack.back().element.children.push_back(std::move(done));
    }
  };
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '<') {
      size_t next = text.find('<', pos);
      if (next == std::string_view::npos) next = text.size();
      std::string_view data = text.substr(pos, next - pos);
      pos = next;
      if (stack.empty()) {
        if (!trim(data).empty()) return make_error(Errc::parse, "XML: text outside the root");
        continue;
      }
      ZT_TRY(decode_entities(data, stack.back().element.text));
      continue;
    }
    std::string_view rest = text.substr(pos);
    auto skip_to = [&](std::string_view terminator, const char* what) -> Status {
      size_t end = text.find(terminator, pos);
      if (end == std::string_view::npos) {
        return make_error(Errc::parse, std::string("XML: unterminated ") + what);
      }
      pos = end + terminator.size();
      return ok();
    };
    if (rest.starts_with("<?")) {
      ZT_TRY(skip_to("?>", "processing instruction"));
    } else if (rest.starts_with("<!--")) {
      ZT_TRY(skip_to("-->", "comment"));
    } else if (rest.starts_with("<![CDATA[")) {
      size_t start = pos + 9;
      ZT_TRY(skip_to("]]>", "CDATA section"));
      if (stack.empty()) return make_error(Errc::parse, "XML: CDATA outside the root");
      stack.back().element.text += text.substr(start, pos - 3 - start);
    } else if (rest.starts_with("<!")) {
      return make_error(Errc::invalid_argument, "XML: DOCTYPE and declarations are not accepted");
    } else if (rest.starts_with("</")) {
      size_t end = text.find('>', pos);
      if (end == std::string_view::npos) return make_error(Errc::parse, "XML: unterminated tag");
      std::string name = trim(text.substr(pos + 2, end - pos - 2));
      if (stack.empty() || stack.back().qualified != name) {
        return make_error(Errc::parse, "XML: end tag </" + name + "> does not match");
      }
      pos = end + 1;
      close();
    } else {
      size_t end = tag_end(text, pos + 1);
      if (end == std::string_view::npos) return make_error(Errc::parse, "XML: unterminated tag");
      std::string_view tag = text.substr(pos + 1, end - pos - 1);
      pos = end + 1;
      bool self_closing = !tag.empty() && tag.back() == '/';
      if (self_closing) tag.remove_suffix(1);
      size_t name_end = 0;
      while (name_end < tag.size() && !is_space(tag[name_end])) ++name_end;
      std::string_view name = tag.substr(0, name_end);
      if (name.empty()) return make_error(Errc::parse, "XML: tag without a name");
      if (root) return make_error(Errc::parse, "XML: more than one root element");
      if (static_cast<int>(stack.size()) >= limits.max_depth) {
        return make_error(Errc::invalid_argument,
                          "XML nests deeper than " + std::to_string(limits.max_depth));
      }
      if (++elements > limits.max_elements) {
        return make_error(Errc::invalid_argument,
                          "XML has more than " + std::to_string(limits.max_elements) + " elements");
      }
      stack.push_back({std::string(name), XmlElement{std::string(local_name(name)), {}, {}}});
      if (self_closing) close();
    }
  }
  if (!stack.empty())
    return make_error(Errc::parse, "XML: <" + stack.back().qualified + "> is not closed");
  if (!root) return make_error(Errc::parse, "XML: no root element");
  return std::move(*root);
}

}  // namespace zt::aws
