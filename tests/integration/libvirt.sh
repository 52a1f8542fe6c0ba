#!/usr/bin/env bash
# The libvirt hook (libvirt/, installed as qemu.d/vepad) under a real libvirtd with
# TCG QEMU domains on the lab: a domain's <target dev> tap and a tap libvirt names
# itself (matched by MAC) become vepad ports with the domain's MAC, come up, carry the
# guest's iPXE frames to the switch and go at destroy; a MAC another port has, bad
# metadata and a stopped vepad (required yes/no) fail or start the domain as
# documented; a domain without vepad metadata is left alone.  The hook run directly
# covers what libvirtd does not easily produce: a start again, changed settings, a
# name another guest holds, release by owner, a hung vepad, release with vepad gone.
# And QEMU without libvirt: a tap made beforehand, vepactl add-port, -netdev tap.
#
# libvirtd runs in the lab's host namespace in a mount namespace of its own: temporary
# directories over /etc/libvirt (configs of this test, the built hook as
# hooks/qemu.d/vepad), /run (a tmpfs, with /run/libvirt), /var/lib/libvirt,
# /var/log/libvirt and /var/cache/libvirt, so nothing of the host's libvirt is read or
# changed.  QEMU runs as root without cgroups, namespaces or a security driver; no
# virtlogd (stdio_handler = "file").  Everything is stopped and removed at the end.
. "$(dirname "$0")/lib.sh"

HOOK_BIN=$BUILD/libvirt/vepad-libvirt-hook
HOOK_INSTALLED=$BUILD/libvirt/vepad   # as installed: SYSCONFDIR/libvirt/hooks/qemu.d/vepad (a symlink to LIBEXECDIR/vepad-libvirt-hook)
NS_URI=https://github.com/vepad/xmlns/libvirt/1
LV_DIR=/tmp/$LAB-libvirt
LV_URI="qemu:///system?socket=$LV_DIR/run/libvirt-sock"
# The domains' MACs (QEMU's prefix), one per domain of the cases.
MAC_A=52:54:00:5a:00:01 MAC_B=52:54:00:5a:00:02 MAC_U=52:54:00:5a:00:03 MAC_N=52:54:00:5a:00:04

virsh_() { timeout 60 virsh -q -c "$LV_URI" "$@"; }

# --- libvirtd ---------------------------------------------------------------------
lv_configs() {
    mkdir -p "$LV_DIR"/{etc/hooks/qemu.d,run,lib,log,cache,xml}
    cat >"$LV_DIR/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOF
    # Hook output is logged at debug level when the hook succeeds (util.command).
    cat >"$LV_DIR/etc/libvirtd.conf" <<'EOF'
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_level = 3
log_filters = "1:util.command"
log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
EOF
    cp "$HOOK_INSTALLED" "$LV_DIR/etc/hooks/qemu.d/vepad"
}

lv_pid() {
    local pid; pid=$(cat "$LV_DIR/run/libvirtd.pid" 2>/dev/null) || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] && echo "$pid"
}

lv_start() {
    lv_configs
    # nsenter first: /run (and /run/netns with it) is hidden once the tmpfs is on it.
    nsenter --net="/run/netns/$NS_HOST" unshare -m --propagation private sh -ec '
        mount -t tmpfs -o mode=0755,size=16m vepad-test-run /run
        mkdir /run/libvirt
        mount --bind "$1/run" /run/libvirt
        mount --bind "$1/etc" /etc/libvirt
        mount --bind "$1/lib" /var/lib/libvirt
        mount --bind "$1/log" /var/log/libvirt
        mount --bind "$1/cache" /var/cache/libvirt
        exec /usr/sbin/libvirtd -d -p /run/libvirt/libvirtd.pid' sh "$LV_DIR" || return 1
    wait_for 20 quiet virsh_ version || { echo "libvirtd did not answer; its log:"; tail -20 "$LV_DIR/log/libvirtd.log"; return 1; }
}

