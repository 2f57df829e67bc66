#include "cloud/rules/sql.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "cloud/rules/mqtt_functions.hpp"
#include "common/hex.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"

namespace zt::cloud::rules {

// nullopt is the rules language's Undefined (a missing key), distinct from JSON null.
using Value = std::optional<json>;

struct PathStep {
  std::string key;              // object member, when !index
  std::optional<size_t> index;  // array element
};

struct Expression {
  enum class Kind { literal, path, call, logical_not, negate, binary };
  Kind kind = Kind::literal;
  json literal;
  std::vector<PathStep> path;
  std::string name;  // function name or binary operator
  std::vector<std::unique_ptr<Expression>> args;
};

struct Query::Item {
  bool wildcard = false;
  std::unique_ptr<Expression> expression;
  std::vector<std::string> output_path;  // where the value lands in the output object
};

namespace {

// ---------- tokenizer ----------

struct Token {
  enum class Type { identifier, number, string, symbol, end };
  Type type = Type::end;
  std::string text;
  size_t position = 0;
};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<std::vector<Token>> tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto error = [&](const std::string& what) {
    return make_error(Errc::invalid_argument, "SQL: " + what + " at position " + std::to_string(i));
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token token;
    token.position = i;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$') {
      size_t start = i;
      while (i < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' || sql[i] == '$'))
        ++i;
      token.type = Token::Type::identifier;
      token.text = std::string(sql.substr(start, i - start));
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < sql.size() && (std::isdigit(static_cast<unsigned char>(sql[i])) || sql[i] == '.'))
        ++i;
      token.type = Token::Type::number;
      token.text = std::string(sql.substr(start, i - start));
    } else if (c == '\'' || c == '"' || c == '`') {
      // 'text' is a string; "name" and `name` quote identifiers.
      char quote = c;
      std::string text;
      ++i;
      for (;;) {
        if (i >= sql.size()) return error("unterminated quoted text");
        if (sql[i] == quote) {
          if (i + 1 < sql.size() && sql[i + 1] == quote) {
            text.push_back(quote);
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text.push_back(sql[i++]);
      }
      token.type = quote == '\'' ? Token::Type::string : Token::Type::identifier;
      token.text = std::move(text);
    } else {
      static constexpr std::string_view kTwo[] = {"<>", "!=", "<=", ">="};
      std::string_view two = sql.substr(i, 2);
      token.type = Token::Type::symbol;
      if (std::find(std::begin(kTwo), std::end(kTwo), two) != std::end(kTwo)) {
        token.text = std::string(two);
        i += 2;
      } else if (std::string_view(",.()[]*+-/%=<>").find(c) != std::string_view::npos) {
        token.text = std::string(1, c);
        ++i;
      } else {
        return error(std::string("unexpected character '") + c + "'");
      }
    }
    tokens.push_back(std::move(token));
  }
  tokens.push_back(Token{Token::Type::end, "", sql.size()});
  return tokens;
}

// ---------- parser (recursive descent) ----------

constexpr size_t kMaxNesting = 64;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  const Token& peek() const { return tokens_[position_]; }
  bool at_keyword(std::string_view keyword) const {
    return peek().type == Token::Type::identifier && upper(peek().text) == keyword;
  }
  bool at_symbol(std::string_view symbol) const {
    return peek().type == Token::Type::symbol && peek().text == symbol;
  }
  Token take() { return tokens_[position_ < tokens_.size() - 1 ? position_++ : position_]; }

  Error error(const std::string& expected) const {
    const Token& token = peek();
    std::string found = token.type == Token::Type::end ? "end of query" : "'" + token.text + "'";
    return make_error(Errc::invalid_argument, "SQL: expected " + expected + " at position " +
                                                  std::to_string(token.position) + ", found " +
                                                  found);
  }
  Status expect_keyword(std::string_view keyword) {
    if (!at_keyword(keyword)) return error(std::string(keyword));
    take();
    return ok();
  }
  Status expect_symbol(std::string_view symbol) {
    if (!at_symbol(symbol)) return error("'" + std::string(symbol) + "'");
    take();
    return ok();
  }

