#include "daemon/rtnl_monitor.hpp"
#include "daemon/when_readable.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <vector>

#include "lib/error.hpp"

namespace vepad {

namespace {
int open_monitor(int bufsize)
{
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        throw vepa::SysError(errno, "rtnetlink monitor socket");
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)) != 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
    const int one = 1;
    ::setsockopt(fd, SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, &one, sizeof(one));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        const int err = errno;
        ::close(fd);
        throw vepa::SysError(err, "rtnetlink monitor bind");
    }
    return fd;
}
} // namespace

RtnlMonitor::RtnlMonitor(boost::asio::io_context& io, int rcvbuf, LinkHandler on_link, std::function<void()> on_overrun)
    : sd_(io, open_monitor(rcvbuf)), on_link_(std::move(on_link)), on_overrun_(std::move(on_overrun))
{}

void RtnlMonitor::start() { arm(); }

void RtnlMonitor::arm()
{
    when_readable(sd_, [this] {
        drain();
        return true;
    });
}

void RtnlMonitor::drain()
{
    std::vector<char> buf(1 << 16);
    char cbuf[CMSG_SPACE(sizeof(int))];
    for (;;) {
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof(cbuf);
        const ssize_t n = ::recvmsg(sd_.native_handle(), &msg, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            if (errno == ENOBUFS) {
                spdlog::warn("rtnetlink: events lost (receive buffer overrun); re-reading every link");
                on_overrun_();
                continue;
            }
            spdlog::error("rtnetlink monitor: {}", std::strerror(errno));
            return;
        }
        std::optional<int> nsid;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_NETLINK && c->cmsg_type == NETLINK_LISTEN_ALL_NSID)
                nsid = *reinterpret_cast<int*>(CMSG_DATA(c));
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
                continue;
            if (auto link = vepa::parse_link(nlh))
                on_link_(*link, nlh->nlmsg_type == RTM_DELLINK, nsid);
        }
    }
}

} // namespace vepad
