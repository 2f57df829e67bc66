// One wildcard matcher for every policy language here: IoT policies (Action/Resource), IAM trust
// policies (Action) and Lambda resource policies (ArnLike/StringLike conditions). `*` matches any
// run of characters (crossing `/`), `?` exactly one; everything else is literal. IoT policies also
// let `\` escape the next character (`a\*` is the literal `a*`); IAM's and Lambda's do not.
#pragma once

#include <string_view>

namespace zt {

enum class GlobEscapes { none, backslash };

// Iterative, backtracking to the last `*` only: O(|pattern| * |text|) at worst, never recursive.
bool glob_match(std::string_view pattern, std::string_view text,
                GlobEscapes escapes = GlobEscapes::none);

}  // namespace zt
