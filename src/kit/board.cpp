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

void Board::set_oled_status(std::string line1, std::string line2) {
  std::lock_guard lock(mutex_);
  oled_line1_ = std::move(line1);
  oled_line2_ = std::move(line2);
}

void Board::set_thing(std::string thing) {
  std::lock_guard lock(mutex_);
  thing_ = std::move(thing);
}

std::vector<std::string> Board::oled() const {
  std::lock_guard lock(mutex_);
  return oled_locked();
}

std::vector<std::string> Board::oled_locked() const {
  auto on_off = [&](int led) { return leds_[static_cast<size_t>(led)] ? "on " : "off"; };
  auto up_down = [&](int b) { return buttons_[static_cast<size_t>(b)] ? "dn" : "up"; };
  std::vector<std::string> lines{
      oled_line1_, oled_line2_,
      std::string("L1 ") + on_off(1) + " L2 " + on_off(2) + " L3 " + on_off(3),
      std::string("B1 ") + up_down(1) + "  B2 " + up_down(2) + "  B3 " + up_down(3)};
  for (auto& line : lines) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.size() > kOledColumns) line.resize(kOledColumns);
  }
  return lines;
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
  out["oled"] = oled_locked();
  out["thing"] = thing_;
  return out;
}

}  // namespace zt::kit
