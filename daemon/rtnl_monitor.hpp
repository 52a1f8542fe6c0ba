// Link events from rtnetlink (RTNLGRP_LINK), ours and those of every namespace
// with an id here (so a container's end of a veth is followed too), delivered
// on the daemon's io_context.  A receive-buffer overrun (ENOBUFS) means events
// were lost: the owner must re-read everything.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <optional>

#include "lib/netlink.hpp"

namespace vepad {

class RtnlMonitor {
public:
    // nsid: set when the link lives in another namespace.
    using LinkHandler = std::function<void(const vepa::LinkInfo&, bool removed, std::optional<int> nsid)>;

    RtnlMonitor(boost::asio::io_context& io, int rcvbuf, LinkHandler on_link, std::function<void()> on_overrun);
    // Subscribed from construction: events between then and start() queue in the socket.
    void start();

private:
    void arm();
    void drain();

    boost::asio::posix::stream_descriptor sd_;
    LinkHandler on_link_;
    std::function<void()> on_overrun_;
};

} // namespace vepad
