#include "kit/flash.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "common/file.hpp"
#include "kit/flow.hpp"

namespace zt::kit {

namespace {

using nlohmann::json;
constexpr size_t kMaxRecordSize = 64 * 1024;

Result<std::optional<json>> read_record(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<json>{};
  ZT_TRY_ASSIGN(std::string text, read_text_file(path, kMaxRecordSize));
  auto record = json::parse(text, nullptr, false);
  if (!record.is_object()) {
    return make_error(Errc::parse,
                      fmt::format("{}: not a JSON object (corrupted flash?)", path.string()));
  }
  return std::optional<json>(std::move(record));
}

Result<std::string> field(const json& record, const char* name, const std::filesystem::path& path) {
  if (!record.contains(name) || !record[name].is_string() ||
      record[name].get_ref<const std::string&>().empty()) {
    return make_error(Errc::parse, fmt::format("{}: \"{}\" missing", path.string(), name));
  }
  return record[name].get<std::string>();
}

}  // namespace

Result<std::optional<ClaimRecord>> KitFlash::claim() const {
  const auto path = dir_ / "claim.json";
  ZT_TRY_ASSIGN(auto record, read_record(path));
  if (!record) return std::optional<ClaimRecord>{};
  ClaimRecord claim;
  ZT_TRY_ASSIGN(claim.certificate_pem, field(*record, "certificatePem", path));
  ZT_TRY_ASSIGN(claim.template_name, field(*record, "templateName", path));
  return std::optional<ClaimRecord>(std::move(claim));
}

Status KitFlash::save_claim(const ClaimRecord& claim) const {
  ZT_TRY(ensure_directory(dir_, 0700));
  json record{{"certificatePem", claim.certificate_pem}, {"templateName", claim.template_name}};
  return write_file_atomic(dir_ / "claim.json", record.dump(1), 0600);
}

Result<std::optional<IdentityRecord>> KitFlash::identity() const {
  const auto path = dir_ / "identity.json";
  ZT_TRY_ASSIGN(auto record, read_record(path));
  if (!record) return std::optional<IdentityRecord>{};
  IdentityRecord identity;
  ZT_TRY_ASSIGN(identity.certificate_pem, field(*record, "certificatePem", path));
  ZT_TRY_ASSIGN(identity.thing_name, field(*record, "thingName", path));
  ZT_TRY_ASSIGN(identity.certificate_id, field(*record, "certificateId", path));
  ZT_TRY_ASSIGN(identity.flow, field(*record, "flow", path));
  const json& slot = (*record)["keySlot"];
  if (!slot.is_number_unsigned() || slot.get<unsigned>() >= 16) {
    return make_error(Errc::parse, path.string() + ": \"keySlot\" is not a slot number");
  }
  identity.key_slot = slot.get<unsigned>();
  return std::optional<IdentityRecord>(std::move(identity));
}

Status KitFlash::save_identity(const IdentityRecord& identity) const {
  ZT_TRY(ensure_directory(dir_, 0700));
  json record{{"certificatePem", identity.certificate_pem},
              {"certificateId", identity.certificate_id},
              {"thingName", identity.thing_name},
              {"keySlot", identity.key_slot},
              {"flow", identity.flow}};
  return write_file_atomic(dir_ / "identity.json", record.dump(1), 0600);
}

Status KitFlash::clear() const {
  std::error_code ec;
  for (const char* name : {"claim.json", "identity.json"}) {
    std::filesystem::remove(dir_ / name, ec);
    if (ec)
      return make_error(Errc::io, fmt::format("{}: {}", (dir_ / name).string(), ec.message()));
  }
  return ok();
}

Result<Bytes> KitFlash::io_protection_key(se::Device& device) const {
  const auto path = dir_ / "io-protection.key";
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    ZT_TRY_ASSIGN(Bytes key, read_file(path, 64));
    if (key.size() != 32) return make_error(Errc::parse, path.string() + ": not 32 bytes");
    return key;
  }
  ZT_TRY(ensure_directory(dir_, 0700));
  Bytes key(32);
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
    return make_error(Errc::crypto, "RAND_bytes failed");
  // The chip first, then the MCU's copy: a failed write leaves no key the chip does not have.
  ZT_TRY(with_context(device.write_slot(kIoProtectionKeySlot, key),
                      "writing the I/O protection key to slot 4"));
  ZT_TRY(write_file_atomic(path, ByteView(key), 0600));
  return key;
}

}  // namespace zt::kit
