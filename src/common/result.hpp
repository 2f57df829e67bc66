// Result<T>: a value or an Error{code, message}. Expected failures (bad input, protocol errors,
// missing files) travel as Result; exceptions are for programmer errors only (STYLE.md).
// Result<T, E> carries another error type where a layer's failures need more than code + message
// (the control plane's AWS error answers: cloud/api/router.hpp).
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace zt {

enum class Errc {
  invalid_argument,  // malformed or out-of-range input
  not_found,         // a file, slot, resource that does not exist
  already_exists,
  io,          // filesystem / socket failure
  permission,  // access denied (file mode, SE slot rule, policy)
  crypto,      // OpenSSL failure or a signature that does not verify
  parse,       // bytes that are not the format they claim to be
  conflict,    // state conflict (version mismatch, locked zone)
  unsupported,
  timeout,
  internal,
};

const char* to_string(Errc code);

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T value)
      : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, E> &&
           !std::is_same_v<std::decay_t<U>, Result>) Result(U&& value)
      : storage_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(storage_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(storage_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(storage_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& {
    assert(!has_value());
    return std::get<1>(storage_);
  }
  E&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(storage_));
  }

  T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }

 private:
  std::variant<T, E> storage_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design
  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }
  const E& error() const& {
    assert(failed_);
    return error_;
  }
  E&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  E error_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Status ok() { return {}; }

// Prefixes the message of a failed Result with context ("reading root-ca.key: ...").
template <class T>
Result<T> with_context(Result<T> result, std::string_view context) {
  if (result) return result;
  Error error = std::move(result).error();
  error.message = std::string(context) + ": " + error.message;
  return error;
}

}  // namespace zt

#define ZT_CONCAT_INNER(a, b) a##b
#define ZT_CONCAT(a, b) ZT_CONCAT_INNER(a, b)

// ZT_TRY(expr): returns the error of a failed Result from the enclosing function.
#define ZT_TRY(expr)                                               \
  do {                                                             \
    auto&& zt_try_result_ = (expr);                                \
    if (!zt_try_result_) return std::move(zt_try_result_).error(); \
  } while (false)

// ZT_TRY_ASSIGN(lhs, expr): lhs = *expr, or return its error.  `ZT_TRY_ASSIGN(auto key,
// load(path));`
#define ZT_TRY_ASSIGN(lhs, expr) ZT_TRY_ASSIGN_IMPL(ZT_CONCAT(zt_try_tmp_, __LINE__), lhs, expr)
#define ZT_TRY_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                       \
  if (!tmp) return std::move(tmp).error(); \
  lhs = std::move(*tmp)
