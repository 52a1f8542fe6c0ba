// vepa/control_client.hpp - a client of vepad's control protocol (vepa/control.hpp):
// one request line out, one response line back.  Used by vepactl and by
// libvepa-xsk's attach_to_vepad; usable by any C++ program that drives vepad.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace vepa::proto {

// The request could not be carried out: no connection, no reply, an unreadable reply.
// (A refusal by vepad is a reply: {"ok": false, ...}.)
class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// given, else $VEPAD_SOCKET, else kDefaultSocket.
std::string socket_path(const std::string& given = "");

// A connected, blocking socket (the caller closes it); the connect is given up after
// timeout_ms (a vepad that has stopped accepting).  Throws ClientError with a hint.
int connect_socket(const std::string& path, int timeout_ms = 5000);

// Send one request and return vepad's response object.  fd >= 0 is passed with the
// request (SCM_RIGHTS, with the line's first byte), as attach-xsk needs.
nlohmann::json call(const std::string& path, const nlohmann::json& request, int timeout_ms, int fd = -1);

} // namespace vepa::proto
