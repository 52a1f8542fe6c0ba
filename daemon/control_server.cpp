#include "daemon/control_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/command_error.hpp"
#include "daemon/stream_sink.hpp"
#include "lib/error.hpp"
#include "vepa/control.hpp"

namespace vepad {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using nlohmann::json;
namespace proto = vepa::proto;

namespace {

json error_response(const json& id, const char* code, const std::string& message)
{
    return {{"id", id}, {"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

} // namespace

bool peer_allowed(uid_t uid, gid_t gid, pid_t pid, std::optional<gid_t> group)
{
    if (uid == 0)
        return true;
    if (!group)
        return false;
    if (gid == *group)
        return true;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Groups:", 0) != 0)
            continue;
        std::istringstream ss(line.substr(7));
        gid_t g;
        while (ss >> g)
            if (g == *group)
                return true;
    }
    return false;
}

json ControlServer::handle_line(const std::string& line, const Dispatch& dispatch, std::vector<vepa::UniqueFd>* fds,
                                const Observe* observe, std::shared_ptr<StreamSink>* stream)
{
    const char* cmd = "";
    const auto t0 = std::chrono::steady_clock::now();
    json response = answer(line, dispatch, fds, &cmd, stream);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    if (observe && *observe)
        (*observe)(cmd, response["ok"] == true ? "ok" : response["error"]["code"].get<std::string>(), took.count());
    return response;
}

json ControlServer::answer(const std::string& line, const Dispatch& dispatch, std::vector<vepa::UniqueFd>* fds,
                           const char** cmd, std::shared_ptr<StreamSink>* stream)
{
    json id = nullptr;
    try {
        Request req = parse_request(line, &id, cmd);
        const size_t nfds = fds ? fds->size() : 0;
        if (auto* x = std::get_if<AttachXsk>(&req.cmd)) {
            if (nfds != 1)
                throw CommandError(proto::kErrBadSocket, "attach-xsk takes exactly one file descriptor with the "
                                                         "request line (SCM_RIGHTS), " +
                                                             std::to_string(nfds) + " came");
            x->fd = std::make_shared<vepa::UniqueFd>(std::move(fds->front()));
        } else if (nfds) {
            throw CommandError(proto::kErrBadRequest, "file descriptors came with a request that takes none");
        }
        if (auto* m = std::get_if<Monitor>(&req.cmd)) {
            if (!stream)
                throw CommandError(proto::kErrBadRequest, "monitor needs a connection of its own");
            m->sink = std::make_shared<StreamSink>();
        }
        json result = dispatch(req);
        if (auto* m = std::get_if<Monitor>(&req.cmd))
            *stream = m->sink;
        return {{"id", id}, {"ok", true}, {"result", std::move(result)}};
    } catch (const CommandError& e) {
        return error_response(id, e.code().c_str(), e.what());
    } catch (const std::exception& e) {
        spdlog::error("request failed: {}", e.what());
        return error_response(id, proto::kErrInternal, e.what());
    }
}

class ControlServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(local::socket sock, ControlServer& srv)
        : sock_(std::move(sock)), timer_(sock_.get_executor()), srv_(srv), clients_(srv.clients_)
    {
        ++*clients_;
    }
    ~Session() { --*clients_; }

    void start() { read(); }

    void refuse(const char* code, const std::string& msg)
    {
        auto self = shared_from_this();
        out_ = error_response(nullptr, code, msg).dump() + "\n";
        asio::async_write(sock_, asio::buffer(out_), [self](auto, auto) { self->shutdown(); });
    }

private:
    // Lines are read with recvmsg, not Asio's read_until, so file descriptors a
    // client passes with a request (SCM_RIGHTS, attach-xsk) arrive with it: those
    // received with a line's bytes belong to the next complete line.
    void read()
    {
        if (const size_t nl = in_.find('\n'); nl != std::string::npos) {
            std::string line = in_.substr(0, nl);
            in_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            std::vector<vepa::UniqueFd> fds = std::move(fds_);
            fds_.clear();
            if (fds_truncated_) {
                fds_truncated_ = false;
                respond(error_response(nullptr, proto::kErrBadRequest,
                                       "more than " + std::to_string(kMaxFds) + " file descriptors with one request"),
                        false);
                return;
            }
            if (line.find_first_not_of(" \t") == std::string::npos) {
                read(); // blank line: nothing to answer (descriptors with it are closed)
                return;
            }
            std::shared_ptr<StreamSink> stream;
            json resp = handle_line(line, srv_.dispatch_, &fds, &srv_.opts_.observe, &stream);
            if (stream)
                return start_stream(resp, std::move(stream));
            respond(resp, false);
            return;
        }
        if (in_.size() > proto::kMaxLine) { // the line outgrew kMaxLine
            respond(error_response(nullptr, proto::kErrTooLarge,
                                   "request line over " + std::to_string(proto::kMaxLine) + " bytes"),
                    true);
            return;
        }
        if (eof_)
            return; // closed: a last line without its newline is dropped
        auto self = shared_from_this();
        timer_.expires_after(srv_.opts_.idle_timeout);
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (!ec)
                self->shutdown(); // no complete request in time
        });
        sock_.async_wait(local::socket::wait_read, [self](const boost::system::error_code& ec) {
            self->timer_.cancel();
            if (ec)
                return;
            if (!self->receive())
                return self->shutdown();
            self->read();
        });
    }

