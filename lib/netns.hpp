// Network namespaces: open one by name or path, and move the calling thread
// into it for a scope.  The tools, the benchmark and the tests all open their
// sockets and load their programs inside a namespace this way.
#pragma once

#include <string>

#include "lib/fd.hpp"

namespace vepa {

// The network namespace the calling thread is in, as an fd; throws SysError.
UniqueFd open_current_netns();

// A network namespace by name (NAME: /run/netns/NAME, as `ip netns add` makes
// it) or by path (anything with a '/': /run/netns/NAME, /proc/PID/ns/net,
// /proc/PID/fd/N); throws SysError naming it.
UniqueFd open_netns(const std::string& name_or_path);

// Tag: ScopedNetns(kNewNetns) enters a new, empty namespace (unshare).
struct NewNetns {};
inline constexpr NewNetns kNewNetns{};

// Moves the calling thread into a network namespace for its lifetime and
// back to where the thread was on destruction (also on an exception).
// Everything the thread creates meanwhile (sockets, devices, BPF links by
// ifindex) belongs to that namespace and stays there.
class ScopedNetns {
public:
    explicit ScopedNetns(const std::string& name_or_path);
    explicit ScopedNetns(int netns_fd); // the fd stays the caller's
    explicit ScopedNetns(NewNetns);
    ~ScopedNetns();
    ScopedNetns(const ScopedNetns&) = delete;
    ScopedNetns& operator=(const ScopedNetns&) = delete;

private:
    UniqueFd home_;
};

} // namespace vepa
