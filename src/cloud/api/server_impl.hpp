// ApiServer's private network state, shared by server.cpp and server_network.cpp.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "cloud/api/server.hpp"

namespace zt::cloud::api {

struct ApiServer::Impl {
  explicit Impl(boost::asio::io_context& io) : acceptor(io) {}
  boost::asio::ip::tcp::acceptor acceptor;
};

}  // namespace zt::cloud::api
