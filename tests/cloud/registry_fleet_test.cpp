// Registry::list_cas_with_devices and list_devices: the console's fleet queries over certificates,
// their things and presence — counts per CA, filters (status, a case-insensitive substring of the
// thing name or certificate id), offset paging with the total, and paging values checked.
#include <gtest/gtest.h>

#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

using testing::kCertificatePrefix;

class RegistryFleetTest : public testing::RegistryFixture {
 protected:
  DevicePage devices(DeviceQuery query) {
    auto page = registry_->list_devices(kCertificatePrefix, query);
    EXPECT_TRUE(page) << page.error().message;
    return page ? *page : DevicePage{};
  }
  static std::vector<std::string> ids(const DevicePage& page) {
    std::vector<std::string> out;
    for (const auto& row : page.items) out.push_back(row.certificate_id);
    return out;
  }
};

TEST_F(RegistryFleetTest, CasAreListedInCreationOrderWithTheirDeviceCounts) {
  for (auto [id, created] : {std::pair{"ca-late", 20.0}, std::pair{"ca-early", 10.0}}) {
    ASSERT_TRUE(registry_->insert_ca({.id = id,
                                      .pem = "-",
                                      .subject = id,
                                      .status = kActive,
                                      .auto_registration = "ENABLE",
                                      .creation_date = created}));
  }
  add_device(id_of(1), "ca-late", kActive);
  add_device(id_of(2), "ca-late", kPendingActivation);
  add_device(id_of(3), "ca-early", kActive);
  add_device(id_of(4), "ca-never-registered", kActive);

  auto cas = registry_->list_cas_with_devices();
  ASSERT_TRUE(cas) << cas.error().message;
  ASSERT_EQ(cas->size(), 2u);
  EXPECT_EQ((*cas)[0].certificate_id, "ca-early");
  EXPECT_EQ((*cas)[0].devices, 1);
  EXPECT_EQ((*cas)[0].creation_date, 10.0);
  EXPECT_EQ((*cas)[1].certificate_id, "ca-late");
  EXPECT_EQ((*cas)[1].devices, 2);
  EXPECT_EQ((*cas)[1].status, kActive);
  EXPECT_EQ((*cas)[1].auto_registration, "ENABLE");
}

TEST_F(RegistryFleetTest, DevicesAreFilteredAndPagedServerSide) {
  ASSERT_TRUE(registry_->transaction([&]() -> Status {
    for (int n = 0; n < 30; ++n) {
      bool pending = n % 3 == 0;  // pending devices have no thing yet
      add_device(id_of(n), "ca", pending ? kPendingActivation : kActive,
                 pending ? "" : "Kit-" + std::to_string(n));
    }
    return ok();
  }));
  ASSERT_TRUE(registry_->append_device_events({{.time_us = 42,
                                                .certificate_id = id_of(4),
                                                .thing_name = {},
                                                .kind = "connected",
                                                .detail = "",
                                                .client_id = "Kit-4",
                                                .presence = PresenceEffect::connected}}));

  auto first = devices({.offset = 0, .limit = 5});
  EXPECT_EQ(first.total, 30);
  EXPECT_EQ(ids(first),
            (std::vector<std::string>{id_of(0), id_of(1), id_of(2), id_of(3), id_of(4)}));
  EXPECT_FALSE(first.items[0].thing_name);
  EXPECT_EQ(first.items[1].thing_name, "Kit-1");
  EXPECT_EQ(first.items[1].ca_certificate_id, "ca");
  EXPECT_FALSE(first.items[1].connected);
  EXPECT_FALSE(first.items[1].last_seen_us);
  EXPECT_TRUE(first.items[4].connected);
  EXPECT_EQ(first.items[4].last_seen_us, 42);

  auto tail = devices({.offset = 28, .limit = 5});
  EXPECT_EQ(tail.total, 30);
  EXPECT_EQ(ids(tail), (std::vector<std::string>{id_of(28), id_of(29)}));
  EXPECT_TRUE(devices({.offset = 30, .limit = 5}).items.empty());

  auto pending = devices({.offset = 0, .limit = 50, .status = kPendingActivation});
  EXPECT_EQ(pending.total, 10);
  for (const auto& row : pending.items) EXPECT_EQ(row.status, kPendingActivation);

  // q: a case-insensitive substring of the thing name (Kit-2, Kit-20, Kit-22…), or of the id.
  auto by_thing = devices({.offset = 0, .limit = 50, .q = "KIT-2"});
  EXPECT_EQ(by_thing.total, 8);  // 2, 20, 22, 23, 25, 26, 28, 29 (21, 24, 27 are pending)
  auto by_id = devices({.offset = 0, .limit = 50, .q = id_of(17).substr(56)});
  ASSERT_EQ(by_id.total, 1);
  EXPECT_EQ(by_id.items[0].certificate_id, id_of(17));
  auto both = devices({.offset = 0, .limit = 50, .q = "kit-2", .status = kActive});
  EXPECT_EQ(both.total, 8);
  EXPECT_EQ(devices({.offset = 0, .limit = 50, .q = "kit-2", .status = kRevoked}).total, 0);
}

TEST_F(RegistryFleetTest, BadPagingIsAnErrorNamingTheValue) {
  auto zero = registry_->list_devices(kCertificatePrefix, {.offset = 0, .limit = 0});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, Errc::invalid_argument);
  EXPECT_NE(zero.error().message.find("limit 0"), std::string::npos);
  auto negative = registry_->list_devices(kCertificatePrefix, {.offset = -5, .limit = 10});
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message.find("offset -5"), std::string::npos);
  EXPECT_FALSE(registry_->list_devices(kCertificatePrefix, {.limit = kMaxPageSize + 1}));
  EXPECT_TRUE(registry_->list_devices(kCertificatePrefix, {.limit = kMaxPageSize}));
}

}  // namespace
}  // namespace zt::cloud::registry
