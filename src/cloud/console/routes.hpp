// The console's JSON API table: `/console/api/...` routes added by the device page (device.cpp)
// and the fleet view (fleet.cpp). Patterns and matching are api::Router's ("{name}" segments,
// percent-decoded). A handler runs after the session and CSRF checks, off the network threads:
// registry routes inside one registry transaction on the registry worker (like the AWS
// handlers), kit routes on the console's own worker (they wait on a kit's control socket).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cloud/api/router.hpp"
#include "cloud/api/service.hpp"

namespace zt::cloud::service {
class CloudService;
}

namespace zt::cloud::console {

class KitDirectory;
class StreamHub;

// What every console handler sees.
struct ConsoleContext {
  api::ServiceContext& service;            // registry, account, region
  service::CloudService* cloud = nullptr;  // data plane (shadows); null = control plane only
  KitDirectory& kits;
  StreamHub& hub;
};

struct ConsoleRequest {
  const aws::HttpRequest* http = nullptr;
  std::map<std::string, std::string> path{};                 // decoded path parameters
  std::vector<std::pair<std::string, std::string>> query{};  // decoded, in order

  std::optional<std::string> query_value(std::string_view name) const;
  const std::string& body() const { return http->body; }
};

using ConsoleHandler = std::function<api::Reply(ConsoleContext&, const ConsoleRequest&)>;

// The JSON answers of the console API: {"message": ...} on errors.
api::Reply console_json(const nlohmann::json& body, int status = 200);
api::Reply console_error(int status, std::string_view message);

class Routes {
 public:
  enum class Runs { registry, kit };
  // pattern relative to the site root, e.g. "/console/api/devices/{thing}".
  void add(std::string_view method, std::string_view pattern, ConsoleHandler handler,
           Runs runs = Runs::registry);

  struct Match {
    const ConsoleHandler* handler = nullptr;
    Runs runs = Runs::registry;
    std::map<std::string, std::string> path;
    bool path_known = false;
  };
  Match match(std::string_view method, std::string_view raw_path) const;

 private:
  api::Router router_;  // operation = index into handlers_
  std::vector<std::pair<ConsoleHandler, Runs>> handlers_;
};

// The device page's routes (device.cpp).
void add_device_routes(Routes& routes);

}  // namespace zt::cloud::console
