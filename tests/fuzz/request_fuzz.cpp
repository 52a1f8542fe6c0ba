// libFuzzer target for the control protocol's request parser: any byte string
// as one request line.  Must never crash, hang or throw anything but a
// CommandError, and every reply must serialise.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/command_error.hpp"
#include "daemon/control_server.hpp"
#include "daemon/requests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string line(reinterpret_cast<const char*>(data), size);
    try {
        (void)vepad::parse_request(line);
    } catch (const vepad::CommandError&) {}
    // The whole request path as the server runs it, with a dispatcher that echoes.
    const nlohmann::json reply = vepad::ControlServer::handle_line(line, [](const vepad::Request& r) {
        return nlohmann::json{{"cmd_index", r.cmd.index()}, {"id", r.id}};
    });
    (void)reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return 0;
}
