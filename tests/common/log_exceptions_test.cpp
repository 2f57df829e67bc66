// asio::co_spawn with log_exceptions(): a coroutine that throws is logged (what and where), its
// cleanup runs, and the io_context — the process — goes on.
#include <utility>  // before Boost 1.74 asio/awaitable.hpp, which uses std::exchange without it

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sstream>
#include <stdexcept>

#include "common/log.hpp"

namespace zt {
namespace {

namespace asio = boost::asio;

class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

asio::awaitable<void> throws_after_a_suspension() {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error("the peer sent something nobody expected");
}

asio::awaitable<int> throws_with_a_value() {
  throw std::logic_error("no value today");
  co_return 1;
}

asio::awaitable<void> finishes(bool& done) {
  done = true;
  co_return;
}

TEST(LogExceptions, ACoroutineThatThrowsIsLoggedAndCleanedUpAndTheLoopGoesOn) {
  CapturedLog log;
  asio::io_context io;
  int closed = 0;
  bool later_ran = false;
  asio::co_spawn(io, throws_after_a_suspension(),
                 log_exceptions("test connection 1", [&] { ++closed; }));
  asio::co_spawn(io, throws_with_a_value(), log_exceptions("test value"));
  asio::co_spawn(io, finishes(later_ran), log_exceptions("test quiet", [&] { ++closed; }));
  EXPECT_NO_THROW(io.run());
  EXPECT_EQ(closed, 1);
  EXPECT_TRUE(later_ran);
  std::string text = log.text();
  EXPECT_NE(text.find("test connection 1: ended by an exception: the peer sent something nobody "
                      "expected"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("test value: ended by an exception: no value today"), std::string::npos);
  EXPECT_EQ(text.find("test quiet"), std::string::npos);  // a normal end says nothing
}

TEST(LogExceptions, ACleanupThatThrowsDoesNotEscape) {
  CapturedLog log;
  asio::io_context io;
  asio::co_spawn(io, throws_after_a_suspension(),
                 log_exceptions("test", [] { throw std::runtime_error("close failed"); }));
  EXPECT_NO_THROW(io.run());
  EXPECT_NE(log.text().find("test: ended by an exception"), std::string::npos);
}

}  // namespace
}  // namespace zt
