// The event loop's way of following a descriptor: call a handler each time it
// has data, until the wait fails (closed, cancelled) or the handler says stop.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>

#include <utility>

namespace vepad {

// on_readable() -> bool: true to keep following sd.  sd must outlive the wait.
template <class F> void when_readable(boost::asio::posix::stream_descriptor& sd, F on_readable)
{
    sd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [&sd, f = std::move(on_readable)](const boost::system::error_code& ec) mutable {
                      if (!ec && f())
                          when_readable(sd, std::move(f));
                  });
}

} // namespace vepad
