// Lambda functions (table lambda_functions, the zip in its `code` column) and their resource-based
// policies (table lambda_permissions, one statement per row in the order they were added).
#include "cloud/registry/paging.hpp"
#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry {
namespace {

constexpr const char* kFunctionColumns =
    "SELECT name, runtime, handler, role, command, code_sha256, code_size, environment, timeout, "
    "memory_size, description, last_modified, revision_id FROM lambda_functions";

LambdaFunction read_function(const Statement& st) {
  return LambdaFunction{.name = st.text(0),
                        .runtime = st.text(1),
                        .handler = st.text(2),
                        .role = st.text(3),
                        .command = st.optional_text(4),
                        .code_sha256 = st.text(5),
                        .code_size = st.integer(6),
                        .environment = st.text(7),
                        .timeout = st.integer(8),
                        .memory_size = st.integer(9),
                        .description = st.text(10),
                        .last_modified = st.text(11),
                        .revision_id = st.text(12)};
}

}  // namespace

Status Registry::insert_lambda_function(const LambdaFunction& function,
                                        std::span<const uint8_t> code) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st,
                  db_.prepare("INSERT INTO lambda_functions VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                              "?9, ?10, ?11, ?12, ?13, ?14)"));
    st.bind(1, function.name)
        .bind(2, function.runtime)
        .bind(3, function.handler)
        .bind(4, function.role)
        .bind(5, function.command)
        .bind_blob(6, code)
        .bind(7, function.code_sha256)
        .bind(8, function.code_size)
        .bind(9, function.environment)
        .bind(10, function.timeout)
        .bind(11, function.memory_size)
        .bind(12, function.description)
        .bind(13, function.last_modified)
        .bind(14, function.revision_id);
    Status inserted = st.run();
    if (!inserted && inserted.error().code == Errc::already_exists) {
      return make_error(Errc::already_exists, "function " + function.name + " already exists");
    }
    return inserted;
  });
}

Result<std::optional<LambdaFunction>> Registry::find_lambda_function(std::string_view name) {
  return transaction([&]() -> Result<std::optional<LambdaFunction>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare(std::string(kFunctionColumns) + " WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row) return std::optional<LambdaFunction>();
    return std::optional<LambdaFunction>(read_function(st));
  });
}

Result<std::optional<std::vector<uint8_t>>> Registry::lambda_function_code(std::string_view name) {
  return transaction([&]() -> Result<std::optional<std::vector<uint8_t>>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT code FROM lambda_functions WHERE name = ?1"));
    st.bind(1, name);
    ZT_TRY_ASSIGN(bool row, st.step());
    if (!row || st.is_null(0)) return std::optional<std::vector<uint8_t>>();
    return std::optional<std::vector<uint8_t>>(st.blob(0));
  });
}

Result<Page<LambdaFunction>> Registry::list_lambda_functions(const PageRequest& page) {
  return transaction([&] {
    return paged_query<LambdaFunction>(db_, kFunctionColumns, "1", "name", page, no_binds(),
                                       read_function,
                                       [](const LambdaFunction& f) { return f.name; });
  });
}

Status Registry::update_lambda_function(const LambdaFunction& function,
                                        std::optional<std::span<const uint8_t>> code) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(
        Statement st,
        db_.prepare("UPDATE lambda_functions SET runtime = ?2, handler = ?3, role = ?4, "
                    "command = ?5, code_sha256 = ?6, code_size = ?7, environment = ?8, "
                    "timeout = ?9, memory_size = ?10, description = ?11, last_modified = ?12, "
                    "revision_id = ?13 WHERE name = ?1"));
    ZT_TRY(st.bind(1, function.name)
               .bind(2, function.runtime)
               .bind(3, function.handler)
               .bind(4, function.role)
               .bind(5, function.command)
               .bind(6, function.code_sha256)
               .bind(7, function.code_size)
               .bind(8, function.environment)
               .bind(9, function.timeout)
               .bind(10, function.memory_size)
               .bind(11, function.description)
               .bind(12, function.last_modified)
               .bind(13, function.revision_id)
               .run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "function " + function.name);
    if (!code) return ok();
    ZT_TRY_ASSIGN(Statement replace,
                  db_.prepare("UPDATE lambda_functions SET code = ?2 WHERE name = ?1"));
    return replace.bind(1, function.name).bind_blob(2, *code).run();
  });
}

Status Registry::delete_lambda_function(std::string_view name) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM lambda_functions WHERE name = ?1"));
    ZT_TRY(st.bind(1, name).run());
    if (db_.changes() == 0) return make_error(Errc::not_found, "function " + std::string(name));
    ZT_TRY_ASSIGN(Statement policy,
                  db_.prepare("DELETE FROM lambda_permissions WHERE function_name = ?1"));
    return policy.bind(1, name).run();
  });
}

Status Registry::add_lambda_permission(const LambdaPermission& permission) {
  return transaction([&]() -> Status {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("INSERT INTO lambda_permissions(function_name, sid, "
                                            "statement) VALUES(?1, ?2, ?3)"));
    Status inserted = st.bind(1, permission.function_name)
                          .bind(2, permission.sid)
                          .bind(3, permission.statement)
                          .run();
    if (!inserted && inserted.error().code == Errc::already_exists) {
      return make_error(Errc::already_exists,
                        "statement " + permission.sid + " of " + permission.function_name);
    }
    return inserted;
  });
}

Result<bool> Registry::remove_lambda_permission(std::string_view function_name,
                                                std::string_view sid) {
  return transaction([&]() -> Result<bool> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("DELETE FROM lambda_permissions WHERE function_name = "
                                            "?1 AND sid = ?2"));
    ZT_TRY(st.bind(1, function_name).bind(2, sid).run());
    return db_.changes() > 0;
  });
}

Result<std::vector<LambdaPermission>> Registry::lambda_permissions(std::string_view function_name) {
  return transaction([&]() -> Result<std::vector<LambdaPermission>> {
    ZT_TRY_ASSIGN(Statement st, db_.prepare("SELECT function_name, sid, statement FROM "
                                            "lambda_permissions WHERE function_name = ?1 "
                                            "ORDER BY seq"));
    st.bind(1, function_name);
    std::vector<LambdaPermission> out;
    while (true) {
      ZT_TRY_ASSIGN(bool row, st.step());
      if (!row) break;
      out.push_back({.function_name = st.text(0), .sid = st.text(1), .statement = st.text(2)});
    }
    return out;
  });
}

}  // namespace zt::cloud::registry
