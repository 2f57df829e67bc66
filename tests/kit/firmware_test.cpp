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
  EXPECT_EQ(snapshot["thing"], "");
}

TEST(Board, OledShowsStatusLinesThenLedsAndButtons) {
  Board board;
  board.set_oled_status("WiFi: zerotouch-lab", "AWS: connected but this is far too long");
  board.set_led(2, true);
  board.set_button(3, true);
  board.set_thing("abc123");
  auto lines = board.oled();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "WiFi: zerotouch-lab");
  EXPECT_EQ(lines[1], "AWS: connected but th");  // 21 columns
  EXPECT_EQ(lines[2], "L1 off L2 on  L3 off");
  EXPECT_EQ(lines[3], "B1 up  B2 up  B3 dn");
  for (const auto& line : lines) EXPECT_LE(line.size(), Board::kOledColumns);
  auto snapshot = board.snapshot();
  EXPECT_EQ(snapshot["oled"], lines);
  EXPECT_EQ(snapshot["thing"], "abc123");
}

// The firmware on an unprovisioned chip waits, reports it through status(), and stops on request.
TEST(Firmware, WaitsForProvisioningAndStops) {
  fixtures::Chip chip;
  auto device = chip.device;
  std::vector<std::string> lines;
  std::mutex lines_mutex;
  auto board = std::make_shared<Board>();
  Firmware firmware(device, board, FirmwareConfig{}, [&](const std::string& line) {
    std::lock_guard lock(lines_mutex);
    lines.push_back(line);
  });
  std::atomic<bool> stop{false};
  std::thread thread([&] { firmware.run(stop); });
  for (int i = 0; i < 200 && firmware.status().state != KitState::waiting_for_provisioning; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(firmware.status().state, KitState::waiting_for_provisioning);
  EXPECT_EQ(board->oled()[1], "Waiting for USB prov");
  stop = true;
  thread.join();
  std::lock_guard lock(lines_mutex);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_NE(lines[1].find("Waiting for provisioning"), std::string::npos);
  EXPECT_EQ(lines.back(), "Stopped");
}

}  // namespace
}  // namespace zt::kit
