// STATUS (spec 1.1.0): can ADD succeed now?  Yes when vepad answers at the config's
// socket and its uplink is up; else error 50 (the plugin is not available), saying why.
#include "cni/commands.hpp"
#include "cni/error.hpp"
#include "cni/vepad.hpp"

namespace vepa::cni {

nlohmann::json cmd_status(const Config& cfg)
{
    nlohmann::json status;
    try {
        status = vepad_status(cfg);
    } catch (const CniError& e) {
        throw CniError(kPluginNotAvailable, e.what(), e.details());
    }
    const auto uplink = status.value("uplink", nlohmann::json::object());
    if (uplink.value("state", "") != "up")
        throw CniError(kPluginNotAvailable, "vepad's uplink " + uplink.value("name", "?") + " is not up",
                       "state: " + uplink.value("state", "?"));
    return nullptr;
}

} // namespace vepa::cni
