#include "kit/emulated_kit.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/file.hpp"
#include "common/unique_fd.hpp"
#include "kit/protocol.hpp"
#include "kit/provisioning_handler.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/kit_config.hpp"
#include "secure_element/state_file.hpp"
#include "secure_element/transport.hpp"

namespace zt::kit {
namespace {

Error errno_error(const std::string& what) {
  return Error{Errc::io, fmt::format("{}: {}", what, std::strerror(errno))};
}

Result<UniqueFd> listen_unix(const std::filesystem::path& path, int type) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof(address.sun_path)) {
    return make_error(Errc::invalid_argument, "socket path too long: " + path.string());
  }
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // a stale socket of an earlier run
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("socket " + path.string());
  mode_t old_mask = ::umask(0177);  // the sockets give control of the chip: owner only
  int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::umask(old_mask);
  if (bound != 0 || ::listen(fd.get(), 8) != 0) {
    return errno_error("listening on " + path.string());
  }
  return fd;
}

// Waits for a client until `stop`; empty when stopping.
UniqueFd accept_until(const UniqueFd& listener, const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd pfd{listener.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) > 0) {
      UniqueFd client(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (client) return client;
    }
  }
  return {};
}

void set_timeouts(int fd, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

struct EmulatedKit::State {
  EmulatedKitOptions options;
  std::shared_ptr<se::Emulator> emulator;
  std::shared_ptr<se::Device> device;
  std::shared_ptr<Board> board = std::make_shared<Board>();
  std::unique_ptr<Firmware> firmware;
  std::unique_ptr<ProvisioningHandler> handler;
  UniqueFd usb_fd;
  UniqueFd control_fd;
  UniqueFd pty_fd;
  std::string pty_path;
  std::mutex console_mutex;
  std::ofstream console_log;

  void console(const std::string& line) {
    std::lock_guard lock(console_mutex);
    std::string text = line + "\r\n";
    if (pty_fd) (void)!::write(pty_fd.get(), text.data(), text.size());  // dropped when full
    console_log << line << '\n' << std::flush;
    if (options.echo_console) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    }
  }

  void serve_usb(const std::atomic<bool>& stop);
  void serve_control(const std::atomic<bool>& stop);
  std::string control(const std::string& line);
};

