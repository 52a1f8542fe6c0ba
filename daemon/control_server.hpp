// The control socket: newline-delimited JSON requests over a Unix stream
// socket (protocol in vepa/control.hpp).  Each connection is read one line at
// a time and answered in order; oversized or malformed lines get an error and
// never reach the dispatcher as anything but an error; peers that are neither
// root nor in the socket's group are refused.  A monitor request turns its
// connection into a stream: the reply, then the lines its StreamSink gets,
// until the client closes (or reads too slowly, and is dropped).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/fd.hpp"
#include "daemon/requests.hpp"

namespace vepad {

class ControlServer {
public:
    // Carries out a parsed request and returns its result object; refuses by
    // throwing CommandError.
    using Dispatch = std::function<nlohmann::json(const Request& request)>;
    // Told of every request answered: its command ("" when it could not be read) and
    // "ok" or the error code, and how long the answer took.
    using Observe = std::function<void(const std::string& command, const std::string& result, double seconds)>;

    struct Options {
        std::string path;
        std::optional<gid_t> group; // allowed besides root; nullopt: root only
        size_t max_clients = 128;
        std::chrono::seconds idle_timeout{60}; // for a request to arrive complete
        Observe observe;                        // may be empty
    };

    ControlServer(boost::asio::io_context& io, Options opts, Dispatch dispatch);
    ~ControlServer();
    void close();
    size_t clients() const { return *clients_; }

    // Exposed for the fuzz target: the response to one raw request line.
    // fds: descriptors that came with the line (SCM_RIGHTS); attach-xsk takes one.
    // stream: where a monitor request's sink is put (nullptr: monitor is refused).
    static nlohmann::json handle_line(const std::string& line, const Dispatch& dispatch,
                                      std::vector<vepa::UniqueFd>* fds = nullptr, const Observe* observe = nullptr,
                                      std::shared_ptr<StreamSink>* stream = nullptr);

private:
    class Session;
    void accept();
    static nlohmann::json answer(const std::string& line, const Dispatch& dispatch, std::vector<vepa::UniqueFd>* fds,
                                 const char** cmd, std::shared_ptr<StreamSink>* stream);

    Options opts_;
    Dispatch dispatch_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::shared_ptr<size_t> clients_ = std::make_shared<size_t>(0);
};

// Whether the peer (uid/gid/pid from SO_PEERCRED) is root or in group.
bool peer_allowed(uid_t uid, gid_t gid, pid_t pid, std::optional<gid_t> group);

} // namespace vepad
