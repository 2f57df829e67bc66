// ztp cert: Microchip compressed certificates (certdef, compress, decompress, show).
#include <fmt/format.h>

#include <iostream>

#include "atcacert/certdef_from_cert.hpp"
#include "atcacert/codec.hpp"
#include "atcacert/kit_definitions.hpp"
#include "cli/commands.hpp"
#include "common/file.hpp"
#include "common/hex.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"

namespace zt::cli {

namespace {

using namespace zt::atcacert;

// A public key given as 128 hex digits (X‖Y), a PEM public key file, or a certificate file.
Result<crypto::PublicKeyRaw> load_public_key(const std::string& arg) {
  if (arg.size() == 128) {
    if (auto raw = from_hex(arg)) {
      crypto::PublicKeyRaw key{};
      std::copy(raw->begin(), raw->end(), key.begin());
      ZT_TRY(
          with_context(crypto::public_key_from_raw(key), "public key " + arg.substr(0, 8) + "…"));
      return key;
    }
  }
  ZT_TRY_ASSIGN(Bytes content, read_file(arg, crypto::kMaxCertificateBytes));
  std::string_view text = as_chars(content);
  crypto::PkeyPtr key;
  if (text.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos) {
    ZT_TRY_ASSIGN(key, crypto::public_key_from_pem(text, arg));
  } else {
    ZT_TRY_ASSIGN(crypto::X509Ptr cert, crypto::certificate_from_bytes(content, arg));
    ZT_TRY_ASSIGN(key, crypto::certificate_public_key(cert.get()));
  }
  ZT_TRY(crypto::require_p256(key.get(), arg));
  return crypto::public_key_raw(key.get());
}

Result<Bytes> load_certificate_der(const std::string& path) {
  ZT_TRY_ASSIGN(crypto::X509Ptr cert, crypto::load_certificate(path));
  return crypto::certificate_to_der(cert.get());
}

Result<DeviceSerial> parse_device_sn(const std::string& hex) {
  auto bytes = from_hex(hex);
  if (!bytes || bytes->size() != 9) {
    return make_error(Errc::invalid_argument,
                      fmt::format("--device-sn must be 18 hex digits (9 bytes), got '{}'", hex));
  }
  DeviceSerial sn{};
  std::copy(bytes->begin(), bytes->end(), sn.begin());
  return sn;
}

// What the definition stores besides the 72 bytes (stored serial, extra elements), as JSON.
nlohmann::json stored_data_json(const DeviceData& data) {
  nlohmann::json elements = nlohmann::json::object();
  for (const auto& [id, value] : data.elements) elements[id] = to_hex(value);
  return {{"stored_serial", to_hex(data.stored_serial)}, {"elements", elements}};
}

Status read_stored_data(const std::string& path, DeviceData& data) {
  ZT_TRY_ASSIGN(std::string text, read_text_file(path, 1u << 20));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(Errc::parse, fmt::format("{}: not a JSON object", path));
  }
  try {
    ZT_TRY_ASSIGN(data.stored_serial, from_hex(j.value("stored_serial", "")));
    static const nlohmann::json kNoElements = nlohmann::json::object();
    const nlohmann::json& elements = j.contains("elements") ? j.at("elements") : kNoElements;
    for (const auto& [id, value] : elements.items()) {
      ZT_TRY_ASSIGN(data.elements[id], from_hex(value.get<std::string>()));
    }
  } catch (const std::exception& e) {
    return make_error(Errc::parse, fmt::format("{}: {}", path, e.what()));
  }
  return ok();
}

bool stores_more(const CertDef& def) {
  return def.sn_source == SnSource::stored || !def.cert_elements.empty();
}

}  // namespace

