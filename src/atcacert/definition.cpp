#include "atcacert/definition.hpp"

#include <fmt/format.h>

#include "atcacert/der.hpp"
#include "common/hex.hpp"

namespace zt::atcacert {

namespace {

using nlohmann::json;

struct SnSourceName {
  SnSource source;
  std::string_view name;
};
constexpr SnSourceName kSnSources[] = {
    {SnSource::stored, "STORED"},
    {SnSource::stored_dynamic, "STORED_DYNAMIC"},
    {SnSource::device_sn, "DEVICE_SN"},
    {SnSource::signer_id, "SIGNER_ID"},
    {SnSource::pub_key_hash, "PUB_KEY_HASH"},
    {SnSource::device_sn_hash, "DEVICE_SN_HASH"},
    {SnSource::pub_key_hash_pos, "PUB_KEY_HASH_POS"},
    {SnSource::device_sn_hash_pos, "DEVICE_SN_HASH_POS"},
    {SnSource::pub_key_hash_raw, "PUB_KEY_HASH_RAW"},
    {SnSource::device_sn_hash_raw, "DEVICE_SN_HASH_RAW"},
};

constexpr std::string_view kStdElementNames[kStdElementCount] = {
    "public_key", "signature", "issue_date",  "expire_date",
    "signer_id",  "cert_sn",   "auth_key_id", "subj_key_id"};

std::string_view zone_name(DeviceZone zone) {
  switch (zone) {
    case DeviceZone::config:
      return "CONFIG";
    case DeviceZone::otp:
      return "OTP";
    case DeviceZone::data:
      return "DATA";
    case DeviceZone::none:
      return "NONE";
  }
  return "?";
}

Result<DeviceZone> zone_from_name(std::string_view name) {
  for (DeviceZone z : {DeviceZone::config, DeviceZone::otp, DeviceZone::data, DeviceZone::none}) {
    if (name == zone_name(z)) return z;
  }
  return make_error(Errc::invalid_argument,
                    fmt::format("unknown device zone '{}' (CONFIG, OTP, DATA or NONE)", name));
}

Error bad_def(const CertDef& def, std::string message) {
  return make_error(Errc::invalid_argument,
                    fmt::format("certificate definition '{}': {}", def.name, message));
}

// The largest thing a device location may address: slot 8 (416 bytes) is the largest data slot,
// the config zone is 128 bytes and OTP 64 (ATECC508A datasheet, memory map).
Status validate_device_loc(const CertDef& def, const DeviceLoc& loc, std::string_view what) {
  if (loc.zone == DeviceZone::none) return ok();
  if (loc.zone == DeviceZone::data && (loc.slot < 0 || loc.slot > 15)) {
    return bad_def(def, fmt::format("{} names slot {}, outside 0..15", what, loc.slot));
  }
  const size_t limit = loc.zone == DeviceZone::config ? 128
                       : loc.zone == DeviceZone::otp  ? 64
                                                      : 416;
  if (size_t{loc.offset} + loc.count > limit) {
    return bad_def(def, fmt::format("{} (offset {}, {} bytes) runs past the {}-byte zone", what,
                                    loc.offset, loc.count, limit));
  }
  return ok();
}

json device_loc_json(const DeviceLoc& loc) {
  return {{"zone", zone_name(loc.zone)},
          {"slot", loc.slot},
          {"is_genkey", loc.is_genkey},
          {"offset", loc.offset},
          {"count", loc.count}};
}

json cert_loc_json(const CertLoc& loc) { return {{"offset", loc.offset}, {"count", loc.count}}; }

template <class T>
T get_number(const json& j, const char* key, long min, long max) {
  const json& v = j.at(key);
  if (!v.is_number_integer())
    throw std::invalid_argument(fmt::format("'{}' must be an integer", key));
  long n = v.get<long>();
  if (n < min || n > max) {
    throw std::invalid_argument(fmt::format("'{}' = {} is outside {}..{}", key, n, min, max));
  }
  return static_cast<T>(n);
}

template <class T>
T unwrap(Result<T> result) {
  if (!result) throw std::invalid_argument(result.error().message);
  return std::move(*result);
}

DeviceLoc device_loc_from_json(const json& j) {
  DeviceLoc loc;
  loc.zone = unwrap(zone_from_name(j.at("zone").get<std::string>()));
  loc.slot = get_number<int>(j, "slot", 0, 15);
  loc.is_genkey = j.at("is_genkey").get<bool>();
  loc.offset = get_number<uint16_t>(j, "offset", 0, 0xFFFF);
  loc.count = get_number<uint16_t>(j, "count", 0, 0xFFFF);
  return loc;
}

CertLoc cert_loc_from_json(const json& j) {
  return {get_number<uint16_t>(j, "offset", 0, 0xFFFF),
          get_number<uint16_t>(j, "count", 0, 0xFFFF)};
}

}  // namespace

std::string_view to_string(SnSource source) {
  for (const auto& entry : kSnSources) {
    if (entry.source == source) return entry.name;
  }
  return "?";
}

Result<SnSource> sn_source_from_int(int value) {
  for (const auto& entry : kSnSources) {
    if (static_cast<int>(entry.source) == value) return entry.source;
  }
  return make_error(
      Errc::invalid_argument,
      fmt::format("serial-number source 0x{:X} is not defined (0x0, 0x7..0xF)", value));
}

Result<SnSource> sn_source_from_string(std::string_view name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view n = upper;
  if (n.starts_with("SNSRC_")) n.remove_prefix(6);
  for (const auto& entry : kSnSources) {
    if (n == entry.name) return entry.source;
  }
  if (!n.empty()) {
    int value = 0;
    try {
      size_t used = 0;
      value = std::stoi(std::string(n), &used, 0);
      if (used == n.size()) return sn_source_from_int(value);
    } catch (const std::exception&) {
    }
  }
  return make_error(Errc::invalid_argument,
                    fmt::format("unknown serial-number source '{}' (STORED, DEVICE_SN, SIGNER_ID, "
                                "PUB_KEY_HASH, DEVICE_SN_HASH, ... or its number)",
                                name));
}

std::string_view to_string(StdElement element) {
  return kStdElementNames[static_cast<size_t>(element)];
}

Status validate(const CertDef& def) {
  if (def.template_id < 0 || def.template_id > 15) return bad_def(def, "template id outside 0..15");
  if (def.chain_id < 0 || def.chain_id > 15) return bad_def(def, "chain id outside 0..15");
  if (def.private_key_slot < 0 || def.private_key_slot > 15) {
    return bad_def(def, "private key slot outside 0..15");
  }
  // 0..31 fit compressed format version 0; up to 127 need version 1 (cryptoauthlib v3.7).
  if (def.expire_years < 0 || def.expire_years > 127)
    return bad_def(def, "expire years outside 0..127");
  if (static_cast<int>(def.issue_date_format) > 4 || static_cast<int>(def.expire_date_format) > 4) {
    return bad_def(def, "unknown date format");
  }
  if (def.sn_source == SnSource::stored_dynamic) {
    return make_error(
        Errc::unsupported,
        fmt::format("certificate definition '{}': STORED_DYNAMIC (variable-size) serial "
                    "numbers are not supported",
                    def.name));
  }
  ZT_TRY(sn_source_from_int(static_cast<int>(def.sn_source)));

  const Bytes& t = def.cert_template;
  auto outer = read_tlv(t, 0);
  if (!outer || outer->tag != 0x30 || outer->end() != t.size()) {
    return bad_def(def, "the template is not one DER SEQUENCE spanning all its bytes");
  }
  const CertLoc& sig = def.element(StdElement::signature);
  if (!sig.present() || sig.offset <= outer->header_size || sig.offset >= t.size()) {
    return bad_def(def, "the signature element must lie inside the template, after its header");
  }
  if (t.size() - sig.offset > kMaxSignatureBitStringSize) {
    return bad_def(def, "the template's signature is longer than a P-256 signature can be");
  }
  auto inside = [&](const CertLoc& loc, std::string_view what) -> Status {
    if (!loc.present()) return ok();
    if (loc.offset < outer->header_size || loc.end() > sig.offset) {
      return bad_def(def, fmt::format("{} (offset {}, {} bytes) is not between the template header "
                                      "and the signature at {}",
                                      what, loc.offset, loc.count, sig.offset));
    }
    return ok();
  };
  ZT_TRY(inside(def.tbs_cert_loc, "the TBS location"));
  if (!def.tbs_cert_loc.present()) return bad_def(def, "the TBS location is missing");

  const size_t expected[kStdElementCount] = {
      64, 0, date_size(def.issue_date_format), date_size(def.expire_date_format), 4, 0, 20, 20};
  for (size_t i = 0; i < kStdElementCount; ++i) {
    auto element = static_cast<StdElement>(i);
    if (element == StdElement::signature) continue;
    const CertLoc& loc = def.std_cert_elements[i];
    ZT_TRY(inside(loc, fmt::format("element {}", to_string(element))));
    if (loc.present() && expected[i] != 0 && loc.count != expected[i]) {
      return bad_def(def, fmt::format("element {} has {} bytes, expected {}", to_string(element),
                                      loc.count, expected[i]));
    }
  }
  const CertLoc& sn = def.element(StdElement::cert_sn);
  switch (def.sn_source) {
    case SnSource::stored:
      if (sn.present() && sn.count != def.cert_sn_dev_loc.count) {
        return bad_def(def,
                       "the stored serial's device location and certificate location differ "
                       "in size");
      }
      break;
    case SnSource::device_sn:
      if (sn.present() && sn.count != 10) return bad_def(def, "a DEVICE_SN serial is 10 bytes");
      break;
    case SnSource::signer_id:
      if (sn.present() && sn.count != 3) return bad_def(def, "a SIGNER_ID serial is 3 bytes");
      if (sn.present() && !def.element(StdElement::signer_id).present()) {
        return bad_def(def, "a SIGNER_ID serial needs the signer id element");
      }
      break;
    default:
      if (sn.present() && sn.count > 32) return bad_def(def, "a hashed serial is at most 32 bytes");
      break;
  }
  ZT_TRY(validate_device_loc(def, def.cert_sn_dev_loc, "cert_sn_dev_loc"));
  ZT_TRY(validate_device_loc(def, def.public_key_dev_loc, "public_key_dev_loc"));
  ZT_TRY(validate_device_loc(def, def.comp_cert_dev_loc, "comp_cert_dev_loc"));
  if (def.public_key_dev_loc.present() && def.public_key_dev_loc.count != 64 &&
      def.public_key_dev_loc.count != 72) {
    return bad_def(def, "a public key device location holds 64 bytes (X‖Y) or 72 (padded)");
  }
  if (def.comp_cert_dev_loc.present() && def.comp_cert_dev_loc.count != 72) {
    return bad_def(def, "a compressed certificate device location holds 72 bytes");
  }
  for (const CertElement& e : def.cert_elements) {
    ZT_TRY(inside(e.cert_loc, fmt::format("element '{}'", e.id)));
    ZT_TRY(validate_device_loc(def, e.device_loc, fmt::format("element '{}'", e.id)));
    if (e.device_loc.count != e.cert_loc.count) {
      return bad_def(def, fmt::format("element '{}' has {} device bytes for {} certificate bytes",
                                      e.id, e.device_loc.count, e.cert_loc.count));
    }
  }
  return ok();
}

json to_json(const CertDef& def) {
  json std_elements = json::object();
  for (size_t i = 0; i < kStdElementCount; ++i) {
    std_elements[std::string(kStdElementNames[i])] = cert_loc_json(def.std_cert_elements[i]);
  }
  json elements = json::array();
  for (const CertElement& e : def.cert_elements) {
    elements.push_back({{"id", e.id},
                        {"device_loc", device_loc_json(e.device_loc)},
                        {"cert_loc", cert_loc_json(e.cert_loc)}});
  }
  return {{"name", def.name},
          {"type", "X509"},
          {"template_id", def.template_id},
          {"chain_id", def.chain_id},
          {"private_key_slot", def.private_key_slot},
          {"sn_source", to_string(def.sn_source)},
          {"cert_sn_dev_loc", device_loc_json(def.cert_sn_dev_loc)},
          {"issue_date_format", to_string(def.issue_date_format)},
          {"expire_date_format", to_string(def.expire_date_format)},
          {"tbs_cert_loc", cert_loc_json(def.tbs_cert_loc)},
          {"expire_years", def.expire_years},
          {"public_key_dev_loc", device_loc_json(def.public_key_dev_loc)},
          {"comp_cert_dev_loc", device_loc_json(def.comp_cert_dev_loc)},
          {"std_cert_elements", std_elements},
          {"cert_elements", elements},
          {"cert_template", to_hex(def.cert_template)}};
}

Result<CertDef> definition_from_json(const json& j) {
  CertDef def;
  try {
    if (!j.is_object()) throw std::invalid_argument("not a JSON object");
    def.name = j.value("name", "definition");
    if (j.value("type", "X509") != "X509") {
      throw std::invalid_argument("only X509 certificate definitions are supported");
    }
    def.template_id = get_number<int>(j, "template_id", 0, 15);
    def.chain_id = get_number<int>(j, "chain_id", 0, 15);
    def.private_key_slot = get_number<int>(j, "private_key_slot", 0, 15);
    def.sn_source = unwrap(sn_source_from_string(j.at("sn_source").get<std::string>()));
    def.cert_sn_dev_loc = device_loc_from_json(j.at("cert_sn_dev_loc"));
    def.issue_date_format =
        unwrap(date_format_from_string(j.at("issue_date_format").get<std::string>()));
    def.expire_date_format =
        unwrap(date_format_from_string(j.at("expire_date_format").get<std::string>()));
    def.tbs_cert_loc = cert_loc_from_json(j.at("tbs_cert_loc"));
    def.expire_years = get_number<int>(j, "expire_years", 0, 127);
    def.public_key_dev_loc = device_loc_from_json(j.at("public_key_dev_loc"));
    def.comp_cert_dev_loc = device_loc_from_json(j.at("comp_cert_dev_loc"));
    const json& std_elements = j.at("std_cert_elements");
    for (size_t i = 0; i < kStdElementCount; ++i) {
      def.std_cert_elements[i] =
          cert_loc_from_json(std_elements.at(std::string(kStdElementNames[i])));
    }
    for (const json& e : j.value("cert_elements", json::array())) {
      def.cert_elements.push_back({e.at("id").get<std::string>(),
                                   device_loc_from_json(e.at("device_loc")),
                                   cert_loc_from_json(e.at("cert_loc"))});
    }
    def.cert_template = unwrap(from_hex(j.at("cert_template").get<std::string>()));
  } catch (const std::exception& e) {
    return make_error(Errc::parse, fmt::format("certificate definition JSON: {}", e.what()));
  }
  ZT_TRY(validate(def));
  return def;
}

Result<CertDef> definition_from_json_text(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(Errc::parse, "certificate definition is not valid JSON");
  return definition_from_json(j);
}

}  // namespace zt::atcacert
