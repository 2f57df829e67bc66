#include "kit/board.hpp"

#include <string>

namespace zt::kit {

Status Board::press(int button) {
  if (button < 1 || button > kButtons) {
    return make_error(Errc::invalid_argument,
                      "button " + std::to_string(button) + " does not exist (1-3)");
  }
  std::lock_guard lock(mutex_);
  if (presses_.size() >= 64) return make_error(Errc::conflict, "too many queued button presses");
  presses_.push_back(button);
  return ok();
}

std::optional<int> Board::take_press() {
  std::lock_guard lock(mutex_);
  if (presses_.empty()) return std::nullopt;
  int button = presses_.front();
  presses_.pop_front();
  return button;
}

void Board::set_led(int led, bool on) {
  std::lock_guard lock(mutex_);
  if (led >= 0 && led < 4) leds_[static_cast<size_t>(led)] = on;
}

bool Board::led(int led) const {
  std::lock_guard lock(mutex_);
  return led >= 0 && led < 4 && leds_[static_cast<size_t>(led)];
}

void Board::blink_led0(int times) {
  std::lock_guard lock(mutex_);
  led0_blinks_ += times;
}

void Board::set_button(int button, bool down) {
  std::lock_guard lock(mutex_);
  if (button >= 1 && button <= kButtons) buttons_[static_cast<size_t>(button)] = down;
}

bool Board::button(int button) const {
  std::lock_guard lock(mutex_);
  return button >= 1 && button <= kButtons && buttons_[static_cast<size_t>(button)];
}

nlohmann::json Board::snapshot() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (int led = 0; led < 4; ++led) {
    out["led" + std::to_string(led)] = leds_[static_cast<size_t>(led)] ? "on" : "off";
  }
  out["led0_blinks"] = led0_blinks_;
  for (int button = 1; button <= kButtons; ++button) {
    out["button" + std::to_string(button)] = buttons_[static_cast<size_t>(button)] ? "down" : "up";
  }
  return out;
}

}  // namespace zt::kit
