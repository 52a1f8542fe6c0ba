// A request refused for a reason the client can act on: a protocol error code
// (vepa/control.hpp) and a one-line message.
#pragma once

#include <stdexcept>
#include <string>

namespace vepad {

class CommandError : public std::runtime_error {
public:
    CommandError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

} // namespace vepad
