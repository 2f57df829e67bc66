// Local-file name resolution and the hint wording (common/host_names.hpp).
#include "common/host_names.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace zt {
namespace {

namespace fs = std::filesystem;

struct Files {
  testing::TempDir dir{"hosts"};
  fs::path hosts = dir / "hosts";
  fs::path nsswitch = dir / "nsswitch.conf";
  Files(const std::string& hosts_text, const std::string& nsswitch_text) {
    std::ofstream(hosts) << hosts_text;
    std::ofstream(nsswitch) << nsswitch_text;
  }
};

TEST(HostNames, LocalhostNames) {
  EXPECT_TRUE(is_localhost_name("localhost"));
  EXPECT_TRUE(is_localhost_name("abc-ats.iot.us-east-1.localhost"));
  EXPECT_TRUE(is_localhost_name("ABC.LocalHost"));
  EXPECT_FALSE(is_localhost_name("localhost.example.test"));
  EXPECT_FALSE(is_localhost_name("notlocalhost"));
  EXPECT_FALSE(is_localhost_name(".localhost"));
}

TEST(HostNames, HostsFileAndNsswitch) {
  Files files(
      "127.0.0.1 localhost\n# 127.0.0.9 commented.localhost\n"
      "127.0.0.2\tabc-ats.iot.us-east-1.localhost  ABC.iot.us-east-1.localhost # the cloud\n",
      "passwd: files\nhosts:          files dns\n");
  EXPECT_EQ(hosts_file_address("abc-ats.iot.us-east-1.localhost", files.hosts), "127.0.0.2");
  EXPECT_EQ(hosts_file_address("abc.iot.us-east-1.localhost", files.hosts), "127.0.0.2");
  EXPECT_FALSE(hosts_file_address("commented.localhost", files.hosts));
  EXPECT_FALSE(hosts_file_address("x", files.dir / "missing"));
  // Debian's default "hosts: files dns": a .localhost name not in the file does not resolve.
  EXPECT_TRUE(resolves_locally("abc-ats.iot.us-east-1.localhost", files.hosts, files.nsswitch));
  EXPECT_FALSE(resolves_locally("xyz-ats.iot.us-east-1.localhost", files.hosts, files.nsswitch));
  // nss-myhostname / nss-resolve implement RFC 6761 for .localhost (not for other names).
  Files resolved("", "hosts: files mymachines resolve [!UNAVAIL=return] dns myhostname\n");
  EXPECT_TRUE(
      resolves_locally("xyz-ats.iot.us-east-1.localhost", resolved.hosts, resolved.nsswitch));
  EXPECT_FALSE(resolves_locally("xyz.example.test", resolved.hosts, resolved.nsswitch));
}

TEST(HostNames, HintNamesTheCauseAndTheFixes) {
  std::string hint = unresolved_name_hint("abc-ats.iot.us-east-1.localhost");
  EXPECT_NE(hint.find("RFC 6761"), std::string::npos);
  EXPECT_NE(hint.find("\"127.0.0.1 abc-ats.iot.us-east-1.localhost\" in /etc/hosts"),
            std::string::npos);
  EXPECT_NE(hint.find("tools/setup.sh --hosts"), std::string::npos);
  EXPECT_NE(hint.find("--endpoint-domain"), std::string::npos);
  EXPECT_EQ(unresolved_name_hint("a.example.test").find("RFC 6761"), std::string::npos);
}

}  // namespace
}  // namespace zt
