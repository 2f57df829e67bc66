// The web console (issue 8), served by `ztp cloud run`'s HTTP server on the control plane's port:
// an api::RequestHook that claims /console and /console/* before SigV4.
//
//   GET  /console/, /console/assets/*      the SPA shell and its bundle (no login needed)
//   POST /console/api/login                {"accessKeyId","secretAccessKey"} → session cookie
//   POST /console/api/logout
//   POST /console/api/login-links          SigV4-signed → {"token","url"} (one-time, 120 s)
//   GET  /console/login?token=T&next=P     login link → cookie + redirect to P (inside /console/)
//   POST /console/api/kits                 SigV4-signed {"thingName","controlSocket"}
//   GET  /console/api/stream[?thing=T]     server-sent events (stream_hub.hpp)
//   *    /console/api/…                    the Routes table (device.cpp, fleet.cpp)
//
// Every /console/api/* route but login needs the session cookie (401 otherwise); POST/PUT/DELETE
// also need the header `X-ZT-Console: 1` (403 otherwise): a cross-site form cannot set it, and
// SameSite=Strict alone is not honoured by old browsers.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <thread>

#include "cloud/api/server.hpp"
#include "cloud/console/kits.hpp"
#include "cloud/console/routes.hpp"
#include "cloud/console/session.hpp"
#include "cloud/console/stream_hub.hpp"

namespace zt::cloud::console {

struct ConsoleOptions {
  std::filesystem::path web_dir{};  // index.html + assets/
  std::chrono::milliseconds board_poll{250};
  // How attached kits are reached (the CLI passes cli::EmulatedKitLink); null: not at all.
  std::shared_ptr<const KitLink> kit_link{};
};

class ConsoleServer final : public api::RequestHook {
 public:
  // `cloud` may be null (control plane only: no shadows, no streams of MQTT traffic).
  ConsoleServer(api::ServiceContext& service, service::CloudService* cloud, ConsoleOptions options);
  ~ConsoleServer() override;

  Routes& routes() { return routes_; }
  KitDirectory& kits() { return kits_; }
  StreamHub& hub() { return hub_; }
  SessionStore& sessions() { return sessions_; }
  // Starts the board poller (emulated kits' snapshots → `board` events).
  void start();
  void stop();

  bool claims(std::string_view path) const override;
  api::HookReply handle(const aws::HttpRequest& request, api::ApiServer& server) override;

 private:
  api::HookReply handle_api(const aws::HttpRequest& request, std::string_view path,
                            api::ApiServer& server);
  api::HookReply serve_static(std::string_view path);
  api::HookReply login(const aws::HttpRequest& request);
  api::HookReply login_link(const aws::HttpRequest& request, std::string_view query);
  void poll_boards();

  api::ServiceContext& service_;
  service::CloudService* cloud_;
  ConsoleOptions options_;
  Routes routes_;
  KitDirectory kits_;
  StreamHub hub_;
  SessionStore sessions_;
  ConsoleContext context_;
  boost::asio::thread_pool kit_worker_{1};
  std::mutex poll_mutex_;
  std::condition_variable poll_wake_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace zt::cloud::console
