// The PC's side of the kit's USB link: 64-byte reports to and from a kit, over the emulated kit's
// socket (K/usb.sock) or a real kit's hidraw node (VID 04D8, PID 0F32), and KitClient, which
// turns method calls into board:app lines and replies into results or errors.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "kit/protocol.hpp"

namespace zt::kit {

class KitLink {
 public:
  virtual ~KitLink() = default;
  virtual Status send_report(const Report& report) = 0;
  // The next report from the kit, waiting at most `timeout`.
  virtual Result<Report> receive_report(std::chrono::milliseconds timeout) = 0;
};

// The emulated kit's SOCK_SEQPACKET socket.
Result<std::unique_ptr<KitLink>> connect_kit_socket(const std::filesystem::path& path);

// An already connected SOCK_SEQPACKET socket (socketpair); the link owns it.
std::unique_ptr<KitLink> kit_link_from_socket(int fd, std::string name);

// A real kit: the first /dev/hidraw* whose HIDIOCGRAWINFO reports VID 04D8 / PID 0F32, or `node`
// when given. Writes carry report id 0 before the 64 bytes, as the HID API does. Untested here:
// there is no kit on this machine.
Result<std::unique_ptr<KitLink>> open_kit_hidraw(const std::filesystem::path& node = {});

class KitClient {
 public:
  explicit KitClient(std::unique_ptr<KitLink> link) : link_(std::move(link)) {}
  // One request/response. A kit error becomes an Error "<method>: kit error <code>: <msg>".
  Result<json> call(const std::string& method, json params = json::object(),
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  std::unique_ptr<KitLink> link_;
  LineAssembler assembler_{kKitPadding};
  int64_t next_id_ = 1;
};

}  // namespace zt::kit
