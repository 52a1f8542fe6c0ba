#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: install packages, build,
# run every suite.  Root runs everything; anyone else gets the root-only
# suites skipped with their reason (exit 77 in meson's terms).
#   tools/test.sh [BUILD_DIR] [-- extra meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift

if [ "$(id -u)" -eq 0 ]; then
    tools/install-deps.sh
    # BPF maps are pinned on bpffs; the kernel needs it mounted once.
    mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
else
    echo "test.sh: not root: packages are not installed and the root-only suites will be skipped"
fi

if [ -d "$build" ]; then
    meson setup --reconfigure "$build" >/dev/null
else
    meson setup "$build" >/dev/null
fi
ninja -C "$build"
meson test -C "$build" --print-errorlogs "$@"
