#!/usr/bin/env bash
# A Debian 12 root filesystem for the package tests, built once with debootstrap
# and cached: prints its directory.  The cache is keyed by the package list, so a
# change to the list builds a new one; tests must not change it (they boot an
# overlay of it: tests/package/lib.sh).
#
#   tests/package/rootfs.sh            the cached root filesystem, built if absent
#   ROOTFS_CACHE=DIR                   where to keep it (default /var/cache/vepad-tests)
set -euo pipefail
# systemd as PID 1 and what the tests use inside; then vepad's run-time libraries
# and adduser, so that installing the package needs no network.
packages=systemd,systemd-sysv,dbus,iproute2,adduser,libbpf1,libxdp1,libmnl0,libspdlog1.10,libfmt9,libpugixml1v5
suite=bookworm
mirror=${ROOTFS_MIRROR:-http://deb.debian.org/debian}
cache=${ROOTFS_CACHE:-/var/cache/vepad-tests}
key=$(printf '%s %s %s\n' "$suite" "$packages" "$mirror" | sha256sum | cut -c1-16)
dir=$cache/rootfs-$suite-$key

mkdir -p "$cache"
exec 9>"$cache/rootfs.lock"
flock 9   # one builder at a time; the others wait and use its result
if [ ! -e "$dir/.complete" ]; then
    command -v debootstrap >/dev/null || { echo "rootfs.sh: debootstrap is not installed" >&2; exit 1; }
    rm -rf "$dir.new"
    echo "rootfs.sh: building $dir (debootstrap $suite: $packages)" >&2
    start=$SECONDS
    if ! debootstrap --variant=minbase --include="$packages" "$suite" "$dir.new" "$mirror" >"$cache/debootstrap.log" 2>&1; then
        echo "rootfs.sh: debootstrap failed; the end of $cache/debootstrap.log:" >&2
        tail -20 "$cache/debootstrap.log" >&2
        exit 1
    fi
    rm -rf "$dir.new/var/cache/apt/archives/"*.deb
    touch "$dir.new/.complete"
    rm -rf "$dir"
    mv "$dir.new" "$dir"
    echo "rootfs.sh: built in $((SECONDS - start)) s" >&2
fi
echo "$dir"
