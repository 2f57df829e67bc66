// Fleet indexing's query language (AWS IoT developer guide, "Query syntax"; SearchIndex API
// reference): `field:value` terms with wildcards (`*`, `?`), quoted phrases, ranges
// (`[a TO b]`, `{a TO b}`, `*` for an open end), comparisons (`field>5`, `<`, `>=`, `<=`),
// `AND`/`OR`/`NOT`/`-`, parentheses and field grouping (`thingName:(a OR b)`), an implicit AND
// between terms, and `field:*` for "the field exists". A pure layer: JSON in, no registry.
//
// The document `matches` reads is the thing as SearchIndex returns it (Registry::indexed_thing
// builds it):
//   {"thingName", "thingId", "thingTypeName", "thingGroupNames": [...], "attributes": {...},
//    "shadow": "<JSON text>", "connectivity": {"connected", "timestamp", "disconnectReason"}}
// plus, when known, "registryVersion" and "shadowVersion" (registry.version / shadow.version).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::index {

// Bounds. AWS: "The maximum number of terms in a query is 12"; a query with a leading wildcard is
// at most 100 characters and has one such term at most. The overall length and the nesting depth
// are ours (AWS documents none): hostile input stays bounded.
inline constexpr std::size_t kMaxQueryLength = 1024;
inline constexpr std::size_t kMaxLeadingWildcardQueryLength = 100;
inline constexpr std::size_t kMaxTerms = 12;
inline constexpr std::size_t kMaxDepth = 16;

// One `field:value`-like condition.
struct Term {
  enum class Kind {
    equals,   // field:value (a wildcard pattern when `wildcard`; a phrase when quoted)
    exists,   // field:*
    range,    // field:[lower TO upper] / {lower TO upper}
    compare,  // field>value, field<value, field>=value, field<=value
  };
  enum class Comparison { less, less_equal, greater, greater_equal };
  Kind kind = Kind::equals;
  std::string field;  // "thingName", "attributes.color", "shadow.reported.temp", "" = any field
  // equals/compare: the value. A wildcard pattern keeps `\` before a literal `*`, `?` or `\`
  // (common/glob's backslash form); any other value is unescaped.
  std::string value;
  bool wildcard = false;
  Comparison comparison = Comparison::greater;
  // range: an empty bound with its `open` flag set is `*`.
  std::string lower, upper;
  bool lower_open = false, upper_open = false;
  bool lower_inclusive = true, upper_inclusive = true;
};

// The parsed query: a tree kept in one vector (children by index), so that no destructor
// recurses and its size is bounded by the terms.
struct Node {
  enum class Kind { term, all_of, any_of, negation };
  Kind kind = Kind::term;
  Term term;                          // kind == term
  std::vector<std::size_t> children;  // all_of / any_of: two or more; negation: one
};

struct Query {
  std::vector<Node> nodes;
  std::size_t root = 0;
  std::string text;  // the query as given

  // The fields the query names (once each, in order of appearance): what a caller needs to
  // build (e.g. whether the shadow or connectivity must be read).
  std::vector<std::string> fields() const;
};

// Parses `text`; Errc::invalid_argument with AWS's InvalidQueryException message where known
// ("Syntax error in query string" and the like).
Result<Query> parse_query(std::string_view text);

// Whether the indexed document `thing` satisfies `query`. Case-insensitive, as AWS's search
// ("Search is case insensitive"); numbers compare as numbers when both sides are numeric.
bool matches(const Query& query, const nlohmann::json& thing);

}  // namespace zt::cloud::index
