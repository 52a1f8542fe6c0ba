#!/usr/bin/env bash
# The benchmark on a fresh Debian 12 machine, as root: install packages, build
# (in build, the README's build directory, unless BUILD is set), then run
# bench/run.py with the arguments given (see bench/run.py --help). About 14
# minutes once built; results in bench/results/latest/ (results.md,
# results.json, summary.md, mpps.png).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh: run as root (network namespaces, BPF)" >&2; exit 77; }
tools/install-deps.sh
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
export BUILD=${BUILD:-$PWD/build}
if [ -d "$BUILD" ]; then
    meson setup --reconfigure "$BUILD" >/dev/null
else
    meson setup "$BUILD" >/dev/null
fi
ninja -C "$BUILD" >/dev/null
exec python3 bench/run.py "$@"
