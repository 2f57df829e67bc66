#include "cloud/registry/sqlite.hpp"
#include "common/time.hpp"

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace zt::cloud::registry {
namespace {
Error sqlite_error(sqlite3* db, std::string_view what) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  // SQLITE_CONSTRAINT_PRIMARYKEY/UNIQUE: a duplicate the caller usually checked for first.
  Errc errc = (code & 0xff) == SQLITE_CONSTRAINT ? Errc::already_exists : Errc::io;
  return make_error(errc, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}
// Prepared statements kept for reuse, per connection, by their SQL text: the registry runs the same
// few hundred statements over and over, and compiling one (sqlite3_prepare_v2) cost more than
// running it (15 % of `ztp cloud run`'s CPU during JITR registrations, perf, issue 19). A statement
// is handed out to one Statement at a time and comes back reset, its bindings cleared, when that
// Statement is destroyed; SQLite re-prepares a kept statement itself if the schema changed
// (sqlite3_prepare_v2). At most kMaxKept per connection (SQL built at run time, such as a
// user_version PRAGMA, is finalized beyond that). The connection finalizes its kept statements
// before it closes.
constexpr size_t kMaxKept = 256;
struct KeptStatements {
  std::mutex mutex;
  std::unordered_map<sqlite3*, std::unordered_multimap<std::string, sqlite3_stmt*>> by_connection;
};
KeptStatements& kept_statements() {
  static auto* kept = new KeptStatements;  // never destroyed: connections may close at exit
  return *kept;
}

sqlite3_stmt* take_kept(sqlite3* db, std::string_view sql) {
  auto& kept = kept_statements();
  std::lock_guard lock(kept.mutex);
  auto connection = kept.by_connection.find(db);
  if (connection == kept.by_connection.end()) return nullptr;
  auto it = connection->second.find(std::string(sql));
  if (it == connection->second.end()) return nullptr;
  sqlite3_stmt* stmt = it->second;
  connection->second.erase(it);
  return stmt;
}

void give_back(sqlite3* db, sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  const char* sql = sqlite3_sql(stmt);
  if (db && sql) {
    auto& kept = kept_statements();
    std::lock_guard lock(kept.mutex);
    // Only for an open connection (registered by Database::open, dropped before it closes; a
    // closing connection stays allocated while a statement of it lives, so its address is not
    // reused meanwhile).
    auto connection = kept.by_connection.find(db);
    if (connection != kept.by_connection.end() && connection->second.size() < kMaxKept) {
      connection->second.emplace(sql, stmt);
      return;
    }
  }
  sqlite3_finalize(stmt);
}

void keep_statements_of(sqlite3* db) {
  auto& kept = kept_statements();
  std::lock_guard lock(kept.mutex);
  kept.by_connection[db];
}

// Finalizes the connection's kept statements and closes it.
void close_connection(sqlite3* db) {
  std::unordered_multimap<std::string, sqlite3_stmt*> statements;
  {
    auto& kept = kept_statements();
    std::lock_guard lock(kept.mutex);
    auto connection = kept.by_connection.find(db);
    if (connection != kept.by_connection.end()) {
      statements = std::move(connection->second);
      kept.by_connection.erase(connection);
    }
  }
  for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
}

}  // namespace

Statement::~Statement() {
  if (stmt_) give_back(db_, stmt_);
}
Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_status_(other.bind_status_) {}
Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) give_back(db_, stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_status_ = other.bind_status_;
  }
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK) {
    bind_status_ = sqlite_error(db_, "binding a value");
  }
  return *this;
}
Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
    bind_status_ = sqlite_error(db_, "binding");
  return *this;
}
Statement& Statement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK)
    bind_status_ = sqlite_error(db_, "binding");
  return *this;
}
Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}
Statement& Statement::bind_blob(int index, std::span<const uint8_t> bytes) {
  // A zero-length blob (not NULL) for empty code: sqlite3_bind_blob with a null pointer binds NULL.
  static const uint8_t kEmpty = 0;
  if (sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
    bind_status_ = sqlite_error(db_, "binding a blob");
  }
  return *this;
}
Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) bind_status_ = sqlite_error(db_, "binding");
  return *this;
}

Result<bool> Statement::step() {
  if (!bind_status_) return bind_status_.error();
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "executing statement");
}

Status Statement::run() {
  while (true) {
    ZT_TRY_ASSIGN(bool row, step());
    if (!row) return ok();
  }
}

std::vector<uint8_t> Statement::blob(int column) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  if (!data) return {};
  return {data, data + sqlite3_column_bytes(stmt_, column)};
}

std::string Statement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  if (!data) return {};
  return std::string(reinterpret_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}
int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Database::~Database() {
  if (db_) close_connection(db_);
}
Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_) close_connection(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Result<Database> Database::open(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqlite_error(db, "opening " + path.string());
    sqlite3_close_v2(db);
    return error;
  }
  Database database(db);
  keep_statements_of(db);
  sqlite3_busy_timeout(db, 5000);
  // zt_now_us(): wall-clock microseconds, for the device_events triggers (schema 2). SQLite's own
  // 'now' has millisecond resolution, too coarse to order a trigger's row against events the data
  // plane recorded within the same millisecond.
  sqlite3_create_function_v2(
      db, "zt_now_us", 0, SQLITE_UTF8, nullptr,
      [](sqlite3_context* context, int, sqlite3_value**) {
        sqlite3_result_int64(context, unix_now_us());
      },
      nullptr, nullptr, nullptr);
  return database;
}

Status Database::exec(std::string_view sql) {
  // One statement (BEGIN, COMMIT, SAVEPOINT, a PRAGMA): a kept prepared statement, as prepare().
  if (sql.find(';') == std::string_view::npos) {
    auto statement = prepare(sql);
    Status ran = statement ? statement->run() : Status(statement.error());
    if (!ran) {
      return make_error(Errc::io,
                        "SQL '" + std::string(sql.substr(0, 60)) + "': " + sqlite3_errmsg(db_));
    }
    return ok();
  }
  char* message = nullptr;
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string reason = message ? message : "unknown error";
    sqlite3_free(message);
    return make_error(Errc::io, "SQL '" + text.substr(0, 60) + "': " + reason);
  }
  return ok();
}

Result<Statement> Database::prepare(std::string_view sql) {
  if (sqlite3_stmt* kept = take_kept(db_, sql)) return Statement(db_, kept);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return sqlite_error(db_, "preparing '" + std::string(sql.substr(0, 60)) + "'");
  }
  return Statement(db_, stmt);
}

int Database::changes() const { return sqlite3_changes(db_); }

void Database::observe_wal_commits(void (*on_commit)(void*), void* context, int checkpoint_pages) {
  on_commit_ = on_commit;
  commit_context_ = context;
  checkpoint_pages_ = checkpoint_pages;
  sqlite3_wal_hook(db_, &Database::wal_hook, this);
}

int Database::wal_hook(void* self, sqlite3* db, const char* name, int pages) {
  auto* database = static_cast<Database*>(self);
  if (database->on_commit_) database->on_commit_(database->commit_context_);
  // As sqlite3WalDefaultHook: a failed or partial PASSIVE checkpoint is retried at a later commit.
  if (pages >= database->checkpoint_pages_)
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

}  // namespace zt::cloud::registry
