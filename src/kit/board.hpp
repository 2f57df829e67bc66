// The emulated boards around the chip: OLED1 Xplained Pro (LED1-3, buttons 1-3, a 128×32 OLED)
// and the SAM G55's LED0. Shared by the firmware thread and the control socket; all members are
// thread-safe.
#pragma once

#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace zt::kit {

class Board {
 public:
  static constexpr int kButtons = 3;

  // A press of button 1..3, queued for the firmware (which toggles and publishes).
  Status press(int button);
  std::optional<int> take_press();

  void set_led(int led, bool on);  // 0..3
  bool led(int led) const;
  void blink_led0(int times);  // recorded, not timed: the count is what tests and users see
  void set_button(int button, bool down);
  bool button(int button) const;  // 1..3: the toggled "down" state

  // The OLED's two status lines, written by the firmware (Wi-Fi / cloud state, as the seed's
  // firmware shows them); the display's last two lines show the LEDs and buttons. 4 lines of 21
  // characters (128×32 pixels, 6×8 font): longer text is cut.
  static constexpr size_t kOledColumns = 21;
  void set_oled_status(std::string line1, std::string line2);
  std::vector<std::string> oled() const;
  // The thing name (MQTT client id) the firmware runs as, once provisioned ("" before).
  void set_thing(std::string thing);

  // {"led0": "off", "led1": "on", ..., "led0_blinks": 5, "button1": "up", ...,
  //  "oled": ["…", "…", "…", "…"], "thing": "<name>"}
  nlohmann::json snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::array<bool, 4> leds_{};
  std::array<bool, kButtons + 1> buttons_{};
  int led0_blinks_ = 0;
  std::deque<int> presses_;
  std::string oled_line1_ = "Zero Touch Kit";
  std::string oled_line2_ = "starting";
  std::string thing_;
  std::vector<std::string> oled_locked() const;
};

}  // namespace zt::kit
