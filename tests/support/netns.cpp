#include "tests/support/netns.hpp"

#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace vepa::test {

void require_root_or_skip(const char* suite)
{
    if (geteuid() != 0) {
        std::cout << "SKIP " << suite << ": needs root (network namespaces, BPF programs)" << std::endl;
        std::exit(77);
    }
}

// Loopback up, IPv6 off (no router solicitations or DAD frames on the test links).
static void quiet_namespace()
{
    sh("ip link set lo up");
    sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
}

void enter_private_netns()
{
    if (unshare(CLONE_NEWNET) != 0)
        throw std::runtime_error("unshare(CLONE_NEWNET) failed");
    quiet_namespace();
}

Netns::Netns()
{
    ScopedNetns in(kNewNetns);
    fd_ = open_current_netns();
    path_ = "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(fd_.get());
    quiet_namespace();
}

NetnsScope::NetnsScope() { quiet_namespace(); }

void Netns::sh(const std::string& cmd) const { vepa::test::sh("nsenter --net=" + path_ + " sh -c '" + cmd + "'"); }

std::string sh_out(const std::string& cmd)
{
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p)
        throw std::runtime_error("popen: " + cmd);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        out.append(buf, n);
    const int rc = ::pclose(p);
    if (rc != 0)
        throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + cmd + "\n" + out);
    return out;
}

void sh(const std::string& cmd) { (void)sh_out(cmd); }

int ifindex_of(const std::string& name)
{
    const unsigned idx = if_nametoindex(name.c_str());
    if (!idx)
        throw std::runtime_error("no interface " + name);
    return static_cast<int>(idx);
}

} // namespace vepa::test
