// `ztp cloud operations`: the table of the operations the local cloud serves, printed from the
// Router objects `ztp cloud run` serves with (a LocalCloud opened in a scratch state directory,
// never listening), so README's table cannot drift from the code: tests/e2e/
// readme_operations_test.py fails when README.md's table differs from this command's output.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <system_error>

#include "cli/commands.hpp"
#include "cloud/local_cloud.hpp"
#include "crypto/digest.hpp"

namespace zt::cli {
namespace {

struct Row {
  std::string service;
  std::string operation;
  std::string request;
};

void add_rows(std::vector<Row>& rows, const std::string& service,
              const std::vector<cloud::api::Router::Operation>& operations) {
  std::vector<Row> block;
  for (const auto& op : operations) {
    block.push_back(Row{service, op.name, "`" + op.method + " " + op.pattern + "`"});
  }
  std::sort(block.begin(), block.end(), [](const Row& a, const Row& b) {
    return std::tie(a.operation, a.request) < std::tie(b.operation, b.request);
  });
  rows.insert(rows.end(), block.begin(), block.end());
}

// The rows, by service (iot, iot-data, lambda, iam), each sorted by operation.
std::vector<Row> operation_rows(const cloud::api::ServiceRouters& routers) {
  std::set<std::string> control_plane;
  for (const auto& op : cloud::api::make_control_plane_router().operations())
    control_plane.insert(op.method + " " + op.pattern);
  std::vector<cloud::api::Router::Operation> iot, data;
  for (const auto& op : routers.iot.operations())
    (control_plane.count(op.method + " " + op.pattern) ? iot : data).push_back(op);
  std::vector<Row> rows;
  add_rows(rows, "iot", iot);
  add_rows(rows, "iot-data", data);
  add_rows(rows, "lambda", routers.lambda.operations());
  for (const auto& action : cloud::api::iam_action_names())
    rows.push_back(Row{"iam", action, "`POST /` Action=" + action});
  return rows;
}

Status print_operations() {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("ztp-operations-" + crypto::random_text("abcdefghijklmnopqrstuvwxyz0123456789", 12));
  std::string text;
  {
    ZT_TRY_ASSIGN(auto local, cloud::LocalCloud::open({.state_dir = dir}));
    auto rows = operation_rows(local->api_server().routers());
    text = "| Service | Operation | Request |\n| --- | --- | --- |\n";
    for (const auto& row : rows)
      text += fmt::format("| {} | {} | {} |\n", row.service, row.operation, row.request);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  std::cout << text;
  return ok();
}

}  // namespace

void register_cloud_operations_command(CLI::App& cloud) {
  auto* operations = cloud.add_subcommand(
      "operations",
      "Print the table of implemented operations (Markdown), from the routers `cloud run` serves");
  operations->callback(run_command([] { return print_operations(); }));
}

}  // namespace zt::cli
