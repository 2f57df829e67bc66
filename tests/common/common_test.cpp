#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "common/time.hpp"
#include "support/temp_dir.hpp"

namespace zt {
namespace {

TEST(Hex, RoundTripAndErrors) {
  Bytes data{0x00, 0x01, 0xAB, 0xFF};
  EXPECT_EQ(to_hex(data), "0001abff");
  EXPECT_EQ(to_hex_upper(data), "0001ABFF");
  EXPECT_EQ(*from_hex("0001AbfF"), data);
  EXPECT_FALSE(from_hex("abc"));
  auto bad = from_hex("zz");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("invalid hex digit"), std::string::npos);
}

TEST(Base64, KnownAnswers) {
  // RFC 4648 §10 test vectors.
  EXPECT_EQ(base64_encode(as_bytes("")), "");
  EXPECT_EQ(base64_encode(as_bytes("f")), "Zg==");
  EXPECT_EQ(base64_encode(as_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(*base64_decode("Zm9vYg=="), to_bytes("foob"));
  EXPECT_EQ(*base64_decode("Zm8="), to_bytes("fo"));
  EXPECT_FALSE(base64_decode("Zm9"));
  EXPECT_FALSE(base64_decode("Zm9*"));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal(as_bytes("abc"), as_bytes("abc")));
  EXPECT_FALSE(constant_time_equal(as_bytes("abc"), as_bytes("abd")));
  EXPECT_FALSE(constant_time_equal(as_bytes("abc"), as_bytes("ab")));
}

TEST(Time, CivilConversionsAtTheEdges) {
  for (int64_t t : {int64_t{0}, int64_t{951782400} /* 2000-02-29 */, int64_t{1440938160},
                    int64_t{32535215999}}) {
    EXPECT_EQ(to_unix(to_utc(t)), t);
  }
  EXPECT_EQ(format_iso8601(1440938160), "2015-08-30T12:36:00Z");
  EXPECT_EQ(format_amz_date(1440938160), "20150830T123600Z");
  EXPECT_EQ(*parse_amz_date("20150830T123600Z"), 1440938160);
  EXPECT_FALSE(parse_amz_date("20150230T123600Z"));
  EXPECT_EQ(days_in_month(2000, 2), 29);
  EXPECT_EQ(days_in_month(2100, 2), 28);
  EXPECT_EQ(format_iso8601(32535215999), "3000-12-31T23:59:59Z");
}

TEST(AtomicFile, WritesWithModeAndLeavesNoTemporaries) {
  testing::TempDir dir("common");
  auto path = dir / "key.pem";
  ASSERT_TRUE(write_file_atomic(path, std::string_view("first"), 0600));
  ASSERT_TRUE(write_file_atomic(path, std::string_view("second"), 0600));
  EXPECT_EQ(*read_text_file(path), "second");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  // A path below a regular file cannot be created even by root.
  auto bad = write_file_atomic(path / "child", std::string_view("x"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("child"), std::string::npos);
  auto missing = read_file(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

}  // namespace
}  // namespace zt
