// Keyset pagination shared by the registry's list calls: rows after (or before, descending) the
// last key of the previous page, limit + 1 fetched to know whether another page follows. And the
// check of the console's offset/limit paging.
#pragma once

#include <string>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {

template <class T, class Bind, class Row, class Key>
Result<Page<T>> paged_query(Database& db, std::string_view select, std::string_view where,
                            std::string_view key_column, const PageRequest& page, Bind bind,
                            Row row, Key key) {
  std::string sql = std::string(select) + " WHERE (" + std::string(where) + ") AND (?1 = '' OR " +
                    std::string(key_column) + (page.ascending ? " > " : " < ") + "?1) ORDER BY " +
                    std::string(key_column) + (page.ascending ? " ASC" : " DESC") + " LIMIT ?2";
  ZT_TRY_ASSIGN(Statement statement, db.prepare(sql));
  int limit = page.limit > 0 ? page.limit : 1;
  statement.bind(1, page.after).bind(2, static_cast<int64_t>(limit) + 1);
  bind(statement);
  Page<T> out;
  while (true) {
    ZT_TRY_ASSIGN(bool has_row, statement.step());
    if (!has_row) break;
    out.items.push_back(row(statement));
  }
  if (out.items.size() > static_cast<size_t>(limit)) {
    out.items.pop_back();
    out.next_key = key(out.items.back());
  }
  return out;
}

// The console's offset/limit paging (fleet lists): offset >= 0, limit 1..kMaxPageSize.
inline Status check_offset_paging(int64_t offset, int limit) {
  if (offset < 0)
    return make_error(Errc::invalid_argument, "offset " + std::to_string(offset) + " is negative");
  if (limit < 1 || limit > kMaxPageSize) {
    return make_error(
        Errc::invalid_argument,
        "limit " + std::to_string(limit) + " is not between 1 and " + std::to_string(kMaxPageSize));
  }
  return ok();
}

inline auto no_binds() {
  return [](Statement&) {};
}

}  // namespace zt::cloud::registry
