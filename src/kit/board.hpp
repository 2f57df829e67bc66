// The emulated boards around the chip: OLED1 Xplained Pro (LED1-3, buttons 1-3) and the SAM G55's
// LED0. Shared by the firmware thread and the control socket; all members are thread-safe.
#pragma once

#include <array>
#include <deque>
#include <mutex>
#include <optional>

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

  // {"led0": "off", "led1": "on", ..., "led0_blinks": 5, "button1": "up", ...}
  nlohmann::json snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::array<bool, 4> leds_{};
  std::array<bool, kButtons + 1> buttons_{};
  int led0_blinks_ = 0;
  std::deque<int> presses_;
};

}  // namespace zt::kit
