// vepactl monitor: the monitor request's stream, printed until Ctrl-C.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace vepactl {

// Stream decision events (args: the monitor request's) to stdout, as text or
// JSON lines, until SIGINT/SIGTERM (summary on stderr, exit 0) or vepad closes
// the stream (exit 1).  A refusal prints its reason and returns 1.
int run_monitor(const std::string& socket, const nlohmann::json& args, bool as_json);

} // namespace vepactl
