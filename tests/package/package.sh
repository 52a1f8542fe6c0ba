#!/usr/bin/env bash
# The Debian packages, built, checked, installed and run under a real systemd.
#
# Once per run (suite_up): `dpkg-buildpackage -b -us -uc` on a clean export of the
# tree (git archive of HEAD plus uncommitted changes to tracked files), the lab
# (tools/lablib.sh), an overlay of the cached Debian 12 root filesystem
# (tests/package/rootfs.sh), `apt-get install ./vepad_*.deb` into it, and a boot
# of it with systemd-nspawn in the lab's host namespace: the container's systemd
# runs vepad's units with their sandbox on the lab's uplink up0, and its ports are
# the lab's containers and VM.  The cases run in order; each makes the state it
# needs when a failed case left another one.
#
#   PKG_DEBS=DIR package.sh      use the packages in DIR (a .changes and its .debs)
#                                instead of building them
#   ROOTFS_CACHE=DIR             where the root filesystem is cached (rootfs.sh)
. "$(dirname "$0")/../integration/lib.sh"

PKG_SRC=$LAB_ROOT
CT_ROOT=$LAB_DIR/rootfs     # the overlay: the cached root filesystem below, the container's changes above
CT_LOG=$LAB_DIR/nspawn.log
LAB_SOCKET=$CT_ROOT/run/vepad/vepad.sock   # not used from outside: vepactl runs in the container

# --- the container ----------------------------------------------------------------
ct_pid() { cat "$LAB_DIR/ct.pid" 2>/dev/null; }          # its init (systemd)
in_ct() { nsenter -t "$(ct_pid)" -a "$@"; }              # a command in it (as root, host capabilities)
ct_vepactl() { in_ct vepactl "$@"; }
ctl() { in_ct systemctl "$@"; }
unit_state() { ctl is-active "$1" 2>/dev/null; }
# vepactl as a user of the container (setpriv: that user's ids and groups, no capability).
as_user() { local u=$1; shift; in_ct setpriv --reuid "$u" --regid "$u" --init-groups --inh-caps=-all "$@"; }

