#include "kit/protocol.hpp"

#include "common/hex.hpp"

namespace zt::kit {

namespace {

// Splits "<prefix>(<hex>)\n" into prefix and decoded bytes.
Result<std::pair<std::string, std::string>> split_call(std::string_view line,
                                                       std::string_view what) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t open = line.find('(');
  if (open == std::string_view::npos || line.empty() || line.back() != ')') {
    return make_error(Errc::parse, std::string(what) + " is not of the form name(<hex>): '" +
                                       std::string(line.substr(0, 64)) + "'");
  }
  std::string_view hex = line.substr(open + 1, line.size() - open - 2);
  ZT_TRY_ASSIGN(Bytes bytes, with_context(from_hex(hex), std::string(what) + " payload"));
  return std::pair{std::string(line.substr(0, open)), std::string(bytes.begin(), bytes.end())};
}

Result<json> parse_object(std::string_view text, std::string_view what) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return make_error(Errc::parse, std::string(what) + " is not a JSON object");
  }
  return parsed;
}

}  // namespace

std::vector<Report> frame_line(std::string_view line, uint8_t padding) {
  std::vector<Report> reports;
  for (size_t offset = 0; offset < line.size() || reports.empty(); offset += kReportSize) {
    Report report;
    report.fill(padding);
    size_t n = std::min(kReportSize, line.size() - std::min(offset, line.size()));
    std::copy_n(line.begin() + static_cast<std::ptrdiff_t>(offset), n, report.begin());
    reports.push_back(report);
  }
  return reports;
}

Result<std::vector<std::string>> LineAssembler::feed(ByteView chunk) {
  std::vector<std::string> lines;
  for (uint8_t byte : chunk) {
    if (byte == padding_) continue;
    pending_.push_back(static_cast<char>(byte));
    if (byte == '\n') {
      lines.push_back(std::move(pending_));
      pending_.clear();
    } else if (pending_.size() > kMaxLineBytes) {
      pending_.clear();
      return make_error(Errc::invalid_argument, "kit protocol line exceeds " +
                                                    std::to_string(kMaxLineBytes) +
                                                    " bytes without a newline");
    }
  }
  return lines;
}

std::string encode_request(const Request& request) {
  json body{{"method", request.method}, {"params", request.params}, {"id", request.id}};
  return "board:app(" + to_hex(as_bytes(body.dump())) + ")\n";
}

Result<Command> parse_command(std::string_view line) {
  ZT_TRY_ASSIGN(auto call, split_call(line, "kit command"));
  Command command{call.first, std::nullopt};
  if (command.target != "board:app") return command;
  ZT_TRY_ASSIGN(json body, parse_object(call.second, "kit request"));
  Request request;
  if (!body.contains("method") || !body["method"].is_string()) {
    return make_error(Errc::invalid_argument, "kit request has no string \"method\"");
  }
  request.method = body["method"].get<std::string>();
  if (body.contains("params") && !body["params"].is_null()) {
    if (!body["params"].is_object())
      return make_error(Errc::invalid_argument, "kit request \"params\" must be an object");
    request.params = body["params"];
  }
  if (body.contains("id")) {
    if (!body["id"].is_number_integer())
      return make_error(Errc::invalid_argument, "kit request \"id\" must be an integer");
    request.id = body["id"].get<int64_t>();
  }
  command.request = std::move(request);
  return command;
}

std::string encode_reply(const Reply& reply) {
  json body{
      {"id", reply.id}, {"result", reply.error ? json(nullptr) : reply.result}, {"error", nullptr}};
  if (reply.error)
    body["error"] = json{{"error_code", reply.error->code}, {"error_msg", reply.error->message}};
  // Error messages may quote the offending input, which need not be UTF-8: replace such bytes
  // (U+FFFD) rather than let the serializer throw (found by fuzz/kit_handler).
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return to_hex_upper(ByteView(&reply.status, 1)) + "(" + to_hex(as_bytes(text)) + ")\n";
}

std::string unknown_target_reply() { return "C0()\n"; }

Result<Reply> parse_reply(std::string_view line) {
  ZT_TRY_ASSIGN(auto call, split_call(line, "kit reply"));
  ZT_TRY_ASSIGN(Bytes status, with_context(from_hex(call.first), "kit reply status"));
  if (status.size() != 1)
    return make_error(Errc::parse,
                      "kit reply status must be one hex byte, got '" + call.first + "'");
  Reply reply;
  reply.status = status[0];
  if (call.second.empty()) {
    reply.error = KitError{kUnknownCommand, "kit answered status " + call.first + " with no body"};
    return reply;
  }
  ZT_TRY_ASSIGN(json body, parse_object(call.second, "kit reply"));
  if (body.contains("id") && body["id"].is_number_integer()) reply.id = body["id"].get<int64_t>();
  reply.result = body.contains("result") ? body["result"] : json(nullptr);
  if (body.contains("error") && body["error"].is_object()) {
    const json& error = body["error"];
    KitError kit_error{kUnknownError, ""};
    if (error.contains("error_code") && error["error_code"].is_number_integer()) {
      kit_error.code = error["error_code"].get<int>();
    }
    if (error.contains("error_msg") && error["error_msg"].is_string()) {
      kit_error.message = error["error_msg"].get<std::string>();
    }
    reply.error = std::move(kit_error);
  }
  return reply;
}

}  // namespace zt::kit