  Result<std::unique_ptr<Expression>> expression() { return binary_level(0); }

 private:
  // Precedence levels, loosest first.
  Result<std::unique_ptr<Expression>> binary_level(size_t level) {
    static const std::vector<std::vector<std::string_view>> kLevels = {
        {"OR"}, {"AND"}, {"=", "<>", "!=", "<", "<=", ">", ">="}, {"+", "-"}, {"*", "/", "%"}};
    if (level == kLevels.size()) return unary();
    if (++depth_ > kMaxNesting)
      return make_error(Errc::invalid_argument, "SQL: expression nests too deeply");
    ZT_TRY_ASSIGN(auto left, binary_level(level + 1));
    for (;;) {
      std::string op;
      for (auto candidate : kLevels[level]) {
        bool is_word = std::isalpha(static_cast<unsigned char>(candidate[0]));
        if (is_word ? at_keyword(candidate) : at_symbol(candidate)) op = std::string(candidate);
      }
      if (op.empty()) break;
      take();
      ZT_TRY_ASSIGN(auto right, binary_level(level + 1));
      auto node = std::make_unique<Expression>();
      node->kind = Expression::Kind::binary;
      node->name = op == "!=" ? "<>" : op;
      node->args.push_back(std::move(left));
      node->args.push_back(std::move(right));
      left = std::move(node);
    }
    --depth_;
    return left;
  }

  Result<std::unique_ptr<Expression>> unary() {
    if (++depth_ > kMaxNesting)
      return make_error(Errc::invalid_argument, "SQL: expression nests too deeply");
    std::unique_ptr<Expression> out;
    if (at_keyword("NOT") || at_symbol("-")) {
      bool is_not = at_keyword("NOT");
      take();
      // NOT binds looser than comparisons: NOT a = b is NOT (a = b).
      ZT_TRY_ASSIGN(auto operand, is_not ? binary_level(2) : unary());
      out = std::make_unique<Expression>();
      out->kind = is_not ? Expression::Kind::logical_not : Expression::Kind::negate;
      out->args.push_back(std::move(operand));
    } else {
      ZT_TRY_ASSIGN(out, primary());
    }
    --depth_;
    return out;
  }

  Result<std::unique_ptr<Expression>> primary() {
    auto node = std::make_unique<Expression>();
    const Token& token = peek();
    if (token.type == Token::Type::number) {
      std::string text = take().text;
      json number = json::parse(text, nullptr, false);
      if (number.is_discarded())
        return make_error(Errc::invalid_argument, "SQL: bad number '" + text + "'");
      node->literal = number;
      return node;
    }
    if (token.type == Token::Type::string) {
      node->literal = take().text;
      return node;
    }
    if (at_symbol("(")) {
      take();
      ZT_TRY_ASSIGN(node, expression());
      ZT_TRY(expect_symbol(")"));
      return node;
    }
    if (token.type != Token::Type::identifier) return error("a value, field or function");
    static constexpr std::string_view kReserved[] = {"SELECT", "FROM", "WHERE", "AS",
                                                     "AND",    "OR",   "NOT"};
    if (std::find(std::begin(kReserved), std::end(kReserved), upper(token.text)) !=
        std::end(kReserved)) {
      return error("a value, field or function");
    }
    std::string name = take().text;
    std::string keyword = upper(name);
    if (keyword == "TRUE" || keyword == "FALSE") {
      node->literal = keyword == "TRUE";
      return node;
    }
    if (keyword == "NULL") {
      node->literal = nullptr;
      return node;
    }
    if (at_symbol("(")) {
      take();
      node->kind = Expression::Kind::call;
      node->name = [&] {
        std::string lower(name);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return lower;
      }();
      if (!at_symbol(")")) {
        for (;;) {
          ZT_TRY_ASSIGN(auto argument, expression());
          node->args.push_back(std::move(argument));
          if (!at_symbol(",")) break;
          take();
        }
      }
      ZT_TRY(expect_symbol(")"));
      return node;
    }
    node->kind = Expression::Kind::path;
    node->path.push_back(PathStep{name, std::nullopt});
    for (;;) {
      if (at_symbol(".")) {
        take();
        if (peek().type != Token::Type::identifier) return error("a field name after '.'");
        node->path.push_back(PathStep{take().text, std::nullopt});
      } else if (at_symbol("[")) {
        take();
        if (peek().type != Token::Type::number) return error("an array index");
        std::string digits = take().text;
        if (digits.find('.') != std::string::npos || digits.size() > 9)
          return error("a whole array index");
        node->path.push_back(PathStep{"", static_cast<size_t>(std::stoul(digits))});
        ZT_TRY(expect_symbol("]"));
      } else {
        break;
      }
    }
    return node;
  }

