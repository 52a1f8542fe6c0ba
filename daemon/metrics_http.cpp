#include "daemon/metrics_http.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/metrics.hpp"
#include "lib/error.hpp"

namespace vepad {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// The response to one request: /metrics for GET and HEAD, else 404 or 405.
http::response<http::string_body> respond(const http::request<http::empty_body>& req,
                                          const std::function<std::string()>& render)
{
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "vepad");
    const bool get = req.method() == http::verb::get, head = req.method() == http::verb::head;
    if (!get && !head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.set(http::field::content_type, "text/plain");
        res.body() = "only GET and HEAD\n";
    } else if (req.target() != "/metrics") {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "vepad serves /metrics only\n";
    } else {
        res.result(http::status::ok);
        res.set(http::field::content_type, kMetricsContentType);
        res.body() = render();
    }
    res.prepare_payload();
    if (head)
        res.body().clear(); // Content-Length stays the GET's
    return res;
}

} // namespace

class MetricsHttp::Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket sock, MetricsHttp& srv) : stream_(std::move(sock)), srv_(srv), clients_(srv.clients_)
    {
        ++*clients_;
    }
    ~Session() { --*clients_; }

    void read()
    {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(srv_.opts_.header_limit));
        parser_->body_limit(0); // a request with a body is refused by the parser
        stream_.expires_after(srv_.opts_.request_timeout);
        http::async_read(stream_, buf_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

private:
    void on_read(beast::error_code ec)
    {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted)
            return close();
        if (ec) // malformed, too large, a body: say so once, then close
            return bad_request(ec.message());
        res_ = respond(parser_->get(), srv_.render_);
        write();
    }
    void bad_request(const std::string& why)
    {
        res_ = {};
        res_.result(http::status::bad_request);
        res_.version(11);
        res_.keep_alive(false);
        res_.set(http::field::content_type, "text/plain");
        res_.body() = why + "\n";
        res_.prepare_payload();
        write();
    }
    void write()
    {
        stream_.expires_after(srv_.opts_.request_timeout); // a client that does not read is dropped too
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec || !self->res_.keep_alive())
                return self->close();
            self->read();
        });
    }
    void close()
    {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buf_{8 * 1024};
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> res_;
    MetricsHttp& srv_;
    std::shared_ptr<size_t> clients_;
};

MetricsHttp::MetricsHttp(asio::io_context& io, Options opts, std::function<std::string()> render)
    : opts_(std::move(opts)), render_(std::move(render)), acceptor_(io), retry_(io)
{
    try {
        const tcp::endpoint ep(asio::ip::make_address(opts_.listen.address), opts_.listen.port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
    } catch (const boost::system::system_error& e) {
        throw vepa::SysError(e.code().value(), "metrics_listen " + opts_.listen.str());
    }
    spdlog::info("serving metrics at http://{}/metrics", ListenAddress{opts_.listen.address, port()}.str());
    accept();
}

MetricsHttp::~MetricsHttp()
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
}

uint16_t MetricsHttp::port() const { return acceptor_.local_endpoint().port(); }

void MetricsHttp::accept()
{
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket sock) {
        if (ec == asio::error::operation_aborted)
            return;
        if (ec) { // out of descriptors, say: try again in a while rather than spin
            spdlog::debug("metrics: accept: {}", ec.message());
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](boost::system::error_code e) {
                if (!e)
                    accept();
            });
            return;
        }
        {
            if (*clients_ >= opts_.max_clients) {
                boost::system::error_code ignored;
                sock.close(ignored); // over the limit: closed at once
            } else {
                std::make_shared<Session>(std::move(sock), *this)->read();
            }
        }
        accept();
    });
}

} // namespace vepad
