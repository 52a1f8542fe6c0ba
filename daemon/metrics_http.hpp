// GET /metrics over HTTP/1.1 (Boost.Beast) on the daemon's io_context, for a
// Prometheus server to scrape: no thread of its own, nothing but GET and HEAD of
// /metrics, bounded in everything a client controls (connections, header size,
// time to send a request), so a hostile or broken client costs a socket and a
// timer and never blocks the loop that forwards commands and events.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "daemon/config.hpp"

namespace vepad {

class MetricsHttp {
public:
    struct Options {
        ListenAddress listen;
        size_t max_clients = 32;                   // more are closed at once
        std::chrono::seconds request_timeout{10};  // for a request to arrive complete
        size_t header_limit = 8 * 1024;            // bytes of request line and headers
    };
    // render: the exposition text, called for every GET.  Throws vepa::SysError when
    // the address cannot be bound.
    MetricsHttp(boost::asio::io_context& io, Options opts, std::function<std::string()> render);
    ~MetricsHttp();
    size_t clients() const { return *clients_; }
    uint16_t port() const; // the bound port (the one asked for, or the kernel's for port 0)

private:
    class Session;
    void accept();

    Options opts_;
    std::function<std::string()> render_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;
    std::shared_ptr<size_t> clients_ = std::make_shared<size_t>(0);
};

} // namespace vepad