lv_destroy_all() {
    local d
    for d in $(virsh_ list --all --name 2>/dev/null); do
        virsh_ destroy "$d" >/dev/null 2>&1
        virsh_ undefine "$d" >/dev/null 2>&1
    done
}

lv_stop() {
    local pid f q
    lv_destroy_all
    if pid=$(lv_pid); then
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    fi
    # A QEMU left behind (libvirtd killed before it stopped it): by its pid file.
    for f in "$LV_DIR"/run/qemu/*.pid; do
        [ -f "$f" ] || continue
        q=$(cat "$f")
        case $(cat "/proc/$q/comm" 2>/dev/null) in qemu-system*) kill -9 "$q" ;; esac
    done
    rm -rf "$LV_DIR"
}

suite_up() { lab_up && lv_start; }
suite_reset() { lv_destroy_all; lab_reset; }
suite_down() { lv_stop; lab_down; }

# --- domains ----------------------------------------------------------------------
# dom_xml NAME MAC TARGET METADATA: a TCG domain (64 MiB, no disk, network boot: its
# iPXE sends DHCP requests) with one <interface type='ethernet'>, <target dev='TARGET'/>
# unless TARGET is "" (TARGET "tapX:unmanaged": <target dev='tapX' managed='no'/>, a tap
# made beforehand), and METADATA inside <metadata>; written to $LV_DIR/xml/NAME.xml.
# The UUID is the name's (uuid_of), so the hook run directly gets the same owner.
uuid_of() { printf '%s' "$1" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/'; }
dom_xml() {
    local name=$1 mac=$2 target=$3 metadata=$4 f=$LV_DIR/xml/$1.xml
    {
        echo "<domain type='qemu'><name>$name</name><uuid>$(uuid_of "$name")</uuid><memory unit='MiB'>64</memory>"
        echo "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os><seclabel type='none'/>"
        echo "<metadata>$metadata</metadata><devices>"
        case $target in
            *:unmanaged) target="<target dev='${target%:unmanaged}' managed='no'/>" ;;
            ?*) target="<target dev='$target'/>" ;;
        esac
        echo "<interface type='ethernet'><mac address='$mac'/>$target<model type='virtio'/></interface>"
        echo "<memballoon model='none'/></devices></domain>"
    } >"$f"
    echo "$f"
}
# vepad_md PORT-ATTRS [PORTS-ATTRS]: the vepad metadata with one port.
vepad_md() { echo "<vepad:ports xmlns:vepad='$NS_URI'${2:+ $2}><vepad:port $1/></vepad:ports>"; }
# define NAME MAC TARGET METADATA: the domain defined in libvirtd.
define() { virsh_ define "$(dom_xml "$@")" >/dev/null; }
# start NAME: virsh start; its stderr in $LAB_DIR/virsh.err.
start() { virsh_ start "$1" >/dev/null 2>"$LAB_DIR/virsh.err"; }
running() { [ "$(virsh_ domstate "$1" 2>/dev/null)" = running ]; }
virsh_error_has() { grep -qF -- "$1" "$LAB_DIR/virsh.err" || { echo "    virsh said: $(cat "$LAB_DIR/virsh.err")"; return 1; }; }
# The tap libvirt gave the domain's interface (its live XML's <target dev>).
dom_tap() { virsh_ domiflist "$1" | awk 'NR > 0 {print $1; exit}'; }
host_link() { ip -n "$NS_HOST" link show "$1" >/dev/null 2>&1; }
port_macs() { port_field "$1" macs; }
port_count() { vepactl list --json | jq '.ports | length'; }
# The switch learned a MAC on its port toward the host: a frame from it crossed the uplink.
switch_learned() { bridge -n "$NS_SW" fdb show br br0 | grep -qi "^$1 dev swp-host "; }
rx_packets_of() { vepactl stats "$1" --json 2>/dev/null | jq -r '.ports[0].counters.rx_packets // 0'; }
rx_seen() { [ "$(rx_packets_of "$1")" -gt 0 ] 2>/dev/null; }
libvirtd_log_has() { grep -qF -- "$1" "$LV_DIR/log/libvirtd.log"; }

# hook DOMAIN OP XML [VAR=VALUE...]: the hook run as libvirtd runs it; stderr in $LAB_DIR/hook.err.
hook() {
    local dom=$1 op=$2 xml=$3; shift 3
    env "$@" "$HOOK_BIN" "$dom" "$op" begin - <"$xml" 2>"$LAB_DIR/hook.err"
}
hook_said() { grep -qF -- "$1" "$LAB_DIR/hook.err" || { echo "    the hook said: $(cat "$LAB_DIR/hook.err")"; return 1; }; }

case_setup() { start_vepad; }

# --- cases ------------------------------------------------------------------------
test_named_tap() {
    section "a domain with <target dev='tapvm1'/> (libvirt makes the tap) and vepad metadata"
    define vma "$MAC_A" tapvm1 "$(vepad_md "dev='tapvm1' mode='vepa'" "socket='$LAB_SOCKET'")"
    check "virsh start succeeds" start vma
    check "the domain runs" running vma
    check_eq "vepad has the port tapvm1 with the domain's MAC" "[\"$MAC_A\"]" "$(port_macs tapvm1)"
    check_eq "in the metadata's mode" vepa "$(port_field tapvm1 mode)"
    check_eq "on libvirt's tap" tap "$(port_field tapvm1 kind)"
    check_eq "owned by the domain (its name and UUID)" "{\"id\":\"$(virsh_ domuuid vma)\",\"ifname\":\"\",\"name\":\"vma\",\"tool\":\"libvirt\"}" \
        "$(port_field tapvm1 owner)"
    check "the port comes up" wait_for 10 state_is tapvm1 up
    check "the guest's iPXE frames are counted on the port (rx_packets > 0)" wait_for 40 rx_seen tapvm1
    check "and reach the switch (it learned $MAC_A on its port toward the host)" wait_for 5 switch_learned "$MAC_A"
    check "no drop counted as spoofed" outputs 0 lab_stat tapvm1 drops.spoofed
    section "virsh destroy"
    check "virsh destroy succeeds" virsh_ destroy vma
    check "the port is gone" not port_listed tapvm1
    check "the tap is gone" not host_link tapvm1
    section "started again"
    check "virsh start succeeds" start vma
    check "the port is back and comes up" wait_for 10 state_is tapvm1 up
    check "virsh destroy" virsh_ destroy vma
    check_eq "no port left" 0 "$(port_count)"
}

test_premade_tap() {
    section "a tap made beforehand: <target dev='tapvm2' managed='no'/>"
    ip -n "$NS_HOST" tuntap add dev tapvm2 mode tap || fatal "cannot make tapvm2"
    ip -n "$NS_HOST" link set tapvm2 up
    define vmp "$MAC_N" tapvm2:unmanaged "$(vepad_md "dev='tapvm2'" "socket='$LAB_SOCKET'")"
    check "virsh start succeeds" start vmp
    check_eq "vepad has the port tapvm2 with the domain's MAC" "[\"$MAC_N\"]" "$(port_macs tapvm2)"
    check "the port comes up" wait_for 10 state_is tapvm2 up
    check "virsh destroy succeeds" virsh_ destroy vmp
    check "the port is gone" not port_listed tapvm2
    check "the tap stays (libvirt did not make it)" host_link tapvm2
}

test_libvirt_named_tap() {
    section "a domain without <target dev>: libvirt names the tap (vnetN), the metadata names the MAC"
    define vmb "$MAC_B" "" ""
    check "virsh metadata --uri --key vpd --set writes the metadata" virsh_ metadata vmb --uri "$NS_URI" --key vpd \
        --set "<ports socket='$LAB_SOCKET'><port mac='$MAC_B' mode='private'/></ports>" --config
    check "as <vpd:ports> (another prefix: the URI counts)" quiet grep -q "<vpd:ports xmlns:vpd=\"$NS_URI\"" <(virsh_ dumpxml vmb)
    check "virsh start succeeds" start vmb
    local tap; tap=$(dom_tap vmb)
    check "libvirt named the tap vnetN" grep -Eqx 'vnet[0-9]+' <<<"$tap"
    check_eq "vepad has the port $tap with the domain's MAC" "[\"$MAC_B\"]" "$(port_macs "$tap")"
    check_eq "in the metadata's mode" private "$(port_field "$tap" mode)"
    check_eq "owned by the domain" "libvirt $(virsh_ domuuid vmb)" "$(port_field "$tap" owner.tool) $(port_field "$tap" owner.id)"
    check "the port comes up" wait_for 10 state_is "$tap" up
    check "virsh destroy succeeds" virsh_ destroy vmb
    check "the port is gone" not port_listed "$tap"
    check_eq "no port left" 0 "$(port_count)"
}

test_mac_in_use() {
    add_ports c1
    vepactl set-port c1 --mac "$MAC_A" >/dev/null || fatal "set-port c1 --mac $MAC_A refused"
    section "a domain whose MAC another port has: the start fails with vepad's message"
    define vmc "$MAC_A" tapvm3 "$(vepad_md "dev='tapvm3'" "socket='$LAB_SOCKET'")"
    check "virsh start fails" not start vmc
    check "with vepad's code" virsh_error_has "mac-in-use"
    check "and message" virsh_error_has "belongs to port c1"
    check "naming the hook's port" virsh_error_has "refused the port tapvm3"
    check "the domain is not running" not running vmc
    check "no port tapvm3 is left" not port_listed tapvm3
    check "c1 keeps its MAC" outputs "[\"$MAC_A\"]" port_macs c1
    check "and stays up" state_is c1 up
    section "bad metadata: the start fails naming the mistake"
    define vmd "$MAC_N" tapvm4 "$(vepad_md "dev='tapvm4' src_check='no'" "socket='$LAB_SOCKET'")"
    check "virsh start fails" not start vmd
    check "naming the attribute" virsh_error_has "unknown attribute 'src_check'"
    define vmd2 "$MAC_N" tapvm4 "$(vepad_md "dev='tapvm5'" "socket='$LAB_SOCKET'")"
    check "virsh start of a port that matches no interface fails" not start vmd2
    check "saying so" virsh_error_has "no <interface> has <target dev='tapvm5'/>"
    check_eq "vepad has c1 only" c1 "$(ports_field name)"
}

test_vepad_stopped() {
    lab_stop_vepad
    section "vepad stopped, required (the default): the start fails, saying why"
    define vme "$MAC_A" tapvm5 "$(vepad_md "dev='tapvm5'" "socket='$LAB_SOCKET'")"
    local t0=$SECONDS
    check "virsh start fails" not start vme
    check "saying vepad cannot be reached" virsh_error_has "cannot reach vepad at $LAB_SOCKET"
    check "and that the port would not be a VEPA port" virsh_error_has "would not be a VEPA port"
    check "the domain is not running" not running vme
    check "within 5 s" [ $((SECONDS - t0)) -le 5 ]
    section "vepad stopped, required='no': the domain starts, the hook's warning is in libvirtd's log"
    define vmf "$MAC_B" tapvm6 "$(vepad_md "dev='tapvm6'" "socket='$LAB_SOCKET' required='no'")"
    check "virsh start succeeds" start vmf
    check "the domain runs" running vmf
    check "libvirtd logged the warning" libvirtd_log_has "WARNING: cannot reach vepad at $LAB_SOCKET"
    check "naming the tap" libvirtd_log_has "tapvm6 (MAC $MAC_B) starts without a vepad port"
    section "vepad back: it has no port for the running domain; destroy is fine"
    start_vepad
    check "no port tapvm6" not port_listed tapvm6
    check "virsh destroy succeeds" virsh_ destroy vmf
    section "vepad stopped while a domain runs: destroy stops it anyway, the error is logged, the port stays"
    define vmg "$MAC_U" tapvm7 "$(vepad_md "dev='tapvm7'" "socket='$LAB_SOCKET'")"
    check "virsh start succeeds" start vmg
    check "the port is up" wait_for 10 state_is tapvm7 up
    lab_stop_vepad
    check "virsh destroy succeeds" virsh_ destroy vmg
    check "the domain is stopped" not running vmg
    check "libvirtd logged the hook's failure at release" libvirtd_log_has "the domain's ports stay in vepad"
    start_vepad
    check_eq "vepad still has the port, absent" absent "$(port_field tapvm7 state)"
    section "started again, the domain takes the port left behind (its owner)"
    check "virsh start succeeds" start vmg
    check "the port comes up" wait_for 10 state_is tapvm7 up
    check "virsh destroy succeeds" virsh_ destroy vmg
    check "the port is gone" not port_listed tapvm7
}

test_unmarked_domain() {
    section "a domain without vepad metadata starts untouched"
    define vmu "$MAC_U" tapvm8 ""
    check "virsh start succeeds" start vmu
    check "libvirt made its tap" host_link tapvm8
    check "vepad has no port for it" not port_listed tapvm8
    check_eq "nor any port" 0 "$(port_count)"
    check "virsh destroy succeeds" virsh_ destroy vmu
    section "the same with vepad stopped"
    lab_stop_vepad
    check "virsh start succeeds" start vmu
    check "virsh destroy succeeds" virsh_ destroy vmu
    section "the hook run directly: no output, exit 0, at every operation, with no vepad"
    local op out=0
    for op in prepare start started stopped release; do
        hook vmu "$op" "$LV_DIR/xml/vmu.xml" VEPAD_SOCKET=/nonexistent && [ ! -s "$LAB_DIR/hook.err" ] || out=1
    done
    check_eq "every operation" 0 "$out"
    local other; other=$(dom_xml vmo "$MAC_U" tapvm8 "<x:ports xmlns:x='urn:example'><x:port dev='tapvm8'/></x:ports>")
    check "another namespace's metadata too" hook vmo prepare "$other" VEPAD_SOCKET=/nonexistent
}

test_qemu_without_libvirt() {
    section "QEMU without libvirt: a tap made beforehand, vepactl add-port, -netdev tap"
    check "ip tuntap add tapq1" ip -n "$NS_HOST" tuntap add dev tapq1 mode tap
    on_cleanup ip -n "$NS_HOST" link del tapq1
    check "link up" ip -n "$NS_HOST" link set tapq1 up
    check "vepactl add-port tapq1 --mac $MAC_N" quiet vepactl add-port tapq1 --mac "$MAC_N"
    check_eq "the port is down: no QEMU has the tap open" down "$(port_field tapq1 state)"
    # nsenter execs QEMU: $! is QEMU itself, which the case's end kills.
    nsenter --net="/run/netns/$NS_HOST" qemu-system-x86_64 -machine pc,accel=tcg -m 64 -nodefaults -display none \
        -boot n -netdev tap,id=n0,ifname=tapq1,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac="$MAC_N" \
        >"$LAB_DIR/qemu.log" 2>&1 &
    local qemu=$!
    check "the port comes up" wait_for 10 state_is tapq1 up
    check "the guest's iPXE frames are counted on the port" wait_for 40 rx_seen tapq1
    check "and reach the switch" wait_for 5 switch_learned "$MAC_N"
    kill "$qemu"; wait "$qemu" 2>/dev/null
    check "QEMU gone: the port is down" wait_for 5 state_is tapq1 down
    check "vepactl del-port tapq1" quiet vepactl del-port tapq1
}

test_hook_direct() {
    local xml
    section "prepare twice, then start: one port, as wanted"
    xml=$(dom_xml vmh "$MAC_A" tapvm9 "$(vepad_md "dev='tapvm9' vlan='10' trunk='20,30'" "socket='$LAB_SOCKET'")")
    check "prepare adds the port before its tap exists" hook vmh prepare "$xml"
    check_eq "absent" absent "$(port_field tapvm9 state)"
    check_eq "with the metadata's VLANs" "10 [20,30]" "$(port_field tapvm9 vlan) $(port_field tapvm9 trunk)"
    check "prepare again succeeds" hook vmh prepare "$xml"
    check "saying the port is as wanted" hook_said "port tapvm9 is in vepad at $LAB_SOCKET as wanted"
    check "start succeeds" hook vmh start "$xml"
    check_eq "one port" 1 "$(port_count)"
    section "changed metadata: set-port"
    xml=$(dom_xml vmh "$MAC_A" tapvm9 "$(vepad_md "dev='tapvm9' mode='bridge' src-check='no'" "socket='$LAB_SOCKET'")")
    check "prepare succeeds" hook vmh prepare "$xml"
    check "saying it changed the port" hook_said "port tapvm9 changed in"
    check_eq "mode, source check and VLANs as now wanted" "bridge false null []" \
        "$(port_field tapvm9 mode) $(port_field tapvm9 src_check) $(port_field tapvm9 vlan) $(port_field tapvm9 trunk)"
    section "a port of that name another domain owns, or made by hand with another MAC, is another guest's"
    xml=$(dom_xml vmi "$MAC_B" tapvm9 "$(vepad_md "dev='tapvm9'" "socket='$LAB_SOCKET'")")
    check "prepare fails" not hook vmi prepare "$xml"
    check "saying whose it is" hook_said "already has a port tapvm9 (owned by libvirt:vmh:$(uuid_of vmh | cut -c1-12)), another guest's"
    check "release leaves it" hook vmi release "$xml"
    check_eq "it keeps its MAC and owner" "[\"$MAC_A\"] vmh" "$(port_macs tapvm9) $(port_field tapvm9 owner.name)"
    vepactl add-port tapvm11 --mac "$MAC_C2" >/dev/null
    xml=$(dom_xml vml "$MAC_B" tapvm11 "$(vepad_md "dev='tapvm11'" "socket='$LAB_SOCKET'")")
    check "prepare of a name vepactl added with another MAC fails" not hook vml prepare "$xml"
    check "saying so" hook_said "already has a port tapvm11 (with MAC(s) [\"$MAC_C2\"], no owner), another guest's"
    section "a port made by hand with the interface's MAC is taken"
    vepactl set-port tapvm11 --mac "$MAC_B" >/dev/null
    check "prepare succeeds" hook vml prepare "$xml"
    check_eq "the port has the domain as owner now" vml "$(port_field tapvm11 owner.name)"
    section "release: the domain's ports, found by their owner, only those"
    add_ports c1
    vepactl set-port c1 --mac "$MAC_C1" --owner "libvirt:other:$(uuid_of other)" >/dev/null || fatal "set-port c1 refused"
    xml=$(dom_xml vmh "$MAC_C1" "" "$(vepad_md "mac='$MAC_C1'" "socket='$LAB_SOCKET'")")
    check "release (its XML without the tap's name) succeeds" hook vmh release "$xml"
    check "the port is gone" not port_listed tapvm9
    check "another domain's port with the interface's MAC stays" port_listed c1
    check "and another domain's port stays" port_listed tapvm11
    check "release again succeeds" hook vmh release "$xml"
    section "unknown operations do nothing"
    check "migrate" hook vmh migrate "$xml" VEPAD_SOCKET=/nonexistent
    check "reconnect" hook vmh reconnect "$xml" VEPAD_SOCKET=/nonexistent
    section "a hung vepad (SIGSTOP): the hook gives up within the 2 s timeout"
    xml=$(dom_xml vmk "$MAC_B" tapvm10 "$(vepad_md "dev='tapvm10'" "socket='$LAB_SOCKET'")")
    kill -STOP "$(lab_vepad_pid)"
    on_cleanup kill -CONT "$(lab_vepad_pid)"
    local t0; t0=$(date +%s%N)
    check "prepare fails" not hook vmk prepare "$xml"
    local ms=$((($(date +%s%N) - t0) / 1000000))
    kill -CONT "$(lab_vepad_pid)"
    check "in 2 to 4 s ($ms ms)" [ "$ms" -ge 1900 ] && [ "$ms" -le 4000 ]
    check "saying so" hook_said "no reply from vepad within 2 s"
    section "a vepad whose listen backlog is full (stopped, 4096 connections waiting): connect gives up too"
    kill -STOP "$(lab_vepad_pid)"
    python3 -c '
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
held = []
while True:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
    except BlockingIOError:
        break
    held.append(s)
print(len(held), flush=True)
time.sleep(30)' "$LAB_SOCKET" >"$LAB_DIR/backlog" 2>&1 </dev/null &
    local filler=$!
    wait_for 10 test -s "$LAB_DIR/backlog"
    check "the backlog is full ($(cat "$LAB_DIR/backlog") connections)" test "$(cat "$LAB_DIR/backlog")" -gt 0
    t0=$(date +%s%N)
    check "prepare fails" not hook vmk prepare "$xml"
    ms=$((($(date +%s%N) - t0) / 1000000))
    check "in 2 to 4 s ($ms ms)" [ "$ms" -ge 1900 ] && [ "$ms" -le 4000 ]
    check "saying vepad does not accept connections" hook_said "(vepad is not accepting connections)"
    kill "$filler"; wait "$filler" 2>/dev/null
    kill -CONT "$(lab_vepad_pid)"
    check "vepad answers again" wait_for 10 vepad_answers
    section "release with vepad stopped: exit 1, saying the ports stay"
    lab_stop_vepad
    check "release fails" not hook vml release "$LV_DIR/xml/vml.xml"
    check "saying what to do" hook_said "the domain's ports stay in vepad (vepactl list shows them with owner libvirt:vml"
    section "--help, --check and a bad command line"
    check "--help exits 0" quiet "$HOOK_BIN" --help
    check "--help says where it is installed" quiet grep -q "/etc/libvirt/hooks/qemu.d/vepad" <("$HOOK_BIN" --help)
    check "--check prints the ports" quiet grep -qF "\"macs\":[\"$MAC_B\"]" <("$HOOK_BIN" --check <"$xml")
    check "no arguments: exit 2" outputs 2 sh -c "'$HOOK_BIN' </dev/null 2>/dev/null; echo \$?"
    check "bad XML: exit 1" outputs 1 sh -c "echo '<domain><metadata>$NS_URI' | '$HOOK_BIN' d prepare begin - 2>/dev/null; echo \$?"
}

if [ "${TEST:-}" != list ]; then
    if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (network namespaces, BPF, libvirtd)"; exit 77; fi
    for b in /usr/sbin/libvirtd virsh qemu-system-x86_64; do
        command -v "$b" >/dev/null || { echo "SKIP: no $b (apt: libvirt-daemon-system libvirt-clients qemu-system-x86; tools/install-deps.sh)"; exit 77; }
    done
    [ -x "$HOOK_BIN" ] && [ -x "$HOOK_INSTALLED" ] || { echo "integration-libvirt: the hook is not built ($HOOK_BIN)" >&2; exit 1; }
fi
run_tests
