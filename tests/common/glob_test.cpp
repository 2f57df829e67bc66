#include "common/glob.hpp"

#include <gtest/gtest.h>

namespace zt {
namespace {

TEST(Glob, StarAndQuestionMark) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*", "a/b/c"));  // crosses '/'
  EXPECT_TRUE(glob_match("*b*d", "abcd"));
  EXPECT_FALSE(glob_match("*b*d", "abce"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_FALSE(glob_match("abc", "abcd"));
  EXPECT_TRUE(
      glob_match("arn:aws:iot:*:123456789012:rule/*", "arn:aws:iot:eu-west-1:123456789012:rule/r"));
  EXPECT_FALSE(
      glob_match("arn:aws:iot:*:123456789012:rule/*", "arn:aws:iot:eu-west-1:999999999999:rule/r"));
}

TEST(Glob, BackslashIsLiteralUnlessAsked) {
  // IAM and Lambda conditions: '\' is an ordinary character.
  EXPECT_TRUE(glob_match("a\\*", "a\\bc"));
  EXPECT_FALSE(glob_match("a\\*", "a*"));
  // IoT policies: '\' escapes the next character.
  EXPECT_TRUE(glob_match("a\\*", "a*", GlobEscapes::backslash));
  EXPECT_FALSE(glob_match("a\\*", "ab", GlobEscapes::backslash));
  EXPECT_TRUE(glob_match("a\\?", "a?", GlobEscapes::backslash));
  EXPECT_FALSE(glob_match("a\\?", "ab", GlobEscapes::backslash));
}

TEST(Glob, BacktrackingStaysBounded) {
  // Many stars against a long text that almost matches: finishes (no exponential recursion).
  std::string text(5000, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", text));
  EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*a*", text));
}

}  // namespace
}  // namespace zt
