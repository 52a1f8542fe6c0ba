#include "lib/netns.hpp"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lib/error.hpp"

namespace vepa {

UniqueFd open_current_netns()
{
    // thread-self, not self: setns() moves one thread, and the others may be elsewhere.
    UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw SysError(errno, "open the current network namespace");
    return fd;
}

UniqueFd open_netns(const std::string& name_or_path)
{
    const std::string path = name_or_path.find('/') == std::string::npos ? "/run/netns/" + name_or_path : name_or_path;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw SysError(errno, "open network namespace " + path);
    return fd;
}

static void enter(int netns_fd, const std::string& what)
{
    if (::setns(netns_fd, CLONE_NEWNET) != 0)
        throw SysError(errno, "enter network namespace " + what);
}

ScopedNetns::ScopedNetns(const std::string& name_or_path) : home_(open_current_netns())
{
    enter(open_netns(name_or_path).get(), name_or_path);
}

ScopedNetns::ScopedNetns(int netns_fd) : home_(open_current_netns())
{
    enter(netns_fd, "fd " + std::to_string(netns_fd));
}

ScopedNetns::ScopedNetns(NewNetns) : home_(open_current_netns())
{
    if (::unshare(CLONE_NEWNET) != 0)
        throw SysError(errno, "unshare(CLONE_NEWNET)");
}

ScopedNetns::~ScopedNetns()
{
    // Going on in the wrong namespace would put the caller's next sockets and
    // devices somewhere else without a word: stop instead.
    if (::setns(home_.get(), CLONE_NEWNET) != 0) {
        std::fprintf(stderr, "cannot return to the original network namespace: %s\n", std::strerror(errno));
        std::abort();
    }
}

} // namespace vepa
