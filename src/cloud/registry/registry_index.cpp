// Fleet indexing over the registry: the indexed thing documents and SearchIndex's scan. A query
// is translated to a SQL filter where SQL decides a term exactly or can rule things out safely
// (a superset); every candidate row is then built into its document and the query itself decides
// (cloud/index/query.hpp), so the answer never depends on how much was translated.
#include <optional>
#include <variant>

#include "cloud/index/document.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

using index::Node;
using index::Term;
using nlohmann::json;

constexpr const char* kConfigurationSetting = "indexing.configuration";
constexpr int kScanChunk = 256;

// SQL expressions of a candidate row (things t LEFT JOIN shadows s).
constexpr const char* kConnections =
    "(SELECT max(connections) FROM device_presence WHERE client_id = t.name)";
constexpr const char* kLastSeen =
    "(SELECT max(last_seen_us) FROM device_presence WHERE client_id = t.name)";
constexpr const char* kDisconnectDetail =
    "(SELECT e.detail FROM device_presence p JOIN device_events e ON e.certificate_id = "
    "p.certificate_id WHERE p.client_id = t.name AND e.kind = 'disconnected' ORDER BY e.time_us "
    "DESC LIMIT 1)";

// The thing's direct groups, static and dynamic (registry_thing_groups.cpp's members), as a JSON
// array in name order.
constexpr const char* kGroupNames =
    "(SELECT json_group_array(group_name) FROM (SELECT group_name FROM thing_group_members WHERE "
    "thing_name = t.name ORDER BY group_name))";

using Bind = std::variant<std::string, double>;

// A translated (sub)query: `sql` holds every thing the query matches; `exact` when it holds no
// other (only then may NOT use it).
struct Filter {
  std::string sql = "1";
  bool exact = false;
};

bool is_number(std::string_view text, double& value) {
  if (text.empty()) return false;
  std::string copy(text);
  char* end = nullptr;
  value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

// A wildcard pattern (common/glob's backslash form) as SQLite GLOB's: literals in brackets.
std::string to_sql_glob(std::string_view pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char next = pattern[++i];
      out += next == '*' || next == '?' || next == '[' ? std::string("[") + next + "]"
                                                       : std::string(1, next);
    } else if (c == '[') {
      out += "[[]";
    } else {
      out += c;
    }
  }
  return out;
}