  std::vector<Token> tokens_;
  size_t position_ = 0;
  size_t depth_ = 0;
};

// ---------- evaluation ----------

std::optional<double> as_number(const Value& value) {
  if (!value) return std::nullopt;
  if (value->is_number()) return value->get<double>();
  if (value->is_string()) {
    // 2016-03-23: strings convert to numbers where a number is expected.
    const std::string& text = value->get_ref<const std::string&>();
    char* end = nullptr;
    double number = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(number)) return number;
  }
  return std::nullopt;
}

json number_value(double number) {
  // 2016-03-23: whole-number decimals become Int.
  if (std::floor(number) == number && std::fabs(number) < 9.0e15)
    return static_cast<int64_t>(number);
  return number;
}

std::optional<bool> as_bool(const Value& value) {
  if (value && value->is_boolean()) return value->get<bool>();
  return std::nullopt;
}

std::string to_text(const json& value) {
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, json::error_handler_t::replace);
}

struct Evaluator {
  const MessageContext& message;
  const Value& document;

  Value operator()(const Expression& node) const {
    switch (node.kind) {
      case Expression::Kind::literal:
        return node.literal;
      case Expression::Kind::path:
        return path(node.path);
      case Expression::Kind::call:
        return call(node);
      case Expression::Kind::logical_not: {
        auto operand = as_bool((*this)(*node.args[0]));
        return operand ? Value(!*operand) : std::nullopt;
      }
      case Expression::Kind::negate: {
        auto operand = as_number((*this)(*node.args[0]));
        return operand ? Value(number_value(-*operand)) : std::nullopt;
      }
      case Expression::Kind::binary:
        return binary(node);
    }
    return std::nullopt;
  }

  Value path(const std::vector<PathStep>& steps) const {
    if (!document) return std::nullopt;
    const json* current = &*document;
    for (const auto& step : steps) {
      if (step.index) {
        if (!current->is_array() || *step.index >= current->size()) return std::nullopt;
        current = &(*current)[*step.index];
      } else {
        if (!current->is_object()) return std::nullopt;
        auto it = current->find(step.key);
        if (it == current->end()) return std::nullopt;
        current = &*it;
      }
    }
    return *current;
  }

  Value binary(const Expression& node) const {
    Value left = (*this)(*node.args[0]);
    Value right = (*this)(*node.args[1]);
    const std::string& op = node.name;
    if (op == "AND" || op == "OR") {
      auto a = as_bool(left), b = as_bool(right);
      bool is_and = op == "AND";
      // A decisive operand wins even when the other is Undefined (false AND x, true OR x).
      if ((a && *a != is_and) || (b && *b != is_and)) return json(!is_and);
      if (a && b) return json(is_and);
      return std::nullopt;
    }
    if (!left || !right) return std::nullopt;
    if (op == "=" || op == "<>" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      int order = 0;
      bool comparable = true;
      auto a = as_number(left), b = as_number(right);
      if (left->is_string() && right->is_string()) {
        order = left->get_ref<const std::string&>().compare(right->get_ref<const std::string&>());
      } else if (a && b && (left->is_number() || right->is_number())) {
        order = *a < *b ? -1 : (*a > *b ? 1 : 0);
      } else {
        comparable = false;
        order = *left == *right ? 0 : 1;
      }
      if (op == "=") return json(order == 0);
      if (op == "<>") return json(order != 0);
      if (!comparable) return std::nullopt;
      if (op == "<") return json(order < 0);
      if (op == "<=") return json(order <= 0);
      if (op == ">") return json(order > 0);
      return json(order >= 0);
    }
    auto a = as_number(left), b = as_number(right);
    if (!a || !b) return std::nullopt;
    if (op == "+") return number_value(*a + *b);
    if (op == "-") return number_value(*a - *b);
    if (op == "*") return number_value(*a * *b);
    if (*b == 0) return std::nullopt;
    if (op == "/") return number_value(*a / *b);
    return number_value(std::fmod(*a, *b));
  }