# Build the packages (once per run) into $PKG_DIR.
pkg_build() {
    [ -e "$PKG_DIR/.built" ] && return 0
    # A failed build is not tried again for the next case (the runner brings the suite up again).
    [ -e "$PKG_DIR/.failed" ] && { echo "package: the build failed (above)"; return 1; }
    mkdir -p "$PKG_DIR"
    _pkg_build || { touch "$PKG_DIR/.failed"; return 1; }
}
_pkg_build() {
    if [ -n "${PKG_DEBS:-}" ]; then
        cp "$PKG_DEBS"/*.deb "$PKG_DEBS"/*.changes "$PKG_DEBS"/*.buildinfo "$PKG_DIR"/ ||
            { echo "package: PKG_DEBS=$PKG_DEBS: no .deb, .changes and .buildinfo there"; return 1; }
        touch "$PKG_DIR/.built"
        echo "package: the packages of $PKG_DEBS"
        return 0
    fi
    local start=$SECONDS tree
    command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
        { echo "package: dpkg-dev and debhelper are not installed (tools/install-deps.sh)"; return 1; }
    git -C "$PKG_SRC" rev-parse --git-dir >/dev/null 2>&1 || { echo "package: $PKG_SRC is not a git checkout"; return 1; }
    tree=$(git -C "$PKG_SRC" stash create) || return 1
    mkdir -p "$PKG_DIR/src"
    git -C "$PKG_SRC" archive "${tree:-HEAD}" | tar -x -C "$PKG_DIR/src" || return 1
    # debhelper gives the build a HOME of its own: name ccache's directory, or it starts cold.
    if command -v ccache >/dev/null; then export CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}; fi
    if ! (cd "$PKG_DIR/src" && dpkg-buildpackage -b -us -uc -jauto) >"$PKG_DIR/build.log" 2>&1; then
        echo "package: dpkg-buildpackage failed; the end of its log:"; tail -30 "$PKG_DIR/build.log"
        return 1
    fi
    rm -rf "$PKG_DIR/src"
    echo "$((SECONDS - start))" >"$PKG_DIR/build.seconds"
    touch "$PKG_DIR/.built"
    echo "package: built in $((SECONDS - start)) s"
}

# The root filesystem: an overlay of the cached one; the packages installed with apt-get.
ct_install() {
    local base start=$SECONDS
    [ -e "$PKG_DIR/.rootfs-failed" ] && { echo "package: no root filesystem (above)"; return 1; }
    base=$("$LAB_ROOT/tests/package/rootfs.sh") || { touch "$PKG_DIR/.rootfs-failed"; return 1; }
    mkdir -p "$LAB_DIR/upper" "$LAB_DIR/work" "$CT_ROOT"
    mount -t overlay overlay -o "lowerdir=$base,upperdir=$LAB_DIR/upper,workdir=$LAB_DIR/work" "$CT_ROOT" || return 1
    mkdir -p "$CT_ROOT/root/debs" && cp "$PKG_DIR"/vepad_*.deb "$PKG_DIR"/libvepa-xsk-dev_*.deb "$CT_ROOT/root/debs/"
    # As in a chroot (a container running apt-get, no systemd), with no network: the
    # root filesystem has the run-time dependencies.
    if ! systemd-nspawn -q --register=no --keep-unit --private-network -D "$CT_ROOT" \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /root/debs/vepad_0.1.0_amd64.deb \
        >"$LAB_DIR/install.log" 2>&1; then
        echo "package: apt-get install failed:"; tail -20 "$LAB_DIR/install.log"
        return 1
    fi
    echo "package: root filesystem ready and vepad installed in $((SECONDS - start)) s"
}

# Boot the root filesystem in the lab's host namespace; returns once its systemd runs.
ct_boot() {
    local start=$SECONDS nspawn i pid=""
    SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid systemd-nspawn --register=no --keep-unit \
        --network-namespace-path="/run/netns/$NS_HOST" --capability=CAP_BPF,CAP_NET_ADMIN \
        --system-call-filter=bpf -b -D "$CT_ROOT" --console=read-only >"$CT_LOG" 2>&1 &
    nspawn=$!
    echo "$nspawn" >"$LAB_DIR/nspawn.pid"
    for i in $(seq 100); do
        pid=$(pgrep -P "$nspawn" -x systemd)   # its init, not the short-lived helper it forks first
        [ -n "$pid" ] && break
        sleep 0.1
    done
    [ -n "$pid" ] || { echo "package: systemd-nspawn did not start a container:"; tail "$CT_LOG"; return 1; }
    echo "$pid" >"$LAB_DIR/ct.pid"
    # systemd as the container's init: running, or degraded (a unit of the base system that
    # cannot run in a container).  Until its bus is up, systemctl fails at once, even with --wait.
    if ! wait_for 60 ct_booted; then
        echo "package: the container's systemd did not come up ($(in_ct systemctl is-system-running 2>&1)):"
        tail -20 "$CT_LOG"; return 1
    fi
    # bpffs: systemd mounts it on a host, not in a container.
    in_ct mount -t bpf bpf /sys/fs/bpf || return 1
    echo "package: booted in $((SECONDS - start)) s"
}

ct_booted() { [[ $(in_ct systemctl is-system-running 2>/dev/null) == @(running|degraded) ]]; }

ct_down() {
    local nspawn; nspawn=$(cat "$LAB_DIR/nspawn.pid" 2>/dev/null)
    if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
        kill -TERM "$nspawn"   # nspawn powers the container off
        for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nspawn" 2>/dev/null
    fi
    rm -f "$LAB_DIR/nspawn.pid" "$LAB_DIR/ct.pid"
    mountpoint -q "$CT_ROOT" && umount "$CT_ROOT"
    return 0
}

suite_up() {
    PKG_DIR=${PKG_DIR:-$T_DIR/pkg}
    pkg_build || return 1
    command -v systemd-nspawn >/dev/null || { echo "package: systemd-nspawn is not installed (systemd-container)"; return 1; }
    lab_up && ct_install && ct_boot
}
suite_reset() {   # the container stays up from case to case; rebuilt when it died
    kill -0 "$(ct_pid)" 2>/dev/null && [ -e "/run/netns/$NS_HOST" ]
}
suite_down() { ct_down; lab_down; }

# --- state the cases need -----------------------------------------------------------
set_uplink() { sed -i 's/^#uplink = eth0$/uplink = up0/' "$CT_ROOT/etc/vepad/vepad.conf"; }
# vepad.service enabled and running with the lab's ports c1 and tap1 (the VM).
need_vepad() {
    set_uplink
    ctl stop 'vepad@*' >/dev/null 2>&1
    [ "$(unit_state vepad)" = active ] || ctl enable --now vepad >/dev/null 2>&1 ||
        fatal "systemctl enable --now vepad failed: $(ctl status vepad --no-pager 2>&1 | tail -5)"
    wait_for 5 quiet ct_vepactl status || fatal "vepad.service does not answer"
    local p
    for p in c1 tap1; do
        [ "$(ct_vepactl list --json | jq -r --arg p $p '.ports[] | select(.name == $p) | .state')" = up ] && continue
        ct_vepactl del-port $p >/dev/null 2>&1
        if [ $p = tap1 ]; then ct_vepactl add-port tap1 --mac "$MAC_VM3"; else ct_vepactl add-port c1; fi >/dev/null ||
            fatal "vepactl add-port $p refused"
    done
}
# apt-get in the container; its output shown when it fails.
apt_in_ct() {
    # No network here: not the recommended jq, which the root filesystem lacks.
    in_ct env DEBIAN_FRONTEND=noninteractive apt-get -y --no-install-recommends "$@" >"$LAB_DIR/apt.log" 2>&1 && return 0
    sed 's/^/    apt-get: /' "$LAB_DIR/apt.log" | tail -15
    return 1
}
ct_port_state() { ct_vepactl list --json | jq -r --arg p "$1" '.ports[] | select(.name == $p) | .state'; }
main_pid() { ctl show -p MainPID --value "$1"; }   # in the container's PID namespace

# --- the cases ------------------------------------------------------------------------
test_build() {
    section "dpkg-buildpackage -b -us -uc on a clean export ($(cat "$PKG_DIR/build.seconds" 2>/dev/null || echo '?') s)"
    local deb=$PKG_DIR/vepad_0.1.0_amd64.deb dev=$PKG_DIR/libvepa-xsk-dev_0.1.0_amd64.deb f
    check "vepad_0.1.0_amd64.deb built" test -s "$deb"
    check "libvepa-xsk-dev_0.1.0_amd64.deb built" test -s "$dev"
    local files; files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||')
    for f in /usr/sbin/vepad /usr/sbin/vepactl /usr/bin/vepa-xsk /usr/lib/cni/vepa /usr/libexec/vepad-libvirt-hook \
        /etc/libvirt/hooks/qemu.d/vepad /lib/systemd/system/vepad.service /lib/systemd/system/vepad@.service \
        /etc/vepad/vepad.conf /usr/lib/sysusers.d/vepad.conf /usr/share/bash-completion/completions/vepactl \
        /usr/share/man/man8/vepad.8.gz /usr/share/man/man8/vepactl.8.gz /usr/share/man/man5/vepad.conf.5.gz \
        /usr/share/man/man8/vepa-cni.8.gz /usr/share/man/man8/vepad-libvirt-hook.8.gz /usr/share/man/man1/vepa-xsk.1.gz \
        /usr/share/doc/vepad/README.Debian; do
        check "vepad ships $f" grep -qx "$f" <<<"$files"
    done
    check_eq "conffiles: the config file only" /etc/vepad/vepad.conf "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)"
    files=$(dpkg-deb -c "$dev" | awk '{print $6}' | sed 's|^\.||')
    for f in /usr/include/vepa/xsk.hpp /usr/lib/x86_64-linux-gnu/libvepa-xsk.a /usr/lib/x86_64-linux-gnu/pkgconfig/vepa-xsk.pc; do
        check "libvepa-xsk-dev ships $f" grep -qx "$f" <<<"$files"
    done
}

test_lintian() {
    command -v lintian >/dev/null || fatal "lintian is not installed"
    section "lintian, every level shown (debian/vepad.lintian-overrides explains what it overrides)"
    local changes=$PKG_DIR/vepad_0.1.0_amd64.changes out rc
    out=$(lintian -I -E --pedantic --fail-on error,warning "$changes" 2>&1)
    rc=$?
    out=$(grep -v 'running with root privileges' <<<"$out")
    [ -z "$out" ] || printf '    %s\n' "$out"
    check_eq "lintian passes (--fail-on error,warning)" 0 "$rc"
    check_eq "no error" 0 "$(grep -c '^E:' <<<"$out")"
    check_eq "no warning" 0 "$(grep -c '^W:' <<<"$out")"
    # Info, pedantic and experimental tags are shown, not fatal: an override of an info tag
    # that a code change makes go away (spelling-error-in-binary) shows as unused-override.
    check "lintian looked at vepad (its tags without the overrides)" \
        grep -q '^.: vepad: ' <(lintian -I -E --pedantic --no-override "$changes" 2>&1)
}

test_dev_package() {
    section "libvepa-xsk-dev: a program built with pkg-config vepa-xsk"
    local d=$LAB_DIR/dev
    mkdir -p "$d" && dpkg-deb -x "$PKG_DIR"/libvepa-xsk-dev_0.1.0_amd64.deb "$d/root"
    cat >"$d/use.cpp" <<'EOF'
#include <vepa/xsk.hpp>
#include <iostream>
int main(int argc, char**)
{
    if (argc > 1) { // links the library's code; not run
        vepa::xsk::Socket s("lo", 0);
        return static_cast<int>(vepa::xsk::attach_to_vepad(s));
    }
    std::cout << vepa::xsk::Options{}.frames << "\n";
}
EOF
    local flags
    flags=$(PKG_CONFIG_PATH=$d/root/usr/lib/x86_64-linux-gnu/pkgconfig pkg-config --define-variable=prefix="$d/root/usr" \
        --cflags --libs vepa-xsk) || fatal "pkg-config vepa-xsk failed"
    # shellcheck disable=SC2086
    check "it compiles and links" g++ -std=c++20 -o "$d/use" "$d/use.cpp" $flags
    check_eq "and runs" 4096 "$("$d/use")"
}

test_installed() {
    section "apt-get install ./vepad_0.1.0_amd64.deb into a fresh Debian 12 root filesystem"
    local f
    for f in /usr/sbin/vepad /usr/sbin/vepactl /usr/bin/vepa-xsk /usr/lib/cni/vepa /etc/libvirt/hooks/qemu.d/vepad; do
        check "$f is an executable" in_ct test -x "$f"
    done
    for f in man8/vepad.8 man8/vepactl.8 man5/vepad.conf.5 man8/vepa-cni.8 man8/vepad-libvirt-hook.8 man1/vepa-xsk.1; do
        check "man page $f" in_ct test -s "/usr/share/man/$f.gz"
    done
    check "vepad.8 is a man page naming vepactl(8)" grep -q 'vepactl' <(zcat "$CT_ROOT/usr/share/man/man8/vepad.8.gz")
    check "bash completion in place" in_ct test -s /usr/share/bash-completion/completions/vepactl
    check_eq "vepad --version" "vepad 0.1.0" "$(in_ct vepad --version)"
    check "group vepad made" quiet in_ct getent group vepad
    check_eq "the group is a system group" yes "$(in_ct getent group vepad | awk -F: '{print ($3 < 1000) ? "yes" : "no"}')"
    local u out
    for u in vepad.service vepad@.service; do
        out=$(in_ct systemd-analyze verify --man=no "/lib/systemd/system/$u" 2>&1)
        check "systemd-analyze verify $u: clean" test -z "$out"
        [ -z "$out" ] || printf '    %s\n' "$out"
    done
    check_eq "vepad.service installed, not enabled" disabled "$(ctl is-enabled vepad.service)"
    check_eq "and not started" inactive "$(unit_state vepad)"
    check "the config file names no uplink yet" not grep -q '^uplink' "$CT_ROOT/etc/vepad/vepad.conf"
}

test_service() {
    section "systemctl enable --now vepad, after setting the uplink in /etc/vepad/vepad.conf"
    set_uplink
    check "vepad --check-config accepts the file" quiet in_ct vepad --check-config
    check "systemctl enable --now vepad" quiet ctl enable --now vepad
    check_eq "active (Type=notify: READY=1 received)" active "$(unit_state vepad)"
    check "its status line came by sd_notify" grep -q '^StatusText=uplink up0 up' <(ctl show -p StatusText vepad)
    check_eq "enabled" enabled "$(ctl is-enabled vepad)"
    check "vepactl status answers on /run/vepad/vepad.sock" quiet ct_vepactl status
    check_eq "the socket: mode 0660, group vepad" "660 vepad" "$(in_ct stat -c '%a %G' /run/vepad/vepad.sock)"
    # CAP_CHOWN 0, CAP_NET_ADMIN 12, CAP_NET_RAW 13, CAP_SYS_ADMIN 21, CAP_BPF 39: the unit's five.
    check_eq "vepad runs with the unit's bounding set" "$(printf '%016x' $(((1 << 0) | (1 << 12) | (1 << 13) | (1 << 21) | (1 << 39))))" \
        "$(in_ct awk '/^CapBnd/ {print $2}' "/proc/$(main_pid vepad)/status")"
    local st
    st=$(ct_vepactl status --json)
    check_eq "the uplink" "up0 up" "$(jq -r '"\(.uplink.name) \(.uplink.state)"' <<<"$st" 2>/dev/null)"
    quiet ct_vepactl probe
    st=$(ct_vepactl status --json)
    check_eq "the reflection probe works under the sandbox (AF_PACKET, CAP_NET_RAW)" reflecting \
        "$(jq -r .reflective_relay.probe.state <<<"$st")"
    check_ge "the LLDP agent sends under the sandbox" 1 "$(jq -r .reflective_relay.lldp.sent <<<"$st")"
    check_eq "with no send error" 0 "$(jq -r .reflective_relay.lldp.send_errors <<<"$st")"
    check "add-port c1" quiet ct_vepactl add-port c1
    check "add-port tap1 (the VM)" quiet ct_vepactl add-port tap1 --mac "$MAC_VM3"
    check "the container reaches the remote host through vepad and the switch" reachable "$NS_C1" "$IP_REM"
    check "so does the VM" reachable "$NS_VM3" "$IP_REM"
    # The two add-ports are in the state file's journal (the snapshot comes at a fold or a clean stop).
    check "the port table is in the unit's StateDirectory, c1 and tap1 in it" in_ct \
        grep -q '"tap1"' /var/lib/vepad/ports-up0.json.journal
    ctl stop vepad
    check "stopped cleanly: folded into the snapshot, journal gone" in_ct \
        sh -c 'grep -q "\"tap1\"" /var/lib/vepad/ports-up0.json && ! test -e /var/lib/vepad/ports-up0.json.journal'
    check "started again" quiet ctl start vepad
}

test_group_access() {
    need_vepad
    section "vepactl as a member of the group vepad, and as another user"
    in_ct id alice >/dev/null 2>&1 || in_ct useradd -M -G vepad alice
    in_ct id bob >/dev/null 2>&1 || in_ct useradd -M bob
    check "alice (group vepad): vepactl status works" quiet as_user alice vepactl status
    check "alice: vepactl list shows the ports" grep -q c1 <(as_user alice vepactl list)
    # The installed completion, as alice, against this vepad (no jq here: vepactl's table).
    check_eq "alice: vepactl del-port <Tab> completes the ports" "c1 tap1" "$(as_user alice bash -c \
        '. /usr/share/bash-completion/completions/vepactl; COMP_WORDS=(vepactl del-port ""); COMP_CWORD=2
         _vepactl; printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd " "')"
    local out rc
    out=$(as_user bob vepactl status 2>&1); rc=$?
    check_eq "bob (not in the group): refused, exit status 1" 1 "$rc"
    check "with a reason" grep -qi 'permission denied\|not allowed\|refused' <<<"$out"
    [ $rc -eq 1 ] || printf '    %s\n' "$out"
}

test_stop_start() {
    need_vepad
    section "systemctl stop leaves the dataplane forwarding; systemctl start takes it over"
    check "systemctl stop vepad" quiet ctl stop vepad
    check_eq "inactive" inactive "$(unit_state vepad)"
    check "no vepad answers" not quiet ct_vepactl status
    lab_flush_arp "$NS_C1" "$NS_REM"
    check "the container still reaches the remote host" reachable "$NS_C1" "$IP_REM"
    check "systemctl start vepad" quiet ctl start vepad
    check_eq "active" active "$(unit_state vepad)"
    check_eq "it took the ports over" "up up" "$(ct_port_state c1) $(ct_port_state tap1)"
    check "and forwards" reachable "$NS_VM3" "$IP_REM"
}

test_restart_under_traffic() {
    need_vepad
    section "systemctl restart vepad under 4 streams of 10 kpps: no frame lost"
    [ -x "$STREAM_BIN" ] || fatal "$STREAM_BIN is not built"
    local before; before=$(main_pid vepad)
    streams_start 6
    sleep 2
    check "systemctl restart vepad" quiet ctl restart vepad
    check_eq "active again" active "$(unit_state vepad)"
    check "a new vepad" test "$(main_pid vepad)" != "$before"
    streams_check "restart"
}

test_template() {
    need_vepad
    section "vepad@up0.service instead of vepad.service, with no uplink in the config file"
    check "systemctl disable --now vepad" quiet ctl disable --now vepad
    sed -i 's/^uplink = up0$/#uplink = eth0/' "$CT_ROOT/etc/vepad/vepad.conf"
    check "the config file names no uplink" not grep -q '^uplink' "$CT_ROOT/etc/vepad/vepad.conf"
    check "systemctl start vepad@up0" quiet ctl start vepad@up0
    check_eq "active (READY=1)" active "$(unit_state vepad@up0)"
    check "its socket is /run/vepad/up0.sock" quiet ct_vepactl --socket /run/vepad/up0.sock status
    check_eq "it took over the ports of the same state file" "up up" \
        "$(ct_vepactl --socket /run/vepad/up0.sock list --json | jq -r '[.ports[] | select(.name == "c1" or .name == "tap1") | .state] | join(" ")')"
    check "and forwards" reachable "$NS_C1" "$IP_REM"
    check "systemctl stop vepad@up0" quiet ctl stop vepad@up0
}

# GET /metrics from inside the container (no curl in its root filesystem: bash's /dev/tcp).
ct_scrape() {
    in_ct bash -c 'exec 3<>/dev/tcp/127.0.0.1/9477 && printf "GET /metrics HTTP/1.0\r\nHost: vepad\r\n\r\n" >&3 && cat <&3'
}

test_metrics_dropin() {
    need_vepad
    section "metrics under the unit's sandbox: no AF_INET without the README's drop-in, served with it"
    local conf="$CT_ROOT/etc/vepad/vepad.conf" dropin="$CT_ROOT/etc/systemd/system/vepad.service.d"
    on_cleanup "rm -rf '$dropin'; sed -i '/^metrics_listen/d' '$conf'; ctl daemon-reload; ctl reset-failed vepad; ctl restart vepad"
    echo 'metrics_listen = 127.0.0.1:9477' >>"$conf"
    check "vepad --check-config accepts it" quiet in_ct vepad --check-config
    check "without the drop-in: systemctl restart vepad fails" not quiet ctl restart vepad
    check "the journal names the address" grep -q '127.0.0.1:9477' <(in_ct journalctl -u vepad --no-pager -n 30 2>&1)
    mkdir -p "$dropin"
    printf '[Service]\nRestrictAddressFamilies=\nRestrictAddressFamilies=AF_UNIX AF_NETLINK AF_PACKET AF_INET AF_INET6\n' \
        >"$dropin/metrics.conf"
    check "systemctl daemon-reload" quiet ctl daemon-reload
    ctl reset-failed vepad >/dev/null 2>&1
    check "with it: systemctl restart vepad" quiet ctl restart vepad
    check_eq "active" active "$(unit_state vepad)"
    wait_for 5 quiet ct_vepactl status
    local m; m=$(ct_scrape)
    check "GET /metrics: 200 with the exposition" grep -q '^HTTP/1\.[01] 200' <<<"$m"
    check "vepad_build_info" grep -q '^vepad_build_info{' <<<"$m"
    check "c1 up" grep -q '^vepad_port_up{.*port="c1".*} 1' <<<"$m"
    check "and the dataplane forwards" reachable "$NS_C1" "$IP_REM"
}

test_upgrade() {
    need_vepad
    section "the package installed again over a running vepad (as an upgrade): restarted, no frame lost"
    local before; before=$(main_pid vepad)
    streams_start 8
    sleep 1
    check "apt-get install --reinstall" apt_in_ct install --reinstall /root/debs/vepad_0.1.0_amd64.deb
    check_eq "vepad active" active "$(unit_state vepad)"
    check "restarted by the postinst (a new vepad)" test "$(main_pid vepad)" != "$before"
    check_eq "still enabled" enabled "$(ctl is-enabled vepad)"
    streams_check "upgrade"
}

test_remove_purge() {
    need_vepad
    section "apt-get remove: the program goes, the config, state and group stay"
    check "apt-get remove vepad" apt_in_ct remove vepad
    check_eq "vepad stopped" inactive "$(unit_state vepad)"
    check "no /usr/sbin/vepad" not in_ct test -e /usr/sbin/vepad
    check "no unit file" not in_ct test -e /lib/systemd/system/vepad.service
    check "the config file stays" in_ct test -s /etc/vepad/vepad.conf
    check "the state stays" in_ct test -s /var/lib/vepad/ports-up0.json
    check "the group stays" quiet in_ct getent group vepad
    check "the dataplane left keeps forwarding (README.Debian)" reachable "$NS_C1" "$IP_REM"

    section "apt-get purge: config, state and group gone"
    check "apt-get purge vepad" apt_in_ct purge vepad
    check "no /etc/vepad" not in_ct test -e /etc/vepad
    check "no /var/lib/vepad" not in_ct test -e /var/lib/vepad
    check "no /run/vepad" not in_ct test -e /run/vepad
    check "no group vepad" not quiet in_ct getent group vepad
    check_eq "dpkg forgot it" "" "$(in_ct dpkg-query -W -f='${Status}' vepad 2>/dev/null)"
    check "no unit left enabled" not in_ct test -e /etc/systemd/system/multi-user.target.wants/vepad.service
}

test_install_on_running_system() {
    section "apt-get install on a running system: the units stay disabled and stopped"
    apt_in_ct purge vepad >/dev/null
    check "apt-get install ./vepad_0.1.0_amd64.deb under the container's systemd" apt_in_ct \
        install /root/debs/vepad_0.1.0_amd64.deb
    check_eq "vepad.service not enabled" disabled "$(ctl is-enabled vepad.service)"
    check_eq "not started (not failed either: it was never tried)" inactive "$(unit_state vepad)"
    set_uplink
    check "installed again with an uplink set" apt_in_ct install --reinstall /root/debs/vepad_0.1.0_amd64.deb
    check_eq "still not started: only the admin enables it" inactive "$(unit_state vepad)"
    check "systemctl enable --now vepad then starts it" quiet ctl enable --now vepad
    check_eq "active" active "$(unit_state vepad)"
}

run_tests
