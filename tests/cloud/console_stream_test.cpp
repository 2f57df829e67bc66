// The console's server-sent events over a real socket (a LocalCloud on 127.0.0.1, ephemeral port):
// the stream's head, events pushed by the hub arriving in order, a resync after an overflow, and
// the stream closing when the server's hub closes.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <thread>

#include "cloud/local_cloud.hpp"
#include "common/hex.hpp"
#include "crypto/digest.hpp"
#include "support/temp_dir.hpp"

namespace zt::cloud::console {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class ConsoleStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cloud = LocalCloud::open({.state_dir = dir_ / "state",
                                   .threads = 1,
                                   .mqtt = std::nullopt,
                                   .console = ConsoleOptions{.web_dir = dir_}});
    ASSERT_TRUE(cloud) << cloud.error().message;
    cloud_ = std::move(*cloud);
    ASSERT_TRUE(cloud_->start());
    console_ = &cloud_->console();
    port_ = cloud_->http_endpoint().port();
    cookie_ = std::string(kSessionCookie) + "=" + console_->sessions().create_session();
  }
  void TearDown() override {
    cloud_.reset();  // stops it
  }

  // Opens a stream; returns the socket positioned after the response head.
  tcp::socket open_stream(const std::string& target, std::string& head) {
    tcp::socket socket(client_io_);
    socket.connect({asio::ip::make_address("127.0.0.1"), port_});
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie_ +
                          "\r\nAccept: text/event-stream\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    size_t n = asio::read_until(socket, buffer_, "\r\n\r\n");
    head.assign(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n);
    buffer_.consume(n);
    return socket;
  }
  std::string read_event(tcp::socket& socket) {
    size_t n = asio::read_until(socket, buffer_, "\n\n");
    std::string event(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n);
    buffer_.consume(n);
    return event;
  }
  // Waits until the hub has a live stream for `thing` (the server subscribes on its own thread).
  void wait_watched(const std::string& thing) {
    for (int i = 0; i < 200 && !console_->hub().watched_things().contains(thing); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(console_->hub().watched_things().contains(thing));
  }

  zt::testing::TempDir temp_{"console-sse"};
  const fs::path& dir_ = temp_.path();
  asio::io_context client_io_;
  asio::streambuf buffer_;
  std::unique_ptr<LocalCloud> cloud_;
  ConsoleServer* console_ = nullptr;
  uint16_t port_ = 0;
  std::string cookie_;
};

TEST_F(ConsoleStreamTest, EventsArriveInOrderAfterTheHead) {
  std::string head;
  auto socket = open_stream("/console/api/stream?thing=abc", head);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  wait_watched("abc");
  console_->hub().on_message("$aws/things/abc/shadow/update/delta", R"({"state":{"led2":"on"}})");
  console_->hub().on_message("$aws/things/other/shadow/update/delta", "{}");  // not for us
  console_->hub().on_board("abc", {{"led2", "on"}});
  std::string first = read_event(socket);
  EXPECT_TRUE(first.starts_with("event: message\ndata: {")) << first;
  EXPECT_NE(first.find(R"("topic":"$aws/things/abc/shadow/update/delta")"), std::string::npos);
  std::string second = read_event(socket);
  EXPECT_TRUE(second.starts_with("event: board\n")) << second;
  EXPECT_NE(second.find(R"("led2":"on")"), std::string::npos);
}

TEST_F(ConsoleStreamTest, AnUnreadStreamOverflowsIntoAResyncWithoutBlockingTheProducer) {
  std::string head;
  auto socket = open_stream("/console/api/stream?thing=slow", head);
  wait_watched("slow");
  // Far more than the socket buffers and the 256-event queue hold, from this thread: every push
  // returns at once although nobody reads.
  std::string payload(4000, 'x');
  for (int i = 0; i < 5000; ++i) {
    console_->hub().on_message("$aws/things/slow/m", "\"" + payload + "\"");
  }
  // Now read: somewhere in the stream there is a resync, and the last event is the last pushed.
  console_->hub().on_message("$aws/things/slow/last", "1");
  bool resync = false, last = false;
  for (int i = 0; i < 10000 && !last; ++i) {
    std::string event = read_event(socket);
    if (event.starts_with("event: resync")) resync = true;
    if (event.find("$aws/things/slow/last") != std::string::npos) last = true;
  }
  EXPECT_TRUE(resync);
  EXPECT_TRUE(last);
}

TEST_F(ConsoleStreamTest, StreamsNeedASessionAndEndWhenTheConsoleStops) {
  tcp::socket anonymous(client_io_);
  anonymous.connect({asio::ip::make_address("127.0.0.1"), port_});
  asio::write(anonymous,
              asio::buffer(std::string("GET /console/api/stream HTTP/1.1\r\nHost: x\r\n\r\n")));
  size_t n = asio::read_until(anonymous, buffer_, "\r\n");
  std::string status(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n);
  buffer_.consume(buffer_.size());
  EXPECT_TRUE(status.starts_with("HTTP/1.1 401")) << status;

  std::string head;
  auto socket = open_stream("/console/api/stream", head);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n"));  // subscribed before the head was sent
  console_->stop();                                      // closes every stream
  boost::system::error_code ec;
  asio::read(socket, buffer_, asio::transfer_all(), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

}  // namespace
}  // namespace zt::cloud::console
