// vepactl trace's text output: the trace object of vepa/control.hpp, one line
// per hop and the verdict.  Pure: unit-tested on made-up objects.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vepactl {

std::string format_trace(const nlohmann::json& trace);

// 0 delivered, 1 dropped (vepactl trace's exit status).
int trace_status(const nlohmann::json& trace);

} // namespace vepactl
