// Emulated kits the console can show as a virtual board: attached by `ztp interact --kit-dir K`
// (SigV4-signed POST /console/api/kits with the thing name) or `ztp cloud run --kit-dir K` (the
// thing name is learnt from the kit's board snapshot once it is provisioned). The console talks
// to a kit only through its control socket K/control.sock (`leds`, `status`, `press N`), the same
// line protocol `ztp kit leds|press` uses. Calls block (up to the socket's 5 s timeout): callers
// run them off the network threads.
//
// The cloud does not know the kit (src/LAYERS keeps them apart): the socket's protocol comes
// through a KitLink, which the CLI implements over src/kit (cli/kit_link.hpp) and passes in.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::console {

// How the console reaches an emulated kit.
class KitLink {
 public:
  virtual ~KitLink() = default;
  // The control socket inside a kit's directory (`ztp kit run --dir K`).
  virtual std::filesystem::path control_socket(const std::filesystem::path& kit_dir) const = 0;
  // One request line on a control socket and its one-line reply; blocks up to the socket timeout.
  virtual Result<std::string> request(const std::filesystem::path& control_socket,
                                      const std::string& line) const = 0;
};

class KitDirectory {
 public:
  // Without a link, kits can be attached but not reached (their board calls fail).
  explicit KitDirectory(std::shared_ptr<const KitLink> link) : link_(std::move(link)) {}

  void attach(const std::string& thing, const std::filesystem::path& control_socket);
  void attach_dir(const std::filesystem::path& kit_dir);
  // The control socket of `thing`'s kit. `resolve`: ask kit directories whose thing is not known
  // yet first (blocking socket calls; not on the registry worker).
  std::optional<std::filesystem::path> socket_of(const std::string& thing, bool resolve = true);
  // Asks kit directories whose thing is not known yet (the board poller does, periodically).
  void resolve_pending();
  // {"leds": …, "oled": [...], "buttons": …} merged snapshot + firmware status.
  Result<nlohmann::json> board(const std::string& thing);
  Status press(const std::string& thing, int button);

 private:
  Result<std::string> request(const std::filesystem::path& socket, const std::string& line) const;

  std::shared_ptr<const KitLink> link_;
  std::mutex mutex_;
  std::map<std::string, std::filesystem::path> by_thing_;
  std::vector<std::filesystem::path> pending_dirs_;  // control sockets of not yet known things
};

}  // namespace zt::cloud::console
