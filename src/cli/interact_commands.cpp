// `ztp interact`: the seed's aws_interact_gui, as a link to the web console's device page. Reads
// the thing name from kit-info.json (written by `ztp kit provision`), attaches the emulated kit
// (its control socket) so the page shows the virtual board, asks the cloud for a one-time login
// link (SigV4-signed like any AWS call: whoever holds the account's keys may log in) and prints
// the device page's URL; --open hands it to a browser when one is installed.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "aws/iot_client.hpp"
#include "cli/commands.hpp"
#include "cli/steps.hpp"
#include "common/file.hpp"
#include "kit/emulated_kit.hpp"
#include "kit/pc_tools.hpp"

extern char** environ;

namespace zt::cli {
namespace {

struct InteractOptions {
  std::string dir = ".";
  std::string kit_dir;
  std::string thing;
  std::optional<std::string> endpoint_url;
  std::optional<std::string> region;
  std::optional<std::string> profile;
  bool open = false;
};

Result<std::string> thing_from_kit_info(const std::filesystem::path& dir) {
  auto path = dir / kit::kKitInfoFile;
  if (!std::filesystem::exists(path)) {
    return make_error(Errc::not_found, path.string() +
                                           " does not exist: provision the kit first (ztp kit "
                                           "provision) or name the thing with --thing");
  }
  ZT_TRY_ASSIGN(std::string text, read_text_file(path, 1 << 20));
  auto info = nlohmann::json::parse(text, nullptr, false);
  if (!info.is_object()) return make_error(Errc::parse, path.string() + " is not a JSON object");
  auto thing = info.find("thing_name");
  if (thing == info.end() || !thing->is_string() || thing->get<std::string>().empty()) {
    return make_error(Errc::not_found, path.string() +
                                           " has no thing_name: provision the kit first (ztp "
                                           "kit provision)");
  }
  return thing->get<std::string>();
}

std::optional<std::string> find_browser() {
  for (const char* candidate : {"/usr/bin/xdg-open", "/usr/bin/chromium", "/usr/bin/firefox"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// Starts the browser without waiting for it (it outlives this command).
Status open_in_browser(const std::string& browser, const std::string& url) {
  std::vector<char*> argv{const_cast<char*>(browser.c_str()), const_cast<char*>(url.c_str()),
                          nullptr};
  pid_t pid = 0;
  if (int rc = ::posix_spawn(&pid, browser.c_str(), nullptr, nullptr, argv.data(), environ);
      rc != 0) {
    return make_error(Errc::io, "starting " + browser + ": " + std::strerror(rc));
  }
  return ok();
}

}  // namespace

Result<std::string> console_device_link(aws::IotClient& cloud, const std::string& thing,
                                        const std::string& kit_dir) {
  if (!kit_dir.empty()) {
    auto socket = std::filesystem::absolute(kit_dir) / kit::kControlSocket;
    nlohmann::json body = {{"thingName", thing}, {"controlSocket", socket.string()}};
    ZT_TRY(with_context(cloud.call("POST", "/console/api/kits", {}, &body),
                        "attaching the kit to the console"));
    fmt::print("kit {} attached as the virtual board of {}\n", kit_dir, thing);
  }
  nlohmann::json request = {{"next", "/console/#/device/" + thing}};
  ZT_TRY_ASSIGN(nlohmann::json link,
                with_context(cloud.call("POST", "/console/api/login-links", {}, &request),
                             "getting a console login link"));
  std::string url = link.value("url", std::string());
  if (url.empty()) return make_error(Errc::parse, "the cloud sent no login link");
  return url;
}

namespace {

Status interact(const InteractOptions& options) {
  std::string thing = options.thing;
  if (thing.empty()) {
    ZT_TRY_ASSIGN(thing, thing_from_kit_info(options.dir));
  }
  ZT_TRY_ASSIGN(aws::ClientConfig config,
                aws::load_client_config({options.profile, options.region, options.endpoint_url}));
  if (config.endpoint_url.empty()) {
    return make_error(Errc::invalid_argument,
                      "the web console is served by the local cloud: give its address with "
                      "--endpoint-url http://HOST:PORT (or AWS_ENDPOINT_URL)");
  }
  aws::IotClient cloud(config);
  ZT_TRY_ASSIGN(std::string url, console_device_link(cloud, thing, options.kit_dir));
  fmt::print("device page of {} (one-time link, valid 120 s):\n{}\n", thing, url);
  if (options.open) {
    if (auto browser = find_browser()) {
      ZT_TRY(open_in_browser(*browser, url));
      fmt::print("opened with {}\n", *browser);
    } else {
      fmt::print("no browser found (xdg-open, chromium, firefox): open the link yourself\n");
    }
  }
  return ok();
}

}  // namespace

void register_interact_command(CLI::App& app) {
  auto options = std::make_shared<InteractOptions>();
  auto* command = app.add_subcommand(
      "interact", "Print (or --open) the web console's device page of the provisioned kit");
  command->add_option("--dir", options->dir, "working directory with kit-info.json")
      ->capture_default_str();
  command->add_option("--kit-dir", options->kit_dir,
                      "the emulated kit's directory: show its board on the page");
  command->add_option("--thing", options->thing, "thing name (default: from kit-info.json)");
  command->add_option("--endpoint-url", options->endpoint_url,
                      "the local cloud, e.g. http://127.0.0.1:4580 (default: AWS_ENDPOINT_URL)");
  command->add_option("--region", options->region, "Region (default: AWS_REGION / profile)");
  command->add_option("--profile", options->profile, "Profile in ~/.aws/credentials and config");
  command->add_flag("--open", options->open, "open the link with xdg-open or chromium if present");
  command->callback(run_command([options] { return interact(*options); }));
}

}  // namespace zt::cli
