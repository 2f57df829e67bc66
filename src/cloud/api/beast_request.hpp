// A request as Beast parsed it, turned into what the router and handlers see (aws::HttpRequest):
// one conversion for the server's connection loop and the fuzz targets that parse like it.
#pragma once

#include <boost/beast/http.hpp>
#include <string>
#include <utility>

#include "aws/sigv4.hpp"

namespace zt::cloud::api {

// Moves the body out of `message`; its header (keep_alive(), fields) stays readable.
inline aws::HttpRequest to_http_request(
    boost::beast::http::request<boost::beast::http::string_body>& message) {
  aws::HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

}  // namespace zt::cloud::api
