// The kit's AWS IoT Jobs agent: what the firmware's serve loop hands jobs messages to. It follows
// AWS's device workflow ("Devices and jobs", "Jobs device MQTT API operations"): subscribe to
// notify-next and the replies to its requests; on connect and on every notify-next that names an
// execution, StartNextPendingJobExecution; run the job's operation; report SUCCEEDED or FAILED
// with statusDetails; then ask for the next one.
//
// Operations (the job document's "operation"):
//   {"operation": "setLeds", "leds": {"led1": "on", "led3": "off"}}  sets the OLED1 board's LEDs
// Anything else fails the execution with statusDetails {"reason": …}.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kit/board.hpp"

namespace zt::kit {

struct JobsMessage {
  std::string topic;
  std::string payload;
};

class JobsAgent {
 public:
  JobsAgent(std::string thing, Board& board, std::function<void(const std::string&)> print);

  // The topic filters to subscribe to (QoS 0).
  std::vector<std::string> subscriptions() const;
  // Once subscribed: ask for the next pending execution (jobs queued while the kit was offline).
  std::vector<JobsMessage> on_connected();
  // A message on one of its topics: what to publish in answer. nullopt: not a jobs topic.
  std::optional<std::vector<JobsMessage>> on_message(const std::string& topic,
                                                     const std::string& payload);

 private:
  std::vector<JobsMessage> start_next();
  std::vector<JobsMessage> run(const nlohmann::json& execution);
  // The operation's outcome: SUCCEEDED or FAILED, and the statusDetails to report.
  std::pair<std::string, nlohmann::json> execute(const nlohmann::json& document);

  std::string thing_;
  std::string prefix_;  // $aws/things/<thing>/jobs/
  Board& board_;
  std::function<void(const std::string&)> print_;
  bool busy_ = false;  // a start-next or update is outstanding
  uint64_t token_ = 0;
};

}  // namespace zt::kit
