#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: install packages, build,
# run every suite.  Root runs everything; anyone else gets the root-only
# suites skipped with their reason (exit 77 in meson's terms).
#
#   tools/test.sh [--sanitize] [BUILD_DIR] [-- extra meson test args]
#
# --sanitize builds with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (-Db_sanitize=address,undefined) plus the libFuzzer targets, and runs the
# unit, dataplane, integration and fuzz suites on that build (default build
# directory build-san; FUZZ_SECONDS sets the fuzzing time, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=0
if [ "${1:-}" = "--sanitize" ]; then sanitize=1; shift; fi
build=${1:-$([ $sanitize = 1 ] && echo build-san || echo build)}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift

if [ "$(id -u)" -eq 0 ]; then
    tools/install-deps.sh
    # BPF maps are pinned on bpffs; the kernel needs it mounted once.
    mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
else
    echo "test.sh: not root: packages are not installed and the root-only suites will be skipped"
fi

opts=()
if [ $sanitize = 1 ]; then
    export CC=clang CXX=clang++
    opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true "-Dfuzz_seconds=${FUZZ_SECONDS:-60}")
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
if [ -d "$build" ]; then
    meson setup --reconfigure "${opts[@]}" "$build" >/dev/null
else
    meson setup "${opts[@]}" "$build" >/dev/null
fi
ninja -C "$build"
if [ $sanitize = 1 ]; then
    meson test -C "$build" --print-errorlogs --suite unit --suite golden --suite integration --suite fuzz "$@"
else
    meson test -C "$build" --print-errorlogs "$@"
fi
