#include "cli/monitor.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/monitor_format.hpp"
#include "vepa/control.hpp"
#include "vepa/control_client.hpp"

namespace vepactl {

using nlohmann::json;
namespace proto = vepa::proto;

namespace {

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// SIGINT and SIGTERM end the stream: poll returns EINTR (no SA_RESTART).
void catch_stop_signals()
{
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

// The stream's lines, as they arrive; false when vepad closed it (or on an error).
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}
    // Waits for the next line; nullopt when stopped by a signal or closed (closed() says which).
    std::optional<std::string> next()
    {
        for (;;) {
            if (const size_t nl = buf_.find('\n'); nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            if (g_stop)
                return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, -1) < 0) {
                if (errno == EINTR)
                    continue;
                closed_ = true;
                return std::nullopt;
            }
            char chunk[65536];
            const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                closed_ = true;
                return std::nullopt;
            }
            buf_.append(chunk, static_cast<size_t>(n));
        }
    }
    bool closed() const { return closed_; }

private:
    int fd_;
    std::string buf_;
    bool closed_ = false;
};

} // namespace

int run_monitor(const std::string& socket, const json& args, bool as_json)
{
    catch_stop_signals();
    int fd;
    try {
        fd = proto::connect_socket(socket);
    } catch (const proto::ClientError& e) {
        std::cerr << "vepactl: " << e.what() << "\n";
        return 1;
    }
    const std::string req = json{{"id", 1}, {"cmd", proto::kMonitor}, {"args", args}}.dump() + "\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        std::cerr << "vepactl: sending the request: " << std::strerror(errno) << "\n";
        return 1;
    }
    LineReader in(fd);
    const auto first = in.next();
    json reply = first ? json::parse(*first, nullptr, false) : json();
    if (!reply.is_object() || reply.value("ok", false) != true) {
        const json e = reply.is_object() ? reply.value("error", json::object()) : json::object();
        std::cerr << "vepactl: " << (first ? e.value("message", "unexpected reply") : "no reply from vepad")
                  << (e.contains("code") ? " [" + e.value("code", "") + "]" : "") << "\n";
        ::close(fd);
        return 1;
    }
    MonitorSummary sum;
    while (auto line = in.next()) {
        const json ev = json::parse(*line, nullptr, false);
        if (!ev.is_object())
            continue;
        sum.add(ev);
        if (as_json)
            std::cout << *line << "\n";
        else if (ev.value("type", "") == "event") {
            std::cout << format_event(ev) << "\n";
            if (const std::string dump = format_payload(ev); !dump.empty())
                std::cout << dump << "\n";
        }
        std::cout.flush();
    }
    ::close(fd);
    std::cerr << sum.str() << "\n";
    if (in.closed() && !g_stop) {
        std::cerr << "vepactl: vepad closed the stream\n";
        return 1;
    }
    return 0;
}

} // namespace vepactl