  Value call(const Expression& node) const {
    const std::string& name = node.name;
    std::vector<Value> args;
    for (const auto& arg : node.args) args.push_back((*this)(*arg));
    auto string_arg = [&](size_t i) -> std::optional<std::string> {
      if (i < args.size() && args[i] && !args[i]->is_null()) return to_text(*args[i]);
      return std::nullopt;
    };
    if (name == "topic") {
      if (args.empty()) return json(message.topic);
      auto index = as_number(args[0]);
      if (!index || *index < 1) return std::nullopt;
      size_t wanted = static_cast<size_t>(*index), segment = 1, start = 0;
      for (;;) {
        size_t slash = message.topic.find('/', start);
        if (segment == wanted)
          return json(message.topic.substr(
              start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) return std::nullopt;
        start = slash + 1;
        ++segment;
      }
    }
    if (name == "clientid") return json(message.client_id);
    if (name == "principal") return json(message.principal);
    if (name == "timestamp") return json(message.timestamp_ms);
    if (name == "accountid") return json(message.account_id);
    if (name == "newuuid") return json(new_uuid());
    if (name == "isundefined") return json(args.empty() || !args[0]);
    if (name == "isnull")
      return args.empty() || !args[0] ? std::nullopt : Value(json(args[0]->is_null()));
    if (name == "upper" || name == "lower") {
      auto text = string_arg(0);
      if (!text) return std::nullopt;
      for (char& c : *text) {
        c = static_cast<char>(name == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                              : std::tolower(static_cast<unsigned char>(c)));
      }
      return json(*text);
    }
    if (is_mqtt_function(name)) return mqtt_function(name, args, message);
    if (name == "concat") {
      std::string out;
      for (size_t i = 0; i < args.size(); ++i) {
        auto text = string_arg(i);
        if (!text) return std::nullopt;
        out += *text;
      }
      return json(out);
    }
    if (name == "startswith" || name == "endswith") {
      auto text = string_arg(0), affix = string_arg(1);
      if (!text || !affix || affix->size() > text->size())
        return affix && text ? Value(json(false)) : std::nullopt;
      bool match = name == "startswith"
                       ? text->compare(0, affix->size(), *affix) == 0
                       : text->compare(text->size() - affix->size(), affix->size(), *affix) == 0;
      return json(match);
    }
    return std::nullopt;  // unknown functions are rejected at parse time
  }
};

Status check_functions(const Expression& node) {
  static constexpr std::string_view kKnown[] = {"topic",
                                                "clientid",
                                                "principal",
                                                "timestamp",
                                                "accountid",
                                                "newuuid",
                                                "isundefined",
                                                "isnull",
                                                "upper",
                                                "lower",
                                                "concat",
                                                "startswith",
                                                "endswith",
                                                "get_user_properties",
                                                "get_mqtt_property"};
  if (node.kind == Expression::Kind::call &&
      std::find(std::begin(kKnown), std::end(kKnown), node.name) == std::end(kKnown)) {
    return make_error(Errc::unsupported, "SQL: function '" + node.name + "()' is not supported");
  }
  for (const auto& arg : node.args) ZT_TRY(check_functions(*arg));
  return ok();
}

std::vector<std::string> split_alias(const std::string& alias) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = alias.find('.', start);
    out.push_back(alias.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

}  // namespace

Query::Query() = default;
Query::Query(Query&&) noexcept = default;
Query& Query::operator=(Query&&) noexcept = default;
Query::~Query() = default;

Result<Query> parse_query(std::string_view sql) {
  ZT_TRY_ASSIGN(auto tokens, tokenize(sql));
  Parser parser(std::move(tokens));
  Query query;
  ZT_TRY(parser.expect_keyword("SELECT"));
  for (;;) {
    Query::Item item;
    if (parser.at_symbol("*")) {
      parser.take();
      item.wildcard = true;
    } else {
      ZT_TRY_ASSIGN(item.expression, parser.expression());
      ZT_TRY(check_functions(*item.expression));
      if (parser.at_keyword("AS")) {
        parser.take();
        if (parser.peek().type != Token::Type::identifier) return parser.error("an alias after AS");
        std::string alias = parser.take().text;
        while (parser.at_symbol(".")) {
          parser.take();
          if (parser.peek().type != Token::Type::identifier)
            return parser.error("an alias part after '.'");
          alias += "." + parser.take().text;
        }
        item.output_path = split_alias(alias);
      } else if (item.expression->kind == Expression::Kind::path &&
                 !item.expression->path.back().index) {
        item.output_path = {item.expression->path.back().key};
      } else if (item.expression->kind == Expression::Kind::call) {
        item.output_path = {item.expression->name};
      } else {
        item.output_path = {"_" + std::to_string(query.items_.size() + 1)};
      }
    }
    query.items_.push_back(std::move(item));
    if (!parser.at_symbol(",")) break;
    parser.take();
  }
  ZT_TRY(parser.expect_keyword("FROM"));
  if (parser.peek().type != Token::Type::string)
    return parser.error("a quoted topic filter after FROM");
  query.topic_filter_ = parser.take().text;
  if (query.topic_filter_.empty())
    return make_error(Errc::invalid_argument, "SQL: the FROM topic filter is empty");
  if (parser.at_keyword("WHERE")) {
    parser.take();
    ZT_TRY_ASSIGN(query.where_, parser.expression());
    ZT_TRY(check_functions(*query.where_));
  }
  if (parser.peek().type != Token::Type::end) return parser.error("end of query");
  return query;
}

std::optional<json> Query::evaluate(const MessageContext& message) const {
  // A payload that is not JSON — or nests deeper than kMaxJsonDepth — has no fields (Undefined).
  Value document;
  if (auto parsed = parse_json(message.payload)) document = std::move(*parsed);
  Evaluator evaluator{message, document};
  if (where_) {
    auto condition = as_bool(evaluator(*where_));
    if (!condition || !*condition) return std::nullopt;
  }
  json out = json::object();
  for (const auto& item : items_) {
    if (item.wildcard) {
      if (document && document->is_object()) {
        for (const auto& [key, value] : document->items()) out[key] = value;
      } else if (items_.size() == 1) {
        return document ? *document
                        : json(message.payload);  // SELECT * of a non-object passes it through
      }
      continue;
    }
    Value value = evaluator(*item.expression);
    if (!value) continue;  // Undefined fields are left out
    json* target = &out;
    for (size_t i = 0; i + 1 < item.output_path.size(); ++i) {
      json& next = (*target)[item.output_path[i]];
      if (!next.is_object()) next = json::object();
      target = &next;
    }
    (*target)[item.output_path.back()] = std::move(*value);
  }
  return out;
}

Result<std::string> expand_template(std::string_view text, const MessageContext& message) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string_view::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      return make_error(Errc::invalid_argument,
                        "template '" + std::string(text) + "' has an unterminated ${");
    }
    std::string inner(text.substr(open + 2, close - open - 2));
    ZT_TRY_ASSIGN(auto query, parse_query("SELECT " + inner + " AS v FROM 't'"));
    auto result = query.evaluate(message);
    if (result && result->contains("v")) out += to_text((*result)["v"]);
    i = close + 1;
  }
  return out;
}

}  // namespace zt::cloud::rules