    // One recvmsg; false on a socket error.
    bool receive()
    {
        char data[16384];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
        iovec iov{data, sizeof(data)};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        const ssize_t n = ::recvmsg(sock_.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                fds_.emplace_back(fd);
            }
        }
        if (msg.msg_flags & MSG_CTRUNC)
            fds_truncated_ = true;
        if (n == 0)
            eof_ = true;
        in_.append(data, static_cast<size_t>(n));
        return true;
    }

    void respond(const json& resp, bool then_close)
    {
        auto self = shared_from_this();
        out_ = resp.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        asio::async_write(sock_, asio::buffer(out_), [self, then_close](const boost::system::error_code& ec, size_t) {
            if (ec || then_close)
                self->shutdown();
            else
                self->read();
        });
    }

    // The monitor reply is written, then whatever the sink gets, until either side closes.
    void start_stream(const json& resp, std::shared_ptr<StreamSink> sink)
    {
        auto self = shared_from_this();
        sink_ = std::move(sink);
        std::weak_ptr<Session> weak = self;
        sink_->on_ready = [weak] {
            if (auto s = weak.lock())
                s->flush();
        };
        writing_ = true;
        out_ = resp.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        asio::async_write(sock_, asio::buffer(out_), [self](const boost::system::error_code& ec, size_t) {
            self->wrote(ec);
        });
        watch_close();
    }

    void flush()
    {
        if (sink_->closed())
            return shutdown(); // a pending write is cancelled: a client dropped for not reading goes at once
        if (writing_)
            return;
        if (sink_->empty())
            return;
        auto self = shared_from_this();
        writing_ = true;
        out_ = sink_->take();
        asio::async_write(sock_, asio::buffer(out_),
                          [self](const boost::system::error_code& ec, size_t) { self->wrote(ec); });
    }

    void wrote(const boost::system::error_code& ec)
    {
        writing_ = false;
        if (ec) {
            sink_->close();
            return shutdown();
        }
        flush();
    }

    // A streaming client sends nothing more: anything it does is read and ignored; its close ends the stream.
    void watch_close()
    {
        auto self = shared_from_this();
        sock_.async_wait(local::socket::wait_read, [self](const boost::system::error_code& ec) {
            char buf[4096];
            const ssize_t n = ec ? -1 : ::recv(self->sock_.native_handle(), buf, sizeof(buf), MSG_DONTWAIT);
            if (ec || n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                self->sink_->close();
                return self->shutdown();
            }
            self->watch_close();
        });
    }

    void shutdown()
    {
        boost::system::error_code ec;
        timer_.cancel();
        sock_.shutdown(local::socket::shutdown_both, ec);
        sock_.close(ec);
    }

    static constexpr size_t kMaxFds = 8;
    local::socket sock_;
    asio::steady_timer timer_;
    std::string in_;
    std::vector<vepa::UniqueFd> fds_;
    bool fds_truncated_ = false;
    bool eof_ = false;
    std::string out_;
    std::shared_ptr<StreamSink> sink_; // a monitor stream: its lines
    bool writing_ = false;
    ControlServer& srv_;
    std::shared_ptr<size_t> clients_;
};

ControlServer::ControlServer(asio::io_context& io, Options opts, Dispatch dispatch)
    : opts_(std::move(opts)), dispatch_(std::move(dispatch)), acceptor_(io)
{
    namespace fs = std::filesystem;
    std::error_code fec;
    fs::create_directories(fs::path(opts_.path).parent_path(), fec);
    // A socket file left by a dead vepad is replaced; a live one is not.
    if (fs::exists(opts_.path, fec)) {
        local::socket probe(io);
        boost::system::error_code ec;
        probe.connect(local::endpoint(opts_.path), ec);
        if (!ec)
            throw vepa::Error("another vepad answers on " + opts_.path);
        fs::remove(opts_.path, fec);
    }
    const mode_t old = ::umask(0117);
    acceptor_.open(local());
    acceptor_.bind(local::endpoint(opts_.path));
    ::umask(old);
    if (opts_.group && ::chown(opts_.path.c_str(), 0, *opts_.group) != 0)
        spdlog::warn("chown {} to group {}: {}", opts_.path, *opts_.group, std::strerror(errno));
    ::chmod(opts_.path.c_str(), 0660);
    // The kernel's maximum (somaxconn): a storm of connections waits in the backlog
    // instead of failing with EAGAIN; sessions over the limit are refused by reply.
    acceptor_.listen(asio::socket_base::max_listen_connections);
    accept();
}

ControlServer::~ControlServer() { close(); }

void ControlServer::close()
{
    if (!acceptor_.is_open())
        return;
    boost::system::error_code ec;
    acceptor_.close(ec);
    std::error_code fec;
    std::filesystem::remove(opts_.path, fec);
}

void ControlServer::accept()
{
    acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket sock) {
        if (ec == asio::error::operation_aborted)
            return;
        if (!ec) {
            ucred cred{};
            socklen_t len = sizeof(cred);
            const bool have = ::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
            auto s = std::make_shared<Session>(std::move(sock), *this);
            if (!have || !peer_allowed(cred.uid, cred.gid, cred.pid, opts_.group)) {
                spdlog::warn("control: refused uid {} (pid {}): not root nor in the socket's group", cred.uid,
                             cred.pid);
                s->refuse(proto::kErrForbidden, "only root and the vepad group may use vepad's socket");
            } else if (*clients_ > opts_.max_clients) {
                s->refuse(proto::kErrLimit, "too many control connections");
            } else {
                s->start();
            }
        }
        if (acceptor_.is_open())
            accept();
    });
}

} // namespace vepad
