#include "kit/firmware.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "kit/board.hpp"
#include "kit_fixtures.hpp"

namespace zt::kit {
namespace {

TEST(AccessPoint, ParsesSecurityAndPsk) {
  auto wpa2 = parse_access_point("lab:secret:with:colons");
  ASSERT_TRUE(wpa2);
  EXPECT_EQ(wpa2->ssid, "lab");
  EXPECT_EQ(wpa2->psk, "secret:with:colons");
  EXPECT_EQ(wpa2->security, AccessPoint::Security::wpa2);
  auto open = parse_access_point("cafe::open");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->psk, "");
  EXPECT_EQ(open->security, AccessPoint::Security::open);
  auto enterprise = parse_access_point("corp:pw:enterprise");
  ASSERT_TRUE(enterprise);
  EXPECT_EQ(enterprise->security, AccessPoint::Security::enterprise);
  EXPECT_FALSE(parse_access_point("no-colon"));
  EXPECT_FALSE(parse_access_point(":psk"));
  EXPECT_FALSE(parse_access_point(std::string(33, 's') + ":psk"));
}

TEST(Board, PressesQueueAndSnapshot) {
  Board board;
  EXPECT_FALSE(board.press(0));
  EXPECT_FALSE(board.press(4));
  ASSERT_TRUE(board.press(2));
  ASSERT_TRUE(board.press(1));
  EXPECT_EQ(board.take_press(), 2);
  EXPECT_EQ(board.take_press(), 1);
  EXPECT_EQ(board.take_press(), std::nullopt);
  board.set_led(3, true);
  board.set_button(1, true);
  board.blink_led0(5);
  auto snapshot = board.snapshot();
  EXPECT_EQ(snapshot["led3"], "on");
  EXPECT_EQ(snapshot["led1"], "off");
  EXPECT_EQ(snapshot["button1"], "down");
  EXPECT_EQ(snapshot["led0_blinks"], 5);
}

// The firmware on an unprovisioned chip waits, reports it through status(), and stops on request.
TEST(Firmware, WaitsForProvisioningAndStops) {
  fixtures::Chip chip;
  auto device = chip.device;
  std::vector<std::string> lines;
  std::mutex lines_mutex;
  Firmware firmware(device, std::make_shared<Board>(), FirmwareConfig{},
                    [&](const std::string& line) {
                      std::lock_guard lock(lines_mutex);
                      lines.push_back(line);
                    });
  std::atomic<bool> stop{false};
  std::thread thread([&] { firmware.run(stop); });
  for (int i = 0; i < 200 && firmware.status().state != KitState::waiting_for_provisioning; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(firmware.status().state, KitState::waiting_for_provisioning);
  stop = true;
  thread.join();
  std::lock_guard lock(lines_mutex);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_NE(lines[1].find("Waiting for provisioning"), std::string::npos);
  EXPECT_EQ(lines.back(), "Stopped");
}

}  // namespace
}  // namespace zt::kit
