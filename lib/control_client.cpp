#include "vepa/control_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "vepa/control.hpp"

namespace vepa::proto {

std::string socket_path(const std::string& given)
{
    if (!given.empty())
        return given;
    const char* env = std::getenv(kSocketEnv);
    return env && *env ? env : kDefaultSocket;
}

namespace {

// Connects without blocking past the deadline: a Unix stream connect waits while the
// listener's backlog is full (a vepad that has stopped accepting); non-blocking, it
// fails with EAGAIN instead, and is tried again until the deadline.  The socket stays
// non-blocking: send and receive wait in poll, bounded by the same deadline.
int connect_to(const std::string& path, std::chrono::steady_clock::time_point deadline)
{
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof(sa.sun_path))
        throw ClientError("socket path too long: " + path);
    std::memcpy(sa.sun_path, path.c_str(), path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        throw ClientError(std::string("socket: ") + std::strerror(errno));
    while (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        const int err = errno;
        if (err == EINTR)
            continue;
        if (err == EAGAIN && std::chrono::steady_clock::now() < deadline) {
            ::poll(nullptr, 0, 10);
            continue;
        }
        ::close(fd);
        const std::string hint = err == ENOENT || err == ECONNREFUSED ? " (is vepad running?)"
                                 : err == EACCES                      ? " (root or the vepad group only)"
                                 : err == EAGAIN                      ? " (vepad is not accepting connections)"
                                                                      : "";
        throw ClientError("cannot connect to " + path + ": " + std::strerror(err) + hint);
    }
    return fd;
}

int ms_left(std::chrono::steady_clock::time_point deadline)
{
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// The first chunk carries the descriptor, if any.
ssize_t send_chunk(int sock, const char* data, size_t len, int pass_fd)
{
    if (pass_fd < 0)
        return ::send(sock, data, len, MSG_NOSIGNAL);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{const_cast<char*>(data), len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
    return ::sendmsg(sock, &msg, MSG_NOSIGNAL);
}

} // namespace

int connect_socket(const std::string& path, int timeout_ms)
{
    const int fd = connect_to(path, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms));
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK); // the caller reads and writes as it likes
    return fd;
}

nlohmann::json call(const std::string& path, const nlohmann::json& request, int timeout_ms, int fd)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    const auto timed_out = [&] {
        return ClientError("no reply from vepad within " + std::to_string(timeout_ms / 1000) + " s");
    };
    const int sock = connect_to(path, deadline);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{sock};
    const std::string line = request.dump() + "\n";
    size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = send_chunk(sock, line.data() + off, line.size() - off, off == 0 ? fd : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                pollfd p{sock, POLLOUT, 0};
                if (ms_left(deadline) == 0)
                    throw timed_out();
                ::poll(&p, 1, ms_left(deadline));
                continue;
            }
            // vepad may have answered (a refusal) and closed before reading: read that answer.
            if (errno == EPIPE || errno == ECONNRESET)
                break;
            throw ClientError(std::string("send to vepad: ") + std::strerror(errno));
        }
        off += static_cast<size_t>(n);
    }
    std::string buf;
    for (;;) {
        if (const auto nl = buf.find('\n'); nl != std::string::npos) {
            auto reply = nlohmann::json::parse(buf.substr(0, nl), nullptr, false);
            if (reply.is_discarded())
                throw ClientError("vepad sent a malformed reply: " + buf.substr(0, std::min<size_t>(nl, 200)));
            return reply;
        }
        if (ms_left(deadline) == 0)
            throw timed_out();
        pollfd p{sock, POLLIN, 0};
        if (::poll(&p, 1, ms_left(deadline)) < 0 && errno != EINTR)
            throw ClientError(std::string("poll: ") + std::strerror(errno));
        char chunk[65536];
        const ssize_t n = ::recv(sock, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n == 0)
            throw ClientError("vepad closed the connection without a reply");
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            throw ClientError(std::string("receive from vepad: ") + std::strerror(errno));
        }
        buf.append(chunk, static_cast<size_t>(n));
    }
}

} // namespace vepa::proto
