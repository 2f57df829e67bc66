// Dynamic thing groups' members from their fleet-indexing queries (developer guide, "Dynamic
// thing groups": "things are added to or removed from a dynamic thing group as they match or stop
// matching its query"). The query engine is cloud/index's; the documents are indexed_thing's, so
// a dynamic group sees exactly what SearchIndex sees (the indexing configuration decides whether
// shadows and connectivity are in them). Called in the transaction of the change, so the
// membership is current when the change commits.
#include <algorithm>

#include "cloud/index/query.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

// A membership change of one group can change what another's query sees (thingGroupNames); a
// few rounds settle any realistic chain, and the bound keeps a cycle of queries from looping.
constexpr int kMaxRounds = 3;

}  // namespace

Status Registry::refresh_dynamic_thing_group(std::string_view group_name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto group, find_thing_group(group_name));
    if (!group || !group->dynamic) return ok();
    ZT_TRY_ASSIGN(auto query, index::parse_query(group->query_string));
    std::vector<std::string> members;
    ZT_TRY(visit_indexed_things(query, [&](nlohmann::json&& document) {
      members.push_back(document.value("thingName", std::string()));
      return true;
    }));
    return set_dynamic_thing_group_members(group_name, members);
  });
}

Status Registry::refresh_dynamic_thing_groups_for_thing(std::string_view thing_name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(auto groups, list_dynamic_thing_groups());
    if (groups.empty()) return ok();
    std::vector<std::pair<std::string, index::Query>> queries;
    for (const auto& group : groups) {
      auto query = index::parse_query(group.query_string);
      if (query) queries.emplace_back(group.name, std::move(*query));  // stored ones parsed once
    }
    if (queries.empty()) return ok();
    for (int round = 0; round < kMaxRounds; ++round) {
      // Checked first: a failing inner call would roll the caller's transaction back.
      ZT_TRY_ASSIGN(auto thing, find_thing(thing_name));
      if (!thing) return ok();  // not a thing (a client id of no thing), or deleted
      ZT_TRY_ASSIGN(auto document, indexed_thing(thing_name));
      ZT_TRY_ASSIGN(auto before, list_thing_groups_for_thing(thing_name));
      const auto start = before;
      for (const auto& [name, query] : queries) {
        bool member = index::matches(query, document);
        bool in = std::find(before.begin(), before.end(), name) != before.end();
        // Already in as many groups as a thing may join: left out, as AWS leaves it.
        if (member && !in && before.size() >= static_cast<size_t>(kMaxThingGroupsPerThing))
          continue;
        if (member != in) ZT_TRY(set_thing_group_member(name, thing_name, member));
        ZT_TRY_ASSIGN(before, list_thing_groups_for_thing(thing_name));
      }
      if (before == start) break;
    }
    return ok();
  });
}

}  // namespace zt::cloud::registry