// '$."a"."b"' for a dotted path; nullopt when a segment could not be quoted plainly.
std::optional<std::string> json_path(std::string_view dotted) {
  std::string path = "$";
  while (!dotted.empty()) {
    std::size_t dot = dotted.find('.');
    std::string_view segment = dotted.substr(0, dot);
    if (segment.empty() || segment.find_first_of("\"\\") != std::string_view::npos)
      return std::nullopt;
    path += ".\"" + std::string(segment) + "\"";
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  return path;
}

class Translator {
 public:
  Translator(const index::IndexingConfiguration& configuration, std::vector<Bind>& binds)
      : configuration_(configuration), binds_(binds) {}

  Filter node(const index::Query& query, std::size_t at) {
    const Node& n = query.nodes[at];
    switch (n.kind) {
      case Node::Kind::term: {
        // A term SQL cannot use leaves no parameter behind (they are numbered in order).
        std::size_t mark = binds_.size();
        Filter out = term(n.term);
        if (out.sql == "1") binds_.resize(mark);
        return out;
      }
      case Node::Kind::all_of:
      case Node::Kind::any_of: {
        Filter out{.sql = "", .exact = true};
        const char* joiner = n.kind == Node::Kind::all_of ? " AND " : " OR ";
        for (std::size_t child : n.children) {
          Filter part = node(query, child);
          out.sql += (out.sql.empty() ? "(" : joiner) + part.sql;
          out.exact = out.exact && part.exact;
        }
        out.sql += ")";
        return out;
      }
      case Node::Kind::negation: {
        std::size_t mark = binds_.size();
        Filter inner = node(query, n.children.front());
        if (!inner.exact) {
          binds_.resize(mark);
          return {};
        }
        return {.sql = "NOT " + inner.sql, .exact = true};
      }
    }
    return {};
  }

 private:
  std::string bind(Bind value) {
    binds_.push_back(std::move(value));
    return "?" + std::to_string(binds_.size() + kFirstBind - 1);
  }

  // A registry column or attribute as text: equality, wildcards and existence are exact.
  Filter text_term(const Term& t, const std::string& column, bool ascii) {
    switch (t.kind) {
      case Term::Kind::exists:
        return {.sql = "(" + column + " IS NOT NULL)", .exact = true};
      case Term::Kind::equals:
        if (!t.wildcard) {
          return {.sql = "COALESCE(lower(" + column + ") = lower(" + bind(t.value) + "), 0)",
                  .exact = true};
        }
        // SQLite's ? is one character, the query's one byte: the same only for ASCII values.
        if (!ascii && t.value.find('?') != std::string::npos) return {};
        return {.sql = "COALESCE(lower(" + column + ") GLOB lower(" + bind(to_sql_glob(t.value)) +
                       "), 0)",
                .exact = true};
      default:
        return {};  // text vs number ordering: the query decides
    }
  }

  // A shadow leaf: numbers compared in SQL, anything else left to the query (a superset).
  Filter shadow_term(const Term& t, const std::string& path) {
    std::string value = "json_extract(s.document, " + bind(path) + ")";
    std::string not_number = "typeof(" + value + ") NOT IN ('integer', 'real')";
    if (t.kind == Term::Kind::exists) return {};
    auto number_bound = [&](const std::string& text, bool open) -> std::optional<std::string> {
      double number = 0;
      if (open || !is_number(text, number)) return std::nullopt;
      return bind(number);
    };
    std::string condition;
    if (t.kind == Term::Kind::equals && !t.wildcard) {
      auto bound = number_bound(t.value, false);
      if (!bound) return {};
      condition = value + " = " + *bound;
    } else if (t.kind == Term::Kind::compare) {
      auto bound = number_bound(t.value, false);
      if (!bound) return {};
      const char* op = t.comparison == Term::Comparison::less         ? " < "
                       : t.comparison == Term::Comparison::less_equal ? " <= "
                       : t.comparison == Term::Comparison::greater    ? " > "
                                                                      : " >= ";
      condition = value + op + *bound;
    } else if (t.kind == Term::Kind::range) {
      auto lower = number_bound(t.lower, t.lower_open);
      auto upper = number_bound(t.upper, t.upper_open);
      if ((!lower && !t.lower_open) || (!upper && !t.upper_open)) return {};
      condition = "1";
      if (lower) condition += " AND " + value + (t.lower_inclusive ? " >= " : " > ") + *lower;
      if (upper) condition += " AND " + value + (t.upper_inclusive ? " <= " : " < ") + *upper;
    } else {
      return {};
    }
    return {.sql = "(" + not_number + " OR (" + condition + "))", .exact = false};
  }

  Filter term(const Term& t) {
    const std::string& field = t.field;
    if (field == "thingName") return text_term(t, "t.name", true);
    if (field == "thingId") return text_term(t, "t.id", true);
    if (field == "thingTypeName") return text_term(t, "t.type_name", true);
    if (field == "thingGroupNames" && t.kind != Term::Kind::range &&
        t.kind != Term::Kind::compare) {
      // Any member group matching: group names are ASCII ([a-zA-Z0-9:_-]).
      Filter inner = text_term(t, "m.group_name", true);
      if (inner.sql == "1") return {};
      return {
          .sql = "EXISTS (SELECT 1 FROM thing_group_members m WHERE m.thing_name = t.name AND " +
                 inner.sql + ")",
          .exact = true};
    }
    if (field.starts_with("attributes.") && field.size() > 11) {
      std::string name = field.substr(11);
      if (name.find_first_of("\"\\") != std::string::npos) return {};
      return text_term(t, "json_extract(t.attributes, " + bind("$.\"" + name + "\"") + ")", false);
    }
    if (configuration_.shadow_indexed() &&
        (field.starts_with("shadow.reported.") || field.starts_with("shadow.desired."))) {
      auto path = json_path(std::string_view(field).substr(7));
      if (!path) return {};
      return shadow_term(t, *path);
    }
    if (field == "connectivity.connected" && configuration_.connectivity_indexed() &&
        t.kind == Term::Kind::equals && !t.wildcard) {
      std::string value = t.value;
      for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (value != "true" && value != "false") return {.sql = "0", .exact = true};
      return {.sql = std::string("(COALESCE(") + kConnections + ", 0) " +
                     (value == "true" ? "> 0)" : "= 0)"),
              .exact = true};
    }
    return {};
  }

 public:
  static constexpr int kFirstBind = 3;  // ?1 = after, ?2 = limit

 private:
  const index::IndexingConfiguration& configuration_;
  std::vector<Bind>& binds_;
};

// The reason a disconnected event's detail ends with ("client <id>: <REASON>").
std::string disconnect_reason(std::string_view detail) {
  std::size_t colon = detail.rfind(": ");
  return std::string(colon == std::string_view::npos ? detail : detail.substr(colon + 2));
}

}  // namespace

