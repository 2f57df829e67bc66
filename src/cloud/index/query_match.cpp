// The evaluator of fleet indexing's query language (query.hpp): resolves each term's field in the
// indexed document and compares the values found there.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "cloud/index/document.hpp"
#include "cloud/index/query.hpp"
#include "common/glob.hpp"

namespace zt::cloud::index {
namespace {

using nlohmann::json;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> as_number(const json& leaf) {
  if (leaf.is_number()) return leaf.get<double>();
  if (leaf.is_string()) return parse_number(leaf.get_ref<const std::string&>());
  return std::nullopt;
}

// A scalar leaf as the text a term compares with.
std::optional<std::string> as_text(const json& leaf) {
  if (leaf.is_string()) return leaf.get<std::string>();
  if (leaf.is_boolean()) return leaf.get<bool>() ? "true" : "false";
  if (leaf.is_number()) return leaf.dump();
  return std::nullopt;
}

// Follows a dotted path ("reported.temp") in a JSON value; nullptr when missing.
const json* walk(const json* at, std::string_view path) {
  while (at != nullptr && !path.empty()) {
    std::size_t dot = path.find('.');
    std::string key(path.substr(0, dot));
    if (!at->is_object()) return nullptr;
    auto found = at->find(key);
    at = found == at->end() ? nullptr : &*found;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return at;
}

// The values a field names in the document: none (missing), one, or the elements of an array.
class Document {
 public:
  explicit Document(const json& thing) : thing_(thing) {}

  const json* resolve(std::string_view field) {
    if (!thing_.is_object()) return nullptr;
    if (field.starts_with("attributes.")) {
      // Attribute names may hold dots: the rest of the field is the name.
      return lookup(walk(&thing_, "attributes"), field.substr(11));
    }
    if (field.starts_with("shadow.")) return walk(shadow(), field.substr(7));
    if (field == "registry.version") return lookup(&thing_, "registryVersion");
    return walk(&thing_, field);
  }

  // Every scalar a field-less term may match: the registry's names and values and the shadow's.
  void collect_all(std::vector<const json*>& out) {
    for (const char* key : {"thingName", "thingId", "thingTypeName", "thingGroupNames"}) {
      if (const json* value = lookup(&thing_, key)) collect_leaves(*value, out, 0);
    }
    if (const json* attributes = lookup(&thing_, "attributes")) collect_leaves(*attributes, out, 0);
    if (const json* state = shadow()) {
      for (const char* key : {"reported", "desired"}) {
        if (const json* section = lookup(state, key)) collect_leaves(*section, out, 0);
      }
    }
  }

 private:
  static const json* lookup(const json* object, std::string_view key) {
    if (object == nullptr || !object->is_object()) return nullptr;
    auto found = object->find(std::string(key));
    return found == object->end() ? nullptr : &*found;
  }

  static void collect_leaves(const json& value, std::vector<const json*>& out, int depth) {
    if (depth > 64) return;  // shadows are bounded (8 levels) long before this
    if (value.is_object() || value.is_array()) {
      for (const json& child : value) collect_leaves(child, out, depth + 1);
    } else if (!value.is_null()) {
      out.push_back(&value);
    }
  }

  // The shadow is JSON text in the document (as SearchIndex returns it), parsed once.
  const json* shadow() {
    if (!shadow_parsed_) {
      shadow_parsed_ = true;
      const json* text = lookup(&thing_, "shadow");
      if (text != nullptr && text->is_string()) {
        shadow_ = json::parse(text->get_ref<const std::string&>(), nullptr, false);
      } else if (text != nullptr && text->is_object()) {
        shadow_ = *text;
      }
    }
    return shadow_.is_object() ? &shadow_ : nullptr;
  }

  const json& thing_;
  json shadow_;
  bool shadow_parsed_ = false;
};

// -1, 0, 1: numerically when both sides are numbers, else as case-folded text.
std::optional<int> compare(const json& leaf, std::string_view bound) {
  auto left = as_number(leaf);
  auto right = parse_number(bound);
  if (left && right) return *left < *right ? -1 : (*left > *right ? 1 : 0);
  auto text = as_text(leaf);
  if (!text) return std::nullopt;
  int order = lower(*text).compare(lower(bound));
  return order < 0 ? -1 : (order > 0 ? 1 : 0);
}

bool scalar_matches(const Term& term, const json& leaf) {
  switch (term.kind) {
    case Term::Kind::exists:
      return !leaf.is_null();
    case Term::Kind::equals: {
      auto text = as_text(leaf);
      if (!text) return false;
      if (term.wildcard) return glob_match(lower(term.value), lower(*text), GlobEscapes::backslash);
      auto left = as_number(leaf);
      auto right = leaf.is_number() ? parse_number(term.value) : std::nullopt;
      if (left && right) return *left == *right;
      return lower(*text) == lower(term.value);
    }
    case Term::Kind::range: {
      if (!term.lower_open) {
        auto order = compare(leaf, term.lower);
        if (!order || *order < 0 || (*order == 0 && !term.lower_inclusive)) return false;
      }
      if (!term.upper_open) {
        auto order = compare(leaf, term.upper);
        if (!order || *order > 0 || (*order == 0 && !term.upper_inclusive)) return false;
      }
      return as_text(leaf).has_value();
    }
    case Term::Kind::compare: {
      auto order = compare(leaf, term.value);
      if (!order) return false;
      switch (term.comparison) {
        case Term::Comparison::less:
          return *order < 0;
        case Term::Comparison::less_equal:
          return *order <= 0;
        case Term::Comparison::greater:
          return *order > 0;
        case Term::Comparison::greater_equal:
          return *order >= 0;
      }
      return false;
    }
  }
  return false;
}

bool term_matches(const Term& term, Document& document) {
  if (term.field.empty()) {
    std::vector<const json*> leaves;
    document.collect_all(leaves);
    return std::any_of(leaves.begin(), leaves.end(),
                       [&](const json* leaf) { return scalar_matches(term, *leaf); });
  }
  const json* value = document.resolve(term.field);
  if (value == nullptr || value->is_null()) return false;
  if (term.kind == Term::Kind::exists) return true;
  if (value->is_array()) {
    return std::any_of(value->begin(), value->end(),
                       [&](const json& element) { return scalar_matches(term, element); });
  }
  return scalar_matches(term, *value);
}

// Depth is bounded by the parser (kMaxDepth), so the recursion is too.
bool node_matches(const Query& query, std::size_t index, Document& document) {
  const Node& node = query.nodes[index];
  switch (node.kind) {
    case Node::Kind::term:
      return term_matches(node.term, document);
    case Node::Kind::all_of:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](std::size_t child) { return node_matches(query, child, document); });
    case Node::Kind::any_of:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](std::size_t child) { return node_matches(query, child, document); });
    case Node::Kind::negation:
      return !node_matches(query, node.children.front(), document);
  }
  return false;
}

}  // namespace

bool matches(const Query& query, const nlohmann::json& thing) {
  if (query.nodes.empty() || query.root >= query.nodes.size()) return false;
  Document document(thing);
  return node_matches(query, query.root, document);
}

std::vector<nlohmann::json> field_values(const nlohmann::json& thing, std::string_view field) {
  std::vector<json> values;
  Document document(thing);
  const json* value = document.resolve(field);
  if (value == nullptr || value->is_null() || value->is_object()) return values;
  if (!value->is_array()) {
    values.push_back(*value);
    return values;
  }
  for (const json& element : *value) {
    if (!element.is_null() && !element.is_object() && !element.is_array())
      values.push_back(element);
  }
  return values;
}

}  // namespace zt::cloud::index
