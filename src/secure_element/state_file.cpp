#include "secure_element/state_file.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/file.hpp"
#include "common/hex.hpp"

namespace zt::se {

namespace {

constexpr const char* format_name = "zerotouch-atecc508a-state";

template <size_t N>
Status hex_into(const nlohmann::json& doc, const char* field, std::array<uint8_t, N>& out,
                std::string_view what) {
  if (!doc.contains(field) || !doc[field].is_string()) {
    return make_error(Errc::parse, fmt::format("{}: missing string field \"{}\"", what, field));
  }
  auto bytes = from_hex(doc[field].get<std::string>());
  if (!bytes || bytes->size() != N) {
    return make_error(Errc::parse,
                      fmt::format("{}: field \"{}\" must be {} bytes of hex", what, field, N));
  }
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return ok();
}

}  // namespace

std::string encode_state(const ChipState& state) {
  nlohmann::json doc;
  doc["format"] = format_name;
  doc["version"] = state_file_version;
  doc["config"] = to_hex(state.config);
  doc["otp"] = to_hex(state.otp);
  nlohmann::json slots = nlohmann::json::array();
  for (const Bytes& slot : state.slots) slots.push_back(to_hex(slot));
  doc["slots"] = std::move(slots);
  return doc.dump(1) + "\n";
}

Result<ChipState> decode_state(std::string_view json, std::string_view what) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return make_error(Errc::parse, fmt::format("{}: not a JSON object", what));
  if (doc.value("format", "") != format_name) {
    return make_error(Errc::parse, fmt::format("{}: \"format\" is not \"{}\"", what, format_name));
  }
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"].get<int>() != state_file_version) {
    return make_error(Errc::unsupported,
                      fmt::format("{}: unsupported version (this build reads version {})", what,
                                  state_file_version));
  }
  ChipState state;
  ZT_TRY(hex_into(doc, "config", state.config, what));
  ZT_TRY(hex_into(doc, "otp", state.otp, what));
  if (!doc.contains("slots") || !doc["slots"].is_array() || doc["slots"].size() != slot_count) {
    return make_error(Errc::parse, fmt::format("{}: \"slots\" must be an array of {} hex strings",
                                               what, slot_count));
  }
  for (unsigned slot = 0; slot < slot_count; ++slot) {
    const auto& item = doc["slots"][slot];
    auto bytes = item.is_string() ? from_hex(item.get<std::string>())
                                  : Result<Bytes>(make_error(Errc::parse, ""));
    if (!bytes || bytes->size() != slot_size(slot)) {
      return make_error(Errc::parse, fmt::format("{}: slot {} must be {} bytes of hex", what, slot,
                                                 slot_size(slot)));
    }
    state.slots[slot] = std::move(*bytes);
  }
  return state;
}

Result<ChipState> load_state(const std::filesystem::path& path) {
  ZT_TRY_ASSIGN(std::string text, read_text_file(path, 1u << 20));
  auto state = decode_state(text, path.string());
  secure_zero(text.data(), text.size());
  return state;
}

Status save_state(const std::filesystem::path& path, const ChipState& state) {
  std::string text = encode_state(state);
  Status saved = write_file_atomic(path, text, 0600);
  secure_zero(text.data(), text.size());
  return saved;
}

Result<ChipState> load_or_create_state(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return load_state(path);
  ChipState chip = blank_chip();
  ZT_TRY(save_state(path, chip));
  return chip;
}

}  // namespace zt::se