void register_cert_commands(CLI::App& app) {
  auto* cert = app.add_subcommand("cert", "Microchip compressed certificates (atcacert)");
  cert->require_subcommand(1);

  // ztp cert certdef
  {
    auto* cmd =
        cert->add_subcommand("certdef", "Build a certificate definition from a sample certificate");
    static std::string from, output, kind, sn_source;
    static int template_id = -1, chain_id = -1;
    cmd->add_option("--from", from, "sample certificate (PEM or DER)")->required();
    cmd->add_option("--kind", kind, "signer or device (default: signer for a CA certificate)");
    cmd->add_option("--template-id", template_id, "template id 0..15 (default 1 signer, 2 device)");
    cmd->add_option("--chain-id", chain_id, "chain id 0..15 (default 0)");
    cmd->add_option("--sn-source", sn_source,
                    "serial source: STORED, PUB_KEY_HASH, DEVICE_SN_HASH, ...");
    cmd->add_option("-o,--output", output, "write the definition JSON here (default: stdout)");
    cmd->callback(run_command([]() -> Status {
      DefinitionOptions options;
      if (kind == "signer")
        options.kind = DefinitionKind::signer;
      else if (kind == "device")
        options.kind = DefinitionKind::device;
      else if (!kind.empty()) {
        return make_error(Errc::invalid_argument, "--kind must be signer or device");
      }
      if (template_id >= 0) options.template_id = template_id;
      if (chain_id >= 0) options.chain_id = chain_id;
      if (!sn_source.empty()) {
        ZT_TRY_ASSIGN(options.sn_source, sn_source_from_string(sn_source));
      }
      ZT_TRY_ASSIGN(Bytes der, load_certificate_der(from));
      ZT_TRY_ASSIGN(CertDef def, with_context(definition_from_certificate(der, options), from));
      std::string json = to_json(def).dump(2) + "\n";
      if (output.empty()) {
        std::cout << json;
        return ok();
      }
      ZT_TRY(write_file_atomic(output, json));
      fmt::print(
          "wrote {}: {} definition, template {}, chain {}, serial source {}, {}-byte template\n",
          output, def.name, def.template_id, def.chain_id, to_string(def.sn_source),
          def.cert_template.size());
      return ok();
    }));
  }

  // ztp cert compress
  {
    auto* cmd = cert->add_subcommand("compress", "Compress a certificate to 72 bytes");
    static std::string def_name, cert_path, output, issuer, device_sn, stored_out;
    cmd->add_option("--def", def_name, "device, signer, or a definition JSON file")->required();
    cmd->add_option("--cert", cert_path, "certificate to compress (PEM or DER)")->required();
    cmd->add_option("--issuer", issuer,
                    "issuer certificate or public key (checks the authority key id)");
    cmd->add_option("--device-sn", device_sn, "ATECC508A serial number, 18 hex digits");
    cmd->add_option("-o,--output", output, "write the 72 bytes here (default: hex on stdout)");
    cmd->add_option(
        "--stored-out", stored_out,
        "write what the definition stores besides the 72 bytes (serial, dates) as JSON");
    cmd->callback(run_command([]() -> Status {
      ZT_TRY_ASSIGN(CertDef def, load_definition(def_name));
      ZT_TRY_ASSIGN(Bytes der, load_certificate_der(cert_path));
      CompressOptions options;
      if (!issuer.empty()) {
        ZT_TRY_ASSIGN(options.issuer_public_key, load_public_key(issuer));
      }
      if (!device_sn.empty()) {
        ZT_TRY_ASSIGN(options.device_sn, parse_device_sn(device_sn));
      }
      ZT_TRY_ASSIGN(DeviceData data, with_context(compress(def, der, options), cert_path));
      if (stores_more(def) && stored_out.empty()) {
        return make_error(Errc::invalid_argument,
                          fmt::format("the {} definition also stores the serial number or "
                                      "full dates: give --stored-out FILE",
                                      def.name));
      }
      if (!stored_out.empty())
        ZT_TRY(write_file_atomic(stored_out, stored_data_json(data).dump(2) + "\n"));
      if (output.empty()) {
        fmt::print("{}\n", to_hex(data.compressed));
      } else {
        ZT_TRY(write_file_atomic(output, ByteView(data.compressed)));
        fmt::print("compressed {} ({} bytes) to {} (72 bytes)\n", cert_path, der.size(), output);
      }
      return ok();
    }));
  }

  // ztp cert decompress
  {
    auto* cmd = cert->add_subcommand("decompress", "Rebuild a certificate from 72 bytes");
    static std::string def_name, compressed_path, public_key, signer_cert, stored, device_sn,
        output;
    static bool der_output = false;
    cmd->add_option("--def", def_name, "device, signer, or a definition JSON file")->required();
    cmd->add_option("--compressed", compressed_path, "the 72-byte compressed certificate")
        ->required();
    cmd->add_option("--public-key", public_key,
                    "subject public key: 128 hex digits (X‖Y), PEM public key or certificate")
        ->required();
    cmd->add_option("--signer-cert,--issuer", signer_cert,
                    "issuer certificate or public key (sets the authority key id)");
    cmd->add_option("--stored", stored, "stored serial / dates JSON (from compress --stored-out)");
    cmd->add_option("--device-sn", device_sn, "ATECC508A serial number, 18 hex digits");
    cmd->add_option("-o,--output", output, "rebuilt certificate (PEM)")->required();
    cmd->add_flag("--der", der_output, "write DER instead of PEM");
    cmd->callback(run_command([]() -> Status {
      ZT_TRY_ASSIGN(CertDef def, load_definition(def_name));
      ZT_TRY_ASSIGN(Bytes compressed, read_file(compressed_path, 4096));
      if (compressed.size() != kCompressedCertSize) {
        return make_error(Errc::parse, fmt::format("{}: a compressed certificate is 72 "
                                                   "bytes, the file has {}",
                                                   compressed_path, compressed.size()));
      }
      DeviceData data;
      std::copy(compressed.begin(), compressed.end(), data.compressed.begin());
      ZT_TRY_ASSIGN(data.subject_public_key, load_public_key(public_key));
      if (!signer_cert.empty()) {
        ZT_TRY_ASSIGN(data.issuer_public_key, load_public_key(signer_cert));
      }
      if (!device_sn.empty()) {
        ZT_TRY_ASSIGN(data.device_sn, parse_device_sn(device_sn));
      }
      if (!stored.empty()) ZT_TRY(read_stored_data(stored, data));
      ZT_TRY_ASSIGN(Bytes der, with_context(decompress(def, data), compressed_path));
      if (der_output) {
        ZT_TRY(write_file_atomic(output, der));
      } else {
        ZT_TRY_ASSIGN(crypto::X509Ptr cert,
                      crypto::certificate_from_der(der, "rebuilt certificate"));
        ZT_TRY_ASSIGN(std::string pem, crypto::certificate_to_pem(cert.get()));
        ZT_TRY(write_file_atomic(output, pem));
      }
      fmt::print("rebuilt {} ({} bytes DER) from {}\n", output, der.size(), compressed_path);
      return ok();
    }));
  }

  // ztp cert show
  {
    auto* cmd = cert->add_subcommand("show", "Show the fields of a compressed certificate");
    static std::string compressed_path, def_name;
    cmd->add_option("--compressed", compressed_path, "the 72-byte compressed certificate")
        ->required();
    cmd->add_option("--def", def_name, "also check it against a definition (device, signer, file)");
    cmd->callback(run_command([]() -> Status {
      ZT_TRY_ASSIGN(Bytes compressed, read_file(compressed_path, 4096));
      ZT_TRY_ASSIGN(CompressedCert cert,
                    with_context(parse_compressed(compressed), compressed_path));
      fmt::print("{}", describe(cert));
      if (!def_name.empty()) {
        ZT_TRY_ASSIGN(CertDef def, load_definition(def_name));
        const bool match = cert.template_id == def.template_id && cert.chain_id == def.chain_id &&
                           cert.sn_source == static_cast<uint8_t>(def.sn_source);
        fmt::print("definition:       {} (template {}, chain {}): {}\n", def.name, def.template_id,
                   def.chain_id, match ? "matches" : "does NOT match");
      }
      return check_format(cert);
    }));
  }
}

}  // namespace zt::cli
