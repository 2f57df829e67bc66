// The parser of fleet indexing's query language (query.hpp). Recursive descent over the bytes, with
// the depth bounded before every descent (parentheses, NOT) and the terms counted as they come.
#include <algorithm>
#include <array>
#include <cctype>

#include "cloud/index/query.hpp"

namespace zt::cloud::index {
namespace {

// AWS's unsupported special characters ("Query syntax": `, @, #, %, \, /, ', ; and , — the
// backslash is the escape character, so we allow it as one).
constexpr std::string_view kUnsupported = "`@#%/';,";
// Characters that end a word unless escaped.
constexpr std::string_view kDelimiters = "():\"<>=[]{}";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Error syntax_error(std::string_view detail) {
  return make_error(Errc::invalid_argument, "Syntax error in query string: " + std::string(detail));
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Query> parse() {
    Query query;
    query.text = std::string(text_);
    query_ = &query;
    auto root = parse_or(/*field=*/"", 0);
    if (!root) return std::move(root).error();
    skip_spaces();
    if (position_ < text_.size()) {
      return syntax_error("unexpected '" + std::string(1, text_[position_]) + "' at position " +
                          std::to_string(position_));
    }
    query.root = *root;
    return query;
  }

 private:
  void skip_spaces() {
    while (position_ < text_.size() && is_space(text_[position_])) ++position_;
  }
  bool at_end() const { return position_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[position_]; }

  // A keyword (AND, OR, NOT) stands alone: followed by a space, a parenthesis or the end.
  bool at_keyword(std::string_view keyword) const {
    if (text_.substr(position_, keyword.size()) != keyword) return false;
    std::size_t after = position_ + keyword.size();
    return after >= text_.size() || is_space(text_[after]) || text_[after] == '(' ||
           text_[after] == ')' || (keyword == "NOT" && text_[after] == '-');
  }

  std::size_t add(Node node) {
    query_->nodes.push_back(std::move(node));
    return query_->nodes.size() - 1;
  }

  std::size_t combine(Node::Kind kind, std::vector<std::size_t> children) {
    if (children.size() == 1) return children.front();
    return add(Node{.kind = kind, .term = {}, .children = std::move(children)});
  }

  Result<std::size_t> parse_or(const std::string& field, std::size_t depth) {
    std::vector<std::size_t> children;
    for (;;) {
      auto child = parse_and(field, depth);
      if (!child) return child;
      children.push_back(*child);
      skip_spaces();
      if (!at_keyword("OR")) break;
      position_ += 2;
    }
    return combine(Node::Kind::any_of, std::move(children));
  }

  // Terms side by side are ANDed ("The default operator is AND").
  Result<std::size_t> parse_and(const std::string& field, std::size_t depth) {
    std::vector<std::size_t> children;
    for (;;) {
      auto child = parse_unary(field, depth);
      if (!child) return child;
      children.push_back(*child);
      skip_spaces();
      if (at_keyword("AND")) {
        position_ += 3;
        continue;
      }
      if (at_end() || peek() == ')' || at_keyword("OR")) break;
    }
    return combine(Node::Kind::all_of, std::move(children));
  }

  Result<std::size_t> parse_unary(const std::string& field, std::size_t depth) {
    skip_spaces();
    bool negate = false;
    if (at_keyword("NOT")) {
      position_ += 3;
      negate = true;
    } else if (peek() == '-' && position_ + 1 < text_.size() && !is_space(text_[position_ + 1])) {
      ++position_;  // "-plasma": exclude
      negate = true;
    }
    if (negate) {
      if (depth + 1 > kMaxDepth) return syntax_error("nested too deeply");
      auto operand = parse_unary(field, depth + 1);
      if (!operand) return operand;
      return add(Node{.kind = Node::Kind::negation, .term = {}, .children = {*operand}});
    }
    return parse_primary(field, depth);
  }

  Result<std::size_t> parse_group(const std::string& field, std::size_t depth) {
    if (depth + 1 > kMaxDepth) return syntax_error("nested too deeply");
    ++position_;  // (
    auto inner = parse_or(field, depth + 1);
    if (!inner) return inner;
    skip_spaces();
    if (peek() != ')') return syntax_error("missing ')'");
    ++position_;
    return inner;
  }

  Result<std::size_t> parse_primary(const std::string& field, std::size_t depth) {
    skip_spaces();
    if (at_end()) return syntax_error("a term is missing at the end");
    char c = peek();
    if (c == '(') return parse_group(field, depth);
    if (c == ')') return syntax_error("unexpected ')' at position " + std::to_string(position_));
    if (at_keyword("AND") || at_keyword("OR")) {
      return syntax_error("an operator without a term at position " + std::to_string(position_));
    }
    if (c == '"') return parse_value(field);
    if (c == '[' || c == '{') {
      if (field.empty()) return syntax_error("a range needs a field");
      return parse_range(field);
    }
    // A word: a field name when ':' or a comparison follows it, else a value.
    std::size_t start = position_;
    auto word = read_word();
    if (!word) return std::move(word).error();
    char next = peek();
    if (field.empty() && (next == ':' || next == '<' || next == '>')) {
      if (word->wildcard || word->escaped || word->text.empty()) {
        return syntax_error("invalid field name '" + word->text + "'");
      }
      if (next == ':') {
        ++position_;
        char after = peek();
        if (after == '(') return parse_group(word->text, depth);
        if (after == '[' || after == '{') return parse_range(word->text);
        if (at_end() || is_space(after) || after == ')') {
          return syntax_error("field '" + word->text + "' has no value");
        }
        return parse_value(word->text);
      }
      return parse_comparison(word->text);
    }
    if (next == ':' || next == '<' || next == '>') {
      return syntax_error("a field inside the group of field '" + field + "'");
    }
    position_ = start;
    return parse_value(field);
  }

  struct Word {
    std::string text;  // wildcard: the pattern with \-escapes kept; else unescaped
    bool wildcard = false;
    bool leading_wildcard = false;
    bool escaped = false;
  };

  // A run of characters up to a space or a delimiter; `\x` takes x literally.
  Result<Word> read_word() {
    Word word;
    std::string plain;
    std::string pattern;
    while (!at_end()) {
      char c = peek();
      if (is_space(c) || kDelimiters.find(c) != std::string_view::npos) break;
      if (c == '\\') {
        if (position_ + 1 >= text_.size()) return syntax_error("a '\\' ends the query");
        char escaped = text_[position_ + 1];
        plain += escaped;
        if (escaped == '*' || escaped == '?' || escaped == '\\') pattern += '\\';
        pattern += escaped;
        word.escaped = true;
        position_ += 2;
        continue;
      }
      if (kUnsupported.find(c) != std::string_view::npos) {
        return syntax_error("the character '" + std::string(1, c) + "' is not supported");
      }
      if (c == '*' || c == '?') {
        if (plain.empty()) word.leading_wildcard = true;
        word.wildcard = true;
      }
      plain += c;
      pattern += c;
      ++position_;
    }
    word.text = word.wildcard ? pattern : plain;
    return word;
  }

  Status count_term(bool leading_wildcard) {
    if (++terms_ > kMaxTerms) {
      return syntax_error("more than " + std::to_string(kMaxTerms) + " terms");
    }
    if (leading_wildcard) {
      // "Leading wildcard use is limited to 1 query term per query ... max query length of 100".
      if (++leading_wildcards_ > 1)
        return syntax_error("more than one term with a leading wildcard");
      if (text_.size() > kMaxLeadingWildcardQueryLength) {
        return syntax_error("a query with a leading wildcard is longer than " +
                            std::to_string(kMaxLeadingWildcardQueryLength) + " characters");
      }
    }
    return ok();
  }

  // A value for `field`: a "quoted phrase" or a word (`*` alone: the field exists).
  Result<std::size_t> parse_value(const std::string& field) {
    Term term;
    term.field = field;
    if (peek() == '"') {
      auto phrase = read_phrase();
      if (!phrase) return std::move(phrase).error();
      term.value = std::move(*phrase);
    } else {
      auto word = read_word();
      if (!word) return std::move(word).error();
      if (word->text.empty()) {
        return syntax_error("unexpected '" + std::string(1, peek()) + "' at position " +
                            std::to_string(position_));
      }
      if (word->text == "*" && !field.empty()) {
        term.kind = Term::Kind::exists;
      } else {
        bool leading = word->leading_wildcard && word->text != "*";
        if (auto counted = count_term(leading); !counted) return std::move(counted).error();
        term.value = std::move(word->text);
        term.wildcard = word->wildcard;
        return add(Node{.kind = Node::Kind::term, .term = std::move(term), .children = {}});
      }
    }
    if (auto counted = count_term(false); !counted) return std::move(counted).error();
    return add(Node{.kind = Node::Kind::term, .term = std::move(term), .children = {}});
  }

  Result<std::string> read_phrase() {
    ++position_;  // "
    std::string phrase;
    while (!at_end() && peek() != '"') {
      if (peek() == '\\' && position_ + 1 < text_.size()) ++position_;
      phrase += text_[position_++];
    }
    if (at_end()) return syntax_error("a quoted phrase is not closed");
    ++position_;
    return phrase;
  }

  // A range bound: a word, a phrase or `*`.
  Result<std::pair<std::string, bool>> read_bound() {
    skip_spaces();
    if (peek() == '"') {
      auto phrase = read_phrase();
      if (!phrase) return std::move(phrase).error();
      return std::pair{std::move(*phrase), false};
    }
    auto word = read_word();
    if (!word) return std::move(word).error();
    if (word->text.empty()) return syntax_error("a range bound is missing");
    if (word->text == "*") return std::pair{std::string(), true};
    if (word->wildcard) return syntax_error("a wildcard in a range bound");
    return std::pair{std::move(word->text), false};
  }

  // [lower TO upper] (inclusive) or {lower TO upper} (exclusive); the brackets may mix.
  Result<std::size_t> parse_range(const std::string& field) {
    Term term;
    term.kind = Term::Kind::range;
    term.field = field;
    term.lower_inclusive = peek() == '[';
    ++position_;
    auto lower = read_bound();
    if (!lower) return std::move(lower).error();
    skip_spaces();
    if (!at_keyword("TO")) return syntax_error("a range needs 'TO'");
    position_ += 2;
    auto upper = read_bound();
    if (!upper) return std::move(upper).error();
    skip_spaces();
    if (peek() != ']' && peek() != '}') return syntax_error("a range is not closed");
    term.upper_inclusive = peek() == ']';
    ++position_;
    std::tie(term.lower, term.lower_open) = std::move(*lower);
    std::tie(term.upper, term.upper_open) = std::move(*upper);
    if (auto counted = count_term(false); !counted) return std::move(counted).error();
    return add(Node{.kind = Node::Kind::term, .term = std::move(term), .children = {}});
  }

  // field>value, field>=value, field<value, field<=value (a space may follow the operator).
  Result<std::size_t> parse_comparison(const std::string& field) {
    Term term;
    term.kind = Term::Kind::compare;
    term.field = field;
    bool greater = peek() == '>';
    ++position_;
    bool equal = peek() == '=';
    if (equal) ++position_;
    term.comparison = greater
                          ? (equal ? Term::Comparison::greater_equal : Term::Comparison::greater)
                          : (equal ? Term::Comparison::less_equal : Term::Comparison::less);
    skip_spaces();
    if (peek() == '"') {
      auto phrase = read_phrase();
      if (!phrase) return std::move(phrase).error();
      term.value = std::move(*phrase);
    } else {
      auto word = read_word();
      if (!word) return std::move(word).error();
      if (word->text.empty() || word->wildcard) {
        return syntax_error("field '" + field + "' has no value to compare with");
      }
      term.value = std::move(word->text);
    }
    if (auto counted = count_term(false); !counted) return std::move(counted).error();
    return add(Node{.kind = Node::Kind::term, .term = std::move(term), .children = {}});
  }

  std::string_view text_;
  std::size_t position_ = 0;
  std::size_t terms_ = 0;
  std::size_t leading_wildcards_ = 0;
  Query* query_ = nullptr;
};

}  // namespace

Result<Query> parse_query(std::string_view text) {
  if (text.size() > kMaxQueryLength) {
    return syntax_error("the query is longer than " + std::to_string(kMaxQueryLength) +
                        " characters");
  }
  if (std::all_of(text.begin(), text.end(), is_space)) return syntax_error("the query is empty");
  return Parser(text).parse();
}

std::vector<std::string> Query::fields() const {
  std::vector<std::string> names;
  for (const Node& node : nodes) {
    if (node.kind != Node::Kind::term) continue;
    if (std::find(names.begin(), names.end(), node.term.field) == names.end()) {
      names.push_back(node.term.field);
    }
  }
  return names;
}

}  // namespace zt::cloud::index
