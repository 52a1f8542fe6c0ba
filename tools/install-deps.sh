#!/usr/bin/env bash
# Install what vepad needs to build, test and run on Debian 12 (bookworm).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (apt-get)" >&2
    exit 1
fi
packages=(
    # build
    meson ninja-build pkg-config g++ clang llvm libbpf-dev libxdp-dev bpftool
    linux-libc-dev libboost-dev libspdlog-dev nlohmann-json3-dev libmnl-dev libsystemd-dev
    libcli11-dev catch2 libpugixml-dev
    # tests and the lab: namespaces, veth/tap, ethtool, ping, captures, unit checks
    iproute2 ethtool iputils-ping tcpdump util-linux kmod systemd procps jq python3
    # the units' RestrictAddressFamilies=, enforced in the systemd test as systemd does
    python3-seccomp
    # the Kubernetes manifests' test (tests/deploy): YAML; objdump is in binutils (g++)
    python3-yaml
    # LLDP peers for the reflective-relay tests: lldpad (802.1Qbg EVB bridge), lldpd
    lldpad lldpd
    # the CNI plugin's tests: the host-local IPAM plugin
    containernetworking-plugins
    # metrics: promtool checks the exposition and the alert rules; curl scrapes /metrics
    prometheus curl
    # the podman test and the lab's podman container: a real runtime calling the CNI plugin
    # (podman 4.3's CNI backend; runc, as crun refuses hybrid cgroup layouts; busybox-static
    # for a minimal root filesystem run with --rootfs)
    podman runc busybox-static
    # the libvirt hook's test: libvirtd, virtlogd, virsh and the QEMU driver with a
    # TCG QEMU and its iPXE ROMs for integration-libvirt (libvirt-daemon-system brings the configs,
    # /etc/libvirt/hooks and the libvirt-qemu user; the test runs libvirtd with configs of its own)
    libvirt-daemon-system libvirt-clients qemu-system-x86
    # benchmarks: plots
    gnuplot-nox
    # sanitizers and the fuzzer runtime
    libclang-rt-14-dev
    # man pages (scdoc) and the bash completion's directory (bash-completion's pkg-config file)
    scdoc bash-completion
    # the package suite: the .deb (dpkg-buildpackage, debhelper), lintian, a Debian 12 root
    # filesystem (debootstrap) booted with systemd-nspawn
    dpkg-dev debhelper lintian debootstrap systemd-container
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps.sh: all ${#packages[@]} packages present"
    exit 0
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