Result<index::IndexingConfiguration> Registry::indexing_configuration() {
  ZT_TRY_ASSIGN(auto stored, get_setting(kConfigurationSetting));
  return stored ? index::from_storage(*stored) : index::IndexingConfiguration{};
}

Status Registry::set_indexing_configuration(const index::IndexingConfiguration& configuration) {
  return set_setting(kConfigurationSetting, index::to_storage(configuration));
}

namespace {

struct ScanPlan {
  std::string sql;
  std::vector<Bind> binds;
};

void bind_all(Statement& st, const std::vector<Bind>& binds) {
  for (std::size_t i = 0; i < binds.size(); ++i) {
    int position = Translator::kFirstBind + static_cast<int>(i);
    if (const auto* text = std::get_if<std::string>(&binds[i])) {
      st.bind(position, *text);
    } else {
      st.bind(position, std::get<double>(binds[i]));
    }
  }
}

ScanPlan plan_scan(const index::IndexingConfiguration& configuration, const index::Query* query,
                   bool single) {
  ScanPlan plan;
  Filter filter;
  if (query != nullptr && !query->nodes.empty()) {
    Translator translator(configuration, plan.binds);
    filter = translator.node(*query, query->root);
  }
  bool connectivity = configuration.connectivity_indexed();
  plan.sql = std::string("SELECT t.name, t.id, t.type_name, t.attributes, t.version, ") +
             (configuration.shadow_indexed() ? "s.document" : "NULL") + ", " +
             (connectivity ? kConnections : "NULL") + ", " + (connectivity ? kLastSeen : "NULL") +
             ", " + (connectivity ? kDisconnectDetail : "NULL") + ", " + kGroupNames +
             " FROM things t LEFT JOIN shadows s ON s.thing_name = t.name AND s.shadow_name = ''"
             " WHERE " +
             (single ? std::string("t.name = ?1") : "t.name > ?1 AND " + filter.sql) +
             " ORDER BY t.name LIMIT ?2";
  return plan;
}

// The indexed named shadows of the thing (namedShadowIndexingMode ON, names of the filter).
Result<std::vector<std::pair<std::string, json>>> named_shadows(
    Database& db, const std::string& thing_name,
    const index::IndexingConfiguration& configuration) {
  std::vector<std::pair<std::string, json>> out;
  if (!configuration.named_shadows_indexed()) return out;
  for (const auto& name : configuration.named_shadow_names) {
    ZT_TRY_ASSIGN(Statement st, db.prepare("SELECT document FROM shadows WHERE thing_name = ?1 AND "
                                           "shadow_name = ?2"));
    st.bind(1, thing_name).bind(2, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) continue;
    if (auto section = index::shadow_section(st.text(0)))
      out.emplace_back(name, std::move(*section));
  }
  return out;
}

// The document of the row `st` is on (the columns of plan_scan).
Result<json> document_of(Database& db, const Statement& st,
                         const index::IndexingConfiguration& configuration) {
  json document = {{"thingName", st.text(0)}, {"thingId", st.text(1)}};
  if (auto type = st.optional_text(2)) document["thingTypeName"] = *type;
  json groups = json::parse(st.text(9), nullptr, false);
  if (groups.is_array() && !groups.empty()) document["thingGroupNames"] = std::move(groups);
  json attributes = json::parse(st.text(3), nullptr, false);
  document["attributes"] = attributes.is_object() ? attributes : json::object();
  if (configuration.shadow_indexed() || configuration.named_shadows_indexed()) {
    std::optional<json> classic;
    if (configuration.shadow_indexed() && !st.is_null(5))
      classic = index::shadow_section(st.text(5));
    ZT_TRY_ASSIGN(auto named,
                  named_shadows(db, document["thingName"].get<std::string>(), configuration));
    if (auto text = index::shadow_text(classic, named)) document["shadow"] = *text;
  }
  if (configuration.connectivity_indexed()) {
    bool connected = !st.is_null(6) && st.integer(6) > 0;
    json connectivity = {{"connected", connected}};
    if (!st.is_null(7)) connectivity["timestamp"] = st.integer(7) / 1000;
    if (!connected && !st.is_null(8))
      connectivity["disconnectReason"] = disconnect_reason(st.text(8));
    document["connectivity"] = std::move(connectivity);
  }
  document["registryVersion"] = st.integer(4);
  return document;
}

// Walks the matching things after `after` in name order, in chunks, until `visit` says stop.
Status scan(Database& db, const index::IndexingConfiguration& configuration,
            const index::Query& query, std::string after, const IndexedThingVisitor& visit) {
  ScanPlan plan = plan_scan(configuration, &query, false);
  for (;;) {
    std::vector<json> candidates;
    {
      ZT_TRY_ASSIGN(Statement st, db.prepare(plan.sql));
      st.bind(1, after).bind(2, int64_t{kScanChunk});
      bind_all(st, plan.binds);
      for (;;) {
        ZT_TRY_ASSIGN(bool row, st.step());
        if (!row) break;
        after = st.text(0);
        ZT_TRY_ASSIGN(json document, document_of(db, st, configuration));
        candidates.push_back(std::move(document));
      }
    }
    for (json& document : candidates) {
      if (index::matches(query, document) && !visit(std::move(document))) return ok();
    }
    if (candidates.size() < static_cast<std::size_t>(kScanChunk)) return ok();
  }
}

}  // namespace

