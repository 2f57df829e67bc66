// ApiServer's private network state, shared by server.cpp and server_network.cpp.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "cloud/api/server.hpp"
#include "common/connection_limits.hpp"

namespace zt::cloud::api {

struct ApiServer::Impl {
  explicit Impl(boost::asio::io_context& io) : acceptor(io) {}
  boost::asio::ip::tcp::acceptor acceptor;
  std::shared_ptr<ConnectionLimiter> limiter;
};

}  // namespace zt::cloud::api
