// A small, bounded XML reader for the answers of AWS query-protocol services (IAM): elements,
// their text, nothing else. Attributes, namespaces, the declaration, comments and processing
// instructions are read over and dropped; DOCTYPE is refused (no entity definitions, so no
// entity expansion); CDATA sections are text. The answer comes from the network, so every limit
// is checked while reading: size, depth and element count.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace zt::aws {

struct XmlElement {
  std::string name;  // local name, without a namespace prefix
  std::string text;  // the element's own character data (entities decoded), trimmed
  std::vector<XmlElement> children;

  // The first child named `name`, or nullptr.
  const XmlElement* child(std::string_view name) const;
  // The first element along a path of child names ("Role/Arn"), or nullptr.
  const XmlElement* find(std::string_view path) const;
  // The text at `path`, or "" when it is not there.
  std::string text_at(std::string_view path) const;
};

struct XmlLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 32;
  size_t max_elements = 20000;
};

// The document's root element. Errors: Errc::parse (not well-formed as far as this reader checks:
// unbalanced or mismatched tags, a bad entity, text outside the root) and Errc::invalid_argument
// (a limit exceeded, a DOCTYPE).
Result<XmlElement> parse_xml(std::string_view text, const XmlLimits& limits = {});

}  // namespace zt::aws
