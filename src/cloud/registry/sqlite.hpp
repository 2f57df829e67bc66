// Minimal RAII over SQLite 3: a connection, prepared statements with typed binds and columns,
// and errors as zt::Error carrying sqlite3_errmsg.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace zt::cloud::registry {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based like SQLite's; chainable.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bind_blob(int index, std::span<const uint8_t> bytes);
  Statement& bind_null(int index);

  // true = a row is ready; false = done.
  Result<bool> step();
  Status run();  // step to completion, ignoring rows

  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::vector<uint8_t> blob(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Status bind_status_;
};

class Database {
 public:
  Database() = default;
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  static Result<Database> open(const std::filesystem::path& path);
  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  int changes() const;
  // Calls `on_commit(context)` after every commit that wrote to the WAL (sqlite3_wal_hook), and
  // checkpoints (PASSIVE) once the WAL holds `checkpoint_pages` pages, which is what SQLite's own
  // wal_autocheckpoint does and which a WAL hook replaces (sqlite.org/c3ref/wal_hook.html). This
  // Database must not move afterwards (the hook holds its address).
  void observe_wal_commits(void (*on_commit)(void* context), void* context, int checkpoint_pages);

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  static int wal_hook(void* self, sqlite3* db, const char* name, int pages);
  sqlite3* db_ = nullptr;
  void (*on_commit_)(void*) = nullptr;
  void* commit_context_ = nullptr;
  int checkpoint_pages_ = 1000;
};

}  // namespace zt::cloud::registry
