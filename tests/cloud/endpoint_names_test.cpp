// The endpoint names and the broker's SNI rule (cloud/endpoint_names.hpp).
#include "cloud/endpoint_names.hpp"

#include <gtest/gtest.h>

namespace zt::cloud {
namespace {

TEST(EndpointNames, BothDataNamesOfEveryDomain) {
  EndpointNames names("abc", "us-east-1", {"iot.example.test"});
  EXPECT_EQ(names.primary_domain(), "iot.example.test");
  EXPECT_EQ(names.ats_name(names.primary_domain()), "abc-ats.iot.us-east-1.iot.example.test");
  EXPECT_EQ(names.legacy_name(names.primary_domain()), "abc.iot.us-east-1.iot.example.test");
  EXPECT_EQ(names.host_names(),
            (std::vector<std::string>{
                "abc-ats.iot.us-east-1.iot.example.test", "abc.iot.us-east-1.iot.example.test",
                "abc-ats.iot.us-east-1.localhost", "abc.iot.us-east-1.localhost", "localhost"}));
  // The built-in domain alone is not repeated.
  EXPECT_EQ(EndpointNames("abc", "us-east-1").domains(), (std::vector<std::string>{"localhost"}));
}

TEST(EndpointNames, SniRule) {
  EndpointNames names("abc", "us-east-1", {"iot.example.test"});
  for (const char* accepted :
       {"abc-ats.iot.us-east-1.localhost", "abc.iot.us-east-1.localhost",
        "ABC.IOT.US-EAST-1.LOCALHOST", "abc-ats.iot.us-east-1.iot.example.test",
        "abc.iot.us-east-1.iot.example.test", "localhost", ""}) {
    EXPECT_TRUE(names.accepts(accepted, "127.0.0.1")) << accepted;
  }
  for (const char* refused :
       {"xyz-ats.iot.us-east-1.localhost", "abc-ats.iot.eu-west-1.localhost",
        "abc.jobs.iot.us-east-1.localhost", "abc-ats.iot.us-east-1.localhost.", "example.test",
        "127.0.0.2", "::1", "1.2.3.4"}) {
    EXPECT_FALSE(names.accepts(refused, "127.0.0.1")) << refused;
  }
  // An IP literal is accepted when it is the address the connection arrived at.
  EXPECT_TRUE(names.accepts("127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(names.accepts("127.0.0.2", "127.0.0.2"));
  EXPECT_TRUE(names.accepts("::1", "::1"));
  EXPECT_TRUE(names.accepts("127.0.0.1", "::ffff:127.0.0.1"));
  EXPECT_FALSE(names.accepts("127.0.0.1", ""));
  EXPECT_NE(names.accepted_list().find("abc.iot.us-east-1.localhost"), std::string::npos);
}

TEST(EndpointNames, DomainValidation) {
  EXPECT_TRUE(validate_endpoint_domain("iot.example.test"));
  EXPECT_TRUE(validate_endpoint_domain("localhost"));
  EXPECT_TRUE(validate_endpoint_domain("a-b.c9"));
  for (const char* bad : {"", "example", "Example.test", "exa_mple.test", "-a.test", "a-.test",
                          "a..test", ".a.test", "a.test.", "127.0.0.1", "::1", "a.b c"}) {
    EXPECT_FALSE(validate_endpoint_domain(bad)) << bad;
  }
  EXPECT_FALSE(validate_endpoint_domain(std::string(81, 'a')));
}

}  // namespace
}  // namespace zt::cloud
