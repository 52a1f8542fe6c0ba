// cni/error.hpp - a CNI error: the spec's code, a message and details, printed as the
// plugin's error result.
#pragma once

#include <stdexcept>
#include <string>

namespace vepa::cni {

// Codes of the CNI spec 1.0.0 and this plugin's own (100 and up).
enum Code : int {
    kIncompatibleVersion = 1,
    kInvalidEnv = 4,
    kDecodeFailed = 6,
    kInvalidConfig = 7,
    kTryAgainLater = 11,
    kPluginNotAvailable = 50, // STATUS: ADD would fail now (vepad down, its uplink not up)
    kVepadUnreachable = 100, // no answer at the config's socket
    kVepadRefused = 101,     // vepad refused add-port
    kIpamFailed = 102,       // the IPAM plugin is missing or failed
    kNetlinkFailed = 103,    // creating or configuring the interfaces failed
    kPortNotUp = 104,        // the port did not come up in time
    kCheckFailed = 105,      // CHECK found a difference
};

class CniError : public std::runtime_error {
public:
    CniError(int code, const std::string& msg, std::string details = "")
        : std::runtime_error(msg), code_(code), details_(std::move(details))
    {}
    int code() const { return code_; }
    const std::string& details() const { return details_; }

private:
    int code_;
    std::string details_;
};

} // namespace vepa::cni