void serve_kit_connection(int client, ProvisioningHandler& handler, const std::atomic<bool>& stop,
                          const std::function<void(const std::string&)>& log) {
  set_timeouts(client, 1);
  LineAssembler assembler(kHostPadding);
  while (!stop) {
    Report report{};
    ssize_t n = ::recv(client, report.data(), report.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) return;
    if (static_cast<size_t>(n) != kReportSize) {
      log(fmt::format("USB: dropped a {}-byte report (HID reports are 64 bytes)", n));
      continue;
    }
    auto lines = assembler.feed(report);
    if (!lines) {
      log("USB: " + lines.error().message);
      assembler = LineAssembler(kHostPadding);
      continue;
    }
    for (const auto& line : *lines) {
      for (const auto& out : frame_line(handler.handle_line(line), kKitPadding)) {
        if (::send(client, out.data(), out.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(out.size()))
          return;
      }
    }
  }
}

void EmulatedKit::State::serve_usb(const std::atomic<bool>& stop) {
  // One host at a time, as one USB device has one host.
  while (UniqueFd client = accept_until(usb_fd, stop)) {
    serve_kit_connection(client.get(), *handler, stop,
                         [this](const std::string& line) { console(line); });
  }
}

std::string EmulatedKit::State::control(const std::string& line) {
  if (line.starts_with("press ")) {
    int button = std::atoi(line.c_str() + 6);
    Status pressed = board->press(button);
    if (!pressed) return "error " + pressed.error().message;
    console(fmt::format("BOARD: button {} pressed", button));
    return "ok";
  }
  if (line == "leds") return board->snapshot().dump();
  if (line == "status") {
    KitStatus status = firmware->status();
    return nlohmann::json{{"state_id", static_cast<int>(status.state)},
                          {"status_code", status.status_code},
                          {"status_msg", status.status_msg}}
        .dump();
  }
  return "error unknown control command '" + line + "' (press N, leds, status)";
}

void EmulatedKit::State::serve_control(const std::atomic<bool>& stop) {
  while (UniqueFd client = accept_until(control_fd, stop)) {
    set_timeouts(client.get(), 2);
    std::string line;
    char c = 0;
    while (line.size() < 256 && ::recv(client.get(), &c, 1, 0) == 1 && c != '\n') {
      line.push_back(c);
    }
    std::string reply = control(line) + "\n";
    (void)::send(client.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
  }
}

Result<std::unique_ptr<EmulatedKit>> EmulatedKit::start(EmulatedKitOptions options) {
  ZT_TRY(ensure_private_directory(options.dir));
  auto state = std::make_unique<State>();
  state->options = options;
  const std::filesystem::path state_path = options.dir / kStateFile;
  ZT_TRY_ASSIGN(se::ChipState chip, se::load_or_create_state(state_path));
  state->emulator = std::make_shared<se::Emulator>(
      std::move(chip),
      [state_path](const se::ChipState& s) { return se::save_state(state_path, s); });
  state->device =
      std::make_shared<se::Device>(std::make_unique<se::InProcessTransport>(state->emulator));
  // What the firmware prints includes the endpoint and the thing name: private, like the dir.
  ZT_TRY(ensure_private_file(options.dir / kConsoleLog));
  state->console_log.open(options.dir / kConsoleLog, std::ios::app);
  if (!state->console_log)
    return make_error(Errc::io, "cannot open " + (options.dir / kConsoleLog).string());

  // The EDBG virtual COM port: a pseudo-terminal in raw mode, non-blocking so that nobody
  // reading it never stalls the firmware.
  state->pty_fd.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  int pty = state->pty_fd.get();
  if (pty < 0 || ::grantpt(pty) != 0 || ::unlockpt(pty) != 0) {
    return errno_error("creating the console pseudo-terminal");
  }
  state->pty_path = ::ptsname(pty);
  termios tio{};
  if (::tcgetattr(pty, &tio) == 0) {
    ::cfmakeraw(&tio);
    ::tcsetattr(pty, TCSANOW, &tio);
  }
  ZT_TRY(write_file_atomic(options.dir / kConsolePath, state->pty_path + "\n", 0600));

  ZT_TRY_ASSIGN(bool configured, state->device->config_locked());
  if (!configured) {
    ZT_TRY(with_context(se::provision(*state->device, chip_config_for(options.firmware.flow)),
                        "configuring the ATECC508A"));
    state->console("ATECC508A: configuration written and locked, device key generated in slot 0");
  }
  if (options.firmware.flash_dir.empty()) options.firmware.flash_dir = options.dir / "flash";

  State* raw = state.get();
  state->firmware =
      std::make_unique<Firmware>(state->device, state->board, options.firmware,
                                 [raw](const std::string& line) { raw->console(line); });
  state->handler = std::make_unique<ProvisioningHandler>(
      state->device,
      HandlerHooks{.credentials_changed = [raw] { raw->firmware->credentials_changed(); },
                   .status = [raw] { return raw->firmware->status(); }},
      options.firmware.flash_dir);
  ZT_TRY_ASSIGN(state->usb_fd, listen_unix(options.dir / kUsbSocket, SOCK_SEQPACKET));
  ZT_TRY_ASSIGN(state->control_fd, listen_unix(options.dir / kControlSocket, SOCK_STREAM));
  return std::unique_ptr<EmulatedKit>(new EmulatedKit(std::move(state)));
}

EmulatedKit::EmulatedKit(std::unique_ptr<State> state) : state_(std::move(state)) {}

EmulatedKit::~EmulatedKit() {
  state_->usb_fd.reset();
  state_->control_fd.reset();
  state_->pty_fd.reset();
  std::error_code ignored;
  std::filesystem::remove(state_->options.dir / kUsbSocket, ignored);
  std::filesystem::remove(state_->options.dir / kControlSocket, ignored);
}

const std::string& EmulatedKit::console_pty() const { return state_->pty_path; }

Status EmulatedKit::run(const std::atomic<bool>& stop) {
  std::thread usb([this, &stop] { state_->serve_usb(stop); });
  std::thread control([this, &stop] { state_->serve_control(stop); });
  state_->firmware->run(stop);
  usb.join();
  control.join();
  return ok();
}

Result<std::string> control_request(const std::filesystem::path& socket, const std::string& line) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket.string().size() >= sizeof(address.sun_path)) {
    return make_error(Errc::invalid_argument, "socket path too long: " + socket.string());
  }
  std::strncpy(address.sun_path, socket.c_str(), sizeof(address.sun_path) - 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("socket");
  set_timeouts(fd.get(), 5);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return errno_error("connecting to the kit's control socket " + socket.string() +
                       " (is `ztp kit run` running?)");
  }
  std::string request = line + "\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return errno_error("writing to " + socket.string());
  }
  std::string reply;
  char c = 0;
  while (reply.size() < 4096 && ::recv(fd.get(), &c, 1, 0) == 1 && c != '\n') {
    reply.push_back(c);
  }
  fd.reset();
  if (reply.empty()) return make_error(Errc::io, "no reply from the kit's control socket");
  if (reply.starts_with("error ")) return make_error(Errc::invalid_argument, reply.substr(6));
  return reply;
}

}  // namespace zt::kit
