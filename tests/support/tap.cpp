#include "tests/support/tap.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace vepa::test {

TapFd::TapFd(const std::string& name)
{
    fd_.reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd_)
        throw std::runtime_error("open /dev/net/tun: " + std::string(std::strerror(errno)));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd_.get(), TUNSETIFF, &ifr) != 0)
        throw std::runtime_error("TUNSETIFF " + name + ": " + std::strerror(errno));
}

std::vector<Bytes> TapFd::drain()
{
    std::vector<Bytes> out;
    Bytes buf(65536);
    for (;;) {
        const ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
        if (n <= 0)
            break;
        out.emplace_back(buf.begin(), buf.begin() + n);
    }
    return out;
}

std::vector<Bytes> TapFd::collect(int timeout_ms)
{
    std::vector<Bytes> out;
    for (;;) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0)
            break;
        auto got = drain();
        out.insert(out.end(), got.begin(), got.end());
    }
    return out;
}

void TapFd::send(const Bytes& frame)
{
    if (::write(fd_.get(), frame.data(), frame.size()) != static_cast<ssize_t>(frame.size()))
        throw std::runtime_error("write to tap: " + std::string(std::strerror(errno)));
}

} // namespace vepa::test
