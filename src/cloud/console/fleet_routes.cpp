// The fleet view's API (brief-console-contract.md, "Fleet API"): read-only GET handlers over the
// registry's fleet queries, run on the registry worker inside one read transaction like the AWS
// handlers. Bad paging parameters are 400s naming the parameter.
#include <charconv>

#include "cloud/console/fleet.hpp"
#include "cloud/console/routes.hpp"

namespace zt::cloud::console {
namespace {

// A whole-number query parameter, or `fallback` when absent.
Result<int64_t> integer_parameter(const ConsoleRequest& request, std::string_view name,
                                  int64_t fallback) {
  auto text = request.query_value(name);
  if (!text) return fallback;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || text->empty()) {
    return make_error(Errc::invalid_argument,
                      std::string(name) + " must be a whole number, not '" + *text + "'");
  }
  return value;
}

// offset (default 0) and limit (default 50, 1..kMaxPageSize) of a paged list.
Result<std::pair<int64_t, int>> page_parameters(const ConsoleRequest& request) {
  ZT_TRY_ASSIGN(int64_t offset, integer_parameter(request, "offset", 0));
  ZT_TRY_ASSIGN(int64_t limit, integer_parameter(request, "limit", 50));
  if (limit < 1 || limit > kMaxPageSize) {
    return make_error(Errc::invalid_argument,
                      "limit must be between 1 and " + std::to_string(kMaxPageSize));
  }
  return std::pair<int64_t, int>{offset, static_cast<int>(limit)};
}

api::Reply error_of(const Error& error) {
  int status = error.code == Errc::invalid_argument ? 400
               : error.code == Errc::not_found      ? 404
                                                    : 500;
  return console_error(status, error.message);
}

std::string principal_prefix(ConsoleContext& context) { return context.service.arn("cert/"); }

api::Reply get_cas(ConsoleContext& context, const ConsoleRequest&) {
  auto cas = context.service.registry.list_cas_with_devices();
  if (!cas) return error_of(cas.error());
  return console_json(to_json(*cas));
}

api::Reply get_devices(ConsoleContext& context, const ConsoleRequest& request) {
  auto paging = page_parameters(request);
  if (!paging) return error_of(paging.error());
  auto [offset, limit] = *paging;
  DeviceQuery query{.offset = offset,
                    .limit = limit,
                    .q = request.query_value("q").value_or(""),
                    .status = request.query_value("status").value_or("")};
  auto page = context.service.registry.list_devices(principal_prefix(context), query);
  if (!page) return error_of(page.error());
  return console_json(to_json(*page));
}

api::Reply get_timeline(ConsoleContext& context, const ConsoleRequest& request) {
  auto timeline = context.service.registry.device_timeline(principal_prefix(context),
                                                           request.path.at("device"));
  if (!timeline) return error_of(timeline.error());
  return console_json(to_json(*timeline));
}

api::Reply get_invocations(ConsoleContext& context, const ConsoleRequest& request) {
  auto paging = page_parameters(request);
  if (!paging) return error_of(paging.error());
  auto [offset, limit] = *paging;
  auto failed = request.query_value("failed");
  InvocationQuery query{.offset = offset,
                        .limit = limit,
                        .failed_only = failed && *failed != "0" && *failed != "false"};
  auto page = context.service.registry.list_function_invocations(principal_prefix(context), query);
  if (!page) return error_of(page.error());
  return console_json(to_json(*page));
}

}  // namespace

void add_fleet_routes(Routes& routes) {
  routes.add("GET", "/console/api/cas", get_cas);
  routes.add("GET", "/console/api/devices", get_devices);
  routes.add("GET", "/console/api/devices/{device}/timeline", get_timeline);
  routes.add("GET", "/console/api/invocations", get_invocations);
}

}  // namespace zt::cloud::console
