#include "kit/host_link.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/hidraw.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zt::kit {
namespace {

Error errno_error(const std::string& what) {
  return Error{Errc::io, fmt::format("{}: {}", what, std::strerror(errno))};
}

Result<bool> wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd pfd{fd, POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0) return errno_error("poll");
  return ready > 0;
}

class FdLink : public KitLink {
 public:
  FdLink(UniqueFd fd, std::string name, bool report_id)
      : fd_(std::move(fd)), name_(std::move(name)), report_id_(report_id) {}
  Status send_report(const Report& report) override {
    uint8_t buffer[kReportSize + 1];
    size_t length = 0;
    if (report_id_) buffer[length++] = 0;  // report id 0: the kit has a single unnumbered report
    std::memcpy(buffer + length, report.data(), report.size());
    length += report.size();
    ssize_t n = report_id_ ? ::write(fd_.get(), buffer, length)
                           : ::send(fd_.get(), buffer, length, MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(length)) return errno_error("writing to the kit (" + name_ + ")");
    return ok();
  }
  Result<Report> receive_report(std::chrono::milliseconds timeout) override {
    ZT_TRY_ASSIGN(bool readable, wait_readable(fd_.get(), timeout));
    if (!readable) {
      return make_error(Errc::timeout, fmt::format("no reply from the kit ({}) within {} ms", name_,
                                                   timeout.count()));
    }
    Report report{};
    ssize_t n = ::read(fd_.get(), report.data(), report.size());
    if (n < 0) return errno_error("reading from the kit (" + name_ + ")");
    if (n == 0) return make_error(Errc::io, "the kit (" + name_ + ") closed the connection");
    return report;
  }

 private:
  UniqueFd fd_;
  std::string name_;
  bool report_id_;
};

}  // namespace

Result<std::unique_ptr<KitLink>> connect_kit_socket(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof(address.sun_path)) {
    return make_error(Errc::invalid_argument, "socket path too long: " + path.string());
  }
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return errno_error("connecting to the kit at " + path.string() +
                       " (is `ztp kit run` running?)");
  }
  return std::unique_ptr<KitLink>(new FdLink(std::move(fd), path.string(), false));
}

std::unique_ptr<KitLink> kit_link_from_socket(int fd, std::string name) {
  return std::unique_ptr<KitLink>(new FdLink(UniqueFd(fd), std::move(name), false));
}

Result<std::unique_ptr<KitLink>> open_kit_hidraw(const std::filesystem::path& node) {
  std::vector<std::filesystem::path> candidates;
  if (!node.empty()) {
    candidates.push_back(node);
  } else {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/dev", error)) {
      if (entry.path().filename().string().starts_with("hidraw"))
        candidates.push_back(entry.path());
    }
  }
  for (const auto& path : candidates) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) continue;
    hidraw_devinfo info{};
    if (::ioctl(fd.get(), HIDIOCGRAWINFO, &info) == 0 &&
        static_cast<uint16_t>(info.vendor) == kUsbVendorId &&
        static_cast<uint16_t>(info.product) == kUsbProductId) {
      return std::unique_ptr<KitLink>(new FdLink(std::move(fd), path.string(), true));
    }
  }
  return make_error(Errc::not_found,
                    fmt::format("no kit found: no readable /dev/hidraw* with USB id {:04X}:{:04X}",
                                kUsbVendorId, kUsbProductId));
}

Result<json> KitClient::call(const std::string& method, json params,
                             std::chrono::milliseconds timeout) {
  Request request{.method = method, .params = std::move(params), .id = next_id_++};
  for (const auto& report : frame_line(encode_request(request), kHostPadding)) {
    ZT_TRY(link_->send_report(report));
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(Errc::timeout, method + ": no reply from the kit");
    ZT_TRY_ASSIGN(Report report, with_context(link_->receive_report(left), method));
    ZT_TRY_ASSIGN(auto lines, assembler_.feed(report));
    for (const auto& line : lines) {
      ZT_TRY_ASSIGN(Reply reply, with_context(parse_reply(line), method));
      if (reply.id != request.id) continue;  // a late reply to an earlier, timed-out request
      if (reply.error) {
        return make_error(Errc::conflict, fmt::format("{}: kit error {}: {}", method,
                                                      reply.error->code, reply.error->message));
      }
      if (reply.status != 0) {
        return make_error(Errc::conflict,
                          fmt::format("{}: kit status 0x{:02X}", method, reply.status));
      }
      return reply.result;
    }
  }
}

}  // namespace zt::kit
