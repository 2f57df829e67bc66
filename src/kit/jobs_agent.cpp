#include "kit/jobs_agent.hpp"

namespace zt::kit {
namespace {

using nlohmann::json;

}  // namespace

JobsAgent::JobsAgent(std::string thing, Board& board, std::function<void(const std::string&)> print)
    : thing_(std::move(thing)),
      prefix_("$aws/things/" + thing_ + "/jobs/"),
      board_(board),
      print_(std::move(print)) {}

std::vector<std::string> JobsAgent::subscriptions() const {
  return {prefix_ + "notify-next", prefix_ + "start-next/accepted", prefix_ + "start-next/rejected",
          prefix_ + "+/update/accepted", prefix_ + "+/update/rejected"};
}

std::vector<JobsMessage> JobsAgent::on_connected() { return start_next(); }

std::vector<JobsMessage> JobsAgent::start_next() {
  busy_ = true;
  json request = {{"clientToken", thing_ + "-" + std::to_string(++token_)}};
  return {{prefix_ + "start-next", request.dump()}};
}

std::optional<std::vector<JobsMessage>> JobsAgent::on_message(const std::string& topic,
                                                              const std::string& payload) {
  if (!topic.starts_with(prefix_)) return std::nullopt;
  std::string rest = topic.substr(prefix_.size());
  json body = json::parse(payload, nullptr, false);
  if (!body.is_object()) {
    print_("Jobs: ignored a message that is not a JSON object on " + topic);
    return std::vector<JobsMessage>{};
  }
  if (rest == "notify-next") {
    // A new next execution: start it unless a request is already on its way.
    if (!body.contains("execution") || busy_) return std::vector<JobsMessage>{};
    return start_next();
  }
  if (rest == "start-next/accepted") {
    busy_ = false;
    if (!body.contains("execution") || !body["execution"].is_object()) {
      print_("Jobs: no pending job");
      return std::vector<JobsMessage>{};
    }
    return run(body["execution"]);
  }
  if (rest.ends_with("/update/accepted")) return start_next();  // on to the next job
  if (rest.ends_with("/rejected")) {
    busy_ = false;
    print_("Jobs: request rejected: " + body.value("code", std::string("?")) + ": " +
           body.value("message", std::string()));
    return std::vector<JobsMessage>{};
  }
  return std::vector<JobsMessage>{};
}

std::vector<JobsMessage> JobsAgent::run(const json& execution) {
  std::string job_id = execution.value("jobId", std::string());
  json document = execution.contains("jobDocument") ? execution["jobDocument"] : json::object();
  print_("Jobs: running job " + job_id + ": " + document.dump());
  auto [status, details] = execute(document);
  print_("Jobs: job " + job_id + " " + status + ": " + details.dump());
  json update = {{"status", status},
                 {"statusDetails", details},
                 {"clientToken", thing_ + "-" + std::to_string(++token_)}};
  if (execution.contains("versionNumber") && execution["versionNumber"].is_number_integer())
    update["expectedVersion"] = execution["versionNumber"];
  busy_ = true;
  return {{prefix_ + job_id + "/update", update.dump()}};
}

std::pair<std::string, json> JobsAgent::execute(const json& document) {
  if (!document.is_object()) return {"FAILED", {{"reason", "the job document is not an object"}}};
  std::string operation = document.value("operation", std::string());
  if (operation != "setLeds")
    return {"FAILED", {{"reason", "unknown operation '" + operation.substr(0, 64) + "'"}}};
  auto leds = document.find("leds");
  if (leds == document.end() || !leds->is_object() || leds->empty())
    return {
        "FAILED",
        {{"operation", operation}, {"reason", "setLeds needs \"leds\": {\"led1\": \"on\", ...}"}}};
  // Check all first: a bad entry changes no LED.
  for (auto it = leds->begin(); it != leds->end(); ++it) {
    bool known = it.key() == "led1" || it.key() == "led2" || it.key() == "led3";
    if (!known || (*it != "on" && *it != "off"))
      return {"FAILED",
              {{"operation", operation},
               {"reason", "bad LED setting " + it.key().substr(0, 32) + " (led1..led3: on|off)"}}};
  }
  std::string result;
  for (auto it = leds->begin(); it != leds->end(); ++it) {
    board_.set_led(it.key().back() - '0', *it == "on");
    result += (result.empty() ? "" : " ") + it.key() + "=" + it->get<std::string>();
  }
  return {"SUCCEEDED", {{"operation", operation}, {"result", result}}};
}

}  // namespace zt::kit
