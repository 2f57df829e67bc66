// The function invocation log (table function_invocations): every attempt of a rule's function,
// with the rule and the device it was for (`ztp cloud function log`, the console's invocations).
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {

Status Registry::record_function_invocation(const InvocationRow& attempt) {
  // A diagnostic record: committed without waiting for an fsync, so logging does not hold the
  // registry for a disk flush.
  return diagnostic_transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("INSERT INTO function_invocations(invocation_id, function_name, attempt, "
                    "succeeded, final, detail, started_ms, duration_ms, rule_name, certificate_id) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULLIF(?10, ''))"));
    return st.bind(1, attempt.invocation_id)
        .bind(2, attempt.function_name)
        .bind(3, attempt.attempt)
        .bind(4, attempt.succeeded ? 1 : 0)
        .bind(5, attempt.final ? 1 : 0)
        .bind(6, attempt.detail)
        .bind(7, attempt.started_ms)
        .bind(8, attempt.duration_ms)
        .bind(9, attempt.rule_name)
        .bind(10, attempt.certificate_id.value_or(""))
        .run();
  });
}

Result<std::vector<InvocationRow>> Registry::recent_function_invocations(int limit) {
  return transaction([&]() -> Result<std::vector<InvocationRow>> {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("SELECT invocation_id, function_name, attempt, succeeded, final, detail, "
                    "started_ms, duration_ms, rule_name, certificate_id FROM function_invocations "
                    "ORDER BY seq DESC LIMIT ?1"));
    st.bind(1, limit);
    std::vector<InvocationRow> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) break;
      out.push_back({.invocation_id = st.text(0),
                     .function_name = st.text(1),
                     .rule_name = st.text(8),
                     .certificate_id = st.optional_text(9),
                     .thing_name = std::nullopt,
                     .attempt = st.integer(2),
                     .succeeded = st.integer(3) != 0,
                     .final = st.integer(4) != 0,
                     .detail = st.text(5),
                     .started_ms = st.integer(6),
                     .duration_ms = st.integer(7)});
    }
    return out;
  });
}

Result<InvocationPage> Registry::list_function_invocations(const std::string& principal_prefix,
                                                           const InvocationQuery& query) {
  ZT_TRY(check_offset_paging(query.offset, query.limit));
  return transaction([&]() -> Result<InvocationPage> {
    InvocationPage page{.total = 0, .offset = query.offset, .limit = query.limit, .items = {}};
    ZT_TRY_ASSIGN(Statement count, db_.prepare("SELECT COUNT(*) FROM function_invocations WHERE "
                                               "(?1 = 0 OR succeeded = 0)"));
    ZT_TRY(count.bind(1, query.failed_only ? 1 : 0).step());
    page.total = count.integer(0);
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("SELECT i.invocation_id, i.function_name, i.rule_name, i.certificate_id, "
                    "(SELECT tp.thing_name FROM thing_principals tp WHERE tp.principal = ?4 || "
                    "i.certificate_id ORDER BY tp.thing_name LIMIT 1), i.attempt, i.succeeded, "
                    "i.final, i.detail, i.started_ms, i.duration_ms FROM function_invocations i "
                    "WHERE (?1 = 0 OR i.succeeded = 0) ORDER BY i.seq DESC LIMIT ?2 OFFSET ?3"));
    st.bind(1, query.failed_only ? 1 : 0)
        .bind(2, query.limit)
        .bind(3, query.offset)
        .bind(4, principal_prefix);
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) break;
      page.items.push_back({.invocation_id = st.text(0),
                            .function_name = st.text(1),
                            .rule_name = st.text(2),
                            .certificate_id = st.optional_text(3),
                            .thing_name = st.optional_text(4),
                            .attempt = st.integer(5),
                            .succeeded = st.integer(6) != 0,
                            .final = st.integer(7) != 0,
                            .detail = st.text(8),
                            .started_ms = st.integer(9),
                            .duration_ms = st.integer(10)});
    }
    return page;
  });
}

}  // namespace zt::cloud::registry