Result<nlohmann::json> Registry::indexed_thing(std::string_view thing_name) {
  return transaction([&]() -> Result<json> {
    ZT_TRY_ASSIGN(auto configuration, indexing_configuration());
    ScanPlan plan = plan_scan(configuration, nullptr, true);
    ZT_TRY_ASSIGN(Statement st, db_.prepare(plan.sql));
    st.bind(1, thing_name).bind(2, int64_t{1});
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return make_error(Errc::not_found, "thing " + std::string(thing_name) + " not found");
    return document_of(db_, st, configuration);
  });
}

Status Registry::visit_indexed_things(const index::Query& query, const IndexedThingVisitor& visit) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto configuration, indexing_configuration());
    return scan(db_, configuration, query, "", visit);
  });
}

Result<Page<nlohmann::json>> Registry::search_things(const index::Query& query,
                                                     const PageRequest& page) {
  std::size_t limit = page.limit > 0 ? static_cast<std::size_t>(page.limit) : 1;
  Page<json> out;
  ZT_TRY(transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto configuration, indexing_configuration());
    return scan(db_, configuration, query, page.after, [&](json&& document) {
      out.items.push_back(std::move(document));
      return out.items.size() <= limit;
    });
  }));
  if (out.items.size() > limit) {
    out.items.pop_back();
    out.next_key = out.items.back()["thingName"].get<std::string>();
  }
  return out;
}

}  // namespace zt::cloud::registry
