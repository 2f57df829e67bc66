#include "secure_element/unix_socket.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/hex.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "secure_element/emulator.hpp"
#include "secure_element/packet.hpp"

namespace zt::se {

namespace {

constexpr size_t max_message = 256;
constexpr int reply_timeout_ms = 10000;

Error socket_error(const std::filesystem::path& path, const char* what, int err) {
  return make_error(Errc::io, fmt::format("secure element socket {}: {}: {}", path.string(), what,
                                          std::strerror(err)));
}

Result<sockaddr_un> socket_address(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof(address.sun_path)) {
    return make_error(Errc::invalid_argument,
                      fmt::format("socket path too long ({} bytes): {}", text.size(), text));
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

bool send_all(int fd, ByteView message) {
  for (;;) {
    const ssize_t n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<size_t>(n) == message.size();
    if (errno != EINTR) return false;
  }
}

}  // namespace

// --- client ---

Result<std::unique_ptr<UnixSocketTransport>> UnixSocketTransport::connect(
    const std::filesystem::path& path) {
  ZT_TRY_ASSIGN(sockaddr_un address, socket_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return socket_error(path, "socket", errno);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return socket_error(path, "cannot connect", errno);
  }
  return std::unique_ptr<UnixSocketTransport>(new UnixSocketTransport(fd.release()));
}

UnixSocketTransport::~UnixSocketTransport() = default;

Status UnixSocketTransport::send(ByteView message) {
  if (!send_all(fd_.get(), message))
    return make_error(Errc::io,
                      fmt::format("secure element socket: send: {}", std::strerror(errno)));
  return ok();
}

Result<Bytes> UnixSocketTransport::receive() {
  pollfd pfd{fd_.get(), POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&pfd, 1, reply_timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) return make_error(Errc::timeout, "secure element socket: no reply within 10 s");
  Bytes buffer(max_message);
  ssize_t n = 0;
  do {
    n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return make_error(Errc::io,
                      fmt::format("secure element socket: receive: {}", std::strerror(errno)));
  if (n == 0) return make_error(Errc::io, "secure element socket: server closed the connection");
  buffer.resize(static_cast<size_t>(n));
  return buffer;
}

Status UnixSocketTransport::wake() {
  const uint8_t message[1] = {socket_wake};
  ZT_TRY(send(message));
  ZT_TRY_ASSIGN(Bytes answer, receive());
  if (answer != wake_response())
    return make_error(Errc::io, "secure element: unexpected wake answer " + to_hex(answer));
  return ok();
}

Status UnixSocketTransport::idle() {
  const uint8_t message[1] = {word_address::idle};
  return send(message);
}

Status UnixSocketTransport::sleep() {
  const uint8_t message[1] = {word_address::sleep};
  return send(message);
}

Result<Bytes> UnixSocketTransport::execute(ByteView command_packet) {
  Bytes message;
  message.reserve(command_packet.size() + 1);
  message.push_back(word_address::command);
  message.insert(message.end(), command_packet.begin(), command_packet.end());
  ZT_TRY(send(message));
  ZT_TRY_ASSIGN(Bytes reply, receive());
  if (reply.size() == 1 && reply[0] == socket_nack) {
    return make_error(Errc::io, "secure element did not acknowledge (asleep: wake it first)");
  }
  return reply;
}

// --- server ---

Result<std::unique_ptr<SocketServer>> SocketServer::listen(std::shared_ptr<Emulator> emulator,
                                                           const std::filesystem::path& path) {
  ZT_TRY_ASSIGN(sockaddr_un address, socket_address(path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return socket_error(path, "socket", errno);
  struct stat info {};
  if (::lstat(path.c_str(), &info) == 0) {
    if (!S_ISSOCK(info.st_mode)) {
      return make_error(Errc::already_exists,
                        fmt::format("{} exists and is not a socket", path.string()));
    }
    ::unlink(path.c_str());  // stale socket from a previous run
  }
  // Only the owner may talk to the chip: the socket is created 0600.
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0 || ::listen(fd.get(), 16) != 0) {
    return socket_error(path, "cannot listen", bound != 0 ? bind_errno : errno);
  }
  return std::unique_ptr<SocketServer>(new SocketServer(std::move(emulator), path, fd.release()));
}

SocketServer::~SocketServer() {
  if (fd_) {
    fd_.reset();
    ::unlink(path_.c_str());
  }
}

Status SocketServer::run(const std::atomic<bool>& stop) {
  struct Client {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  std::vector<Client> clients;
  const auto reap = [&clients] {
    std::erase_if(clients, [](Client& c) {
      if (!c.finished->load()) return false;
      c.thread.join();
      return true;
    });
  };
  while (!stop.load()) {
    reap();
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) return socket_error(path_, "poll", errno);
    if (ready <= 0) continue;
    const int client = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      return socket_error(path_, "accept", errno);
    }
    auto finished = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([this, client, &stop, finished] {
      serve_client(client, stop);
      finished->store(true);
    });
    clients.push_back(Client{std::move(thread), std::move(finished)});
  }
  for (auto& c : clients) c.thread.join();
  return ok();
}

void SocketServer::serve_client(int client, const std::atomic<bool>& stop) {
  const UniqueFd owned(client);  // this thread's to close, whichever way the loop ends
  std::unique_lock<std::mutex> bus(emulator_->bus(), std::defer_lock);
  Bytes buffer(max_message);
  while (!stop.load()) {
    pollfd pfd{client, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = ::recv(client, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // closed or failed
    const ByteView message(buffer.data(), static_cast<size_t>(n));
    bool replied = true;
    if (message[0] == socket_wake) {
      if (!bus.owns_lock()) bus.lock();
      replied = send_all(client, emulator_->wake());
    } else if (message[0] == word_address::command) {
      // A command from a client that does not own the bus waits for it, then finds the chip in
      // whatever state the owner left it (asleep or idle: not acknowledged).
      std::unique_lock<std::mutex> turn(emulator_->bus(), std::defer_lock);
      if (!bus.owns_lock()) turn.lock();
      auto response = emulator_->i2c_write(message);
      const uint8_t nack[1] = {socket_nack};
      replied = send_all(client, response ? ByteView(*response) : ByteView(nack));
    } else {
      if (bus.owns_lock() || message[0] == word_address::reset) {
        (void)emulator_->i2c_write(message);
      }
      if ((message[0] == word_address::idle || message[0] == word_address::sleep) &&
          bus.owns_lock())
        bus.unlock();
    }
    if (!replied) break;
  }
  if (bus.owns_lock()) {
    emulator_->idle();  // the host went away mid-session: the bus is released, the chip idles
    bus.unlock();
  }
}

}  // namespace zt::se
