#include "common/glob.hpp"

namespace zt {

bool glob_match(std::string_view pattern, std::string_view text, GlobEscapes escapes) {
  size_t p = 0, t = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      bool escaped =
          escapes == GlobEscapes::backslash && pattern[p] == '\\' && p + 1 < pattern.size();
      char expected = escaped ? pattern[p + 1] : pattern[p];
      if ((!escaped && expected == '?') || expected == text[t]) {
        p += escaped ? 2 : 1;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace zt
