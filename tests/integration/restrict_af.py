#!/usr/bin/python3
"""Run a command with socket() and socketpair() limited to some address families,
as systemd's RestrictAddressFamilies= does: a seccomp filter makes them fail with
EAFNOSUPPORT for every other family.

    restrict_af.py AF_UNIX AF_NETLINK ... -- COMMAND [ARGS...]
"""
import errno
import os
import socket
import sys

import seccomp

AF_MAX = 46  # linux/socket.h on 6.x; families at or above it fail too


def family(name):
    try:
        return int(getattr(socket, name))
    except AttributeError:
        sys.exit(f"restrict_af.py: unknown address family {name}")


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index("--")
    allowed = {family(n) for n in sys.argv[1:split]}
    command = sys.argv[split + 1:]
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for call in ("socket", "socketpair"):
        for af in range(AF_MAX):
            if af not in allowed:
                f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.EQ, af))
        f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.GE, AF_MAX))
    f.load()
    os.execvp(command[0], command)


main()
