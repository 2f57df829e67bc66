// A real Registry in a fresh temporary directory per test, for the registry's typed-function tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "cloud/registry/registry.hpp"

namespace zt::cloud::registry::testing {

// How thing_principals names a certificate of this account.
inline constexpr const char* kCertificatePrefix = "arn:aws:iot:us-east-1:123456789012:cert/";

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("zt-registry-" + std::to_string(::getpid()) + "-" + test->test_suite_name() + "-" +
            test->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = Registry::open(dir_ / "registry.db");
    ASSERT_TRUE(opened) << opened.error().message;
    registry_ = std::move(*opened);
  }
  void TearDown() override {
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A 64-hex certificate id that sorts by n.
  static std::string id_of(int n) {
    char text[65];
    std::snprintf(text, sizeof text, "%064x", n);
    return text;
  }
  // A certificate row (the queries never parse the PEM), optionally attached to a new thing.
  void add_device(const std::string& id, const std::string& ca, const char* status,
                  const std::string& thing = "") {
    ASSERT_TRUE(registry_->insert_certificate(
        {.id = id, .pem = "-", .ca_id = ca, .status = status, .creation_date = 1}));
    if (thing.empty()) return;
    ASSERT_TRUE(registry_->insert_thing({.name = thing, .id = thing}));
    ASSERT_TRUE(
        registry_->attach_thing_principal(thing, kCertificatePrefix + id, "NON_EXCLUSIVE_THING"));
  }

  std::filesystem::path dir_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace zt::cloud::registry::testing
