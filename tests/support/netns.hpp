// Network namespaces for tests.  The test process moves itself into a private
// namespace at start, so everything it creates vanishes when it exits, even
// after a crash; extra namespaces live as long as their Netns object (an fd).
#pragma once

#include <string>

#include "lib/fd.hpp"
#include "lib/netns.hpp"

namespace vepa::test {

// unshare(CLONE_NEWNET) for the whole process, loopback up.
void enter_private_netns();

// Exit 77 (skip) with the reason unless running as root.
void require_root_or_skip(const char* suite);

class Netns {
public:
    Netns();                                          // a new, empty namespace
    const std::string& path() const { return path_; } // for `ip link set X netns PATH`
    int fd() const { return fd_.get(); }

    // Run fn with the calling thread inside this namespace.
    template <typename F> auto run(F&& fn) const
    {
        ScopedNetns in(fd());
        return fn();
    }
    // Run a shell command inside it.
    void sh(const std::string& cmd) const;

private:
    UniqueFd fd_;
    std::string path_;
};

// Moves the calling thread into a new, empty namespace for its lifetime and
// back on destruction: each testbed gets its own, so several can coexist.
class NetnsScope {
public:
    NetnsScope();

private:
    ScopedNetns in_{kNewNetns};
};

// Run a shell command; throws with its output when it fails.
void sh(const std::string& cmd);
// Same, returning stdout.
std::string sh_out(const std::string& cmd);

int ifindex_of(const std::string& name);

} // namespace vepa::test
