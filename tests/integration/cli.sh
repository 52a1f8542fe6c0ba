#!/usr/bin/env bash
# Bad input to vepactl (exit 2 for usage, 1 with a one-line reason when vepad
# refuses) and to the raw control socket (an error reply each, never a crash);
# access control; a corrupt state file refused by name and left untouched;
# per-port VLANs (--vlan, --trunk): shown, changed, kept across a restart,
# checked, and a MAC shared by ports in disjoint VLANs; a port's owner (--owner).
# Each case: a fresh vepad with c1 and tap1.
. "$(dirname "$0")/lib.sh"

case_setup() {
    start_vepad
    add_ports c1 tap1
}

# refused EXPECTED_RC PATTERN vepactl-args...: exit status and a one-line stderr matching PATTERN.
refused() {
    local want=$1 pat=$2; shift 2
    local err rc
    err=$(vepactl "$@" 2>&1 >/dev/null); rc=$?
    # A refusal is one line; a usage error may add CLI11's "Run with --help" hint.
    [ "$rc" -eq "$want" ] && { [ "$want" -ne 1 ] || [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; } &&
        printf '%s' "$err" | grep -q -- "$pat" || { echo "    got rc $rc: $err"; return 1; }
}

test_usage_errors() {
    section "usage errors exit 2"
    check "no command" refused 2 ""
    check "unknown command" refused 2 "" frobnicate
    check "add-port without a name" refused 2 "" add-port
    check "unknown option" refused 2 "" list --bogus
    check "set-port with nothing to change" refused 2 "nothing to change" set-port c1
    check "bad --src-check value" refused 2 "" set-port c1 --src-check maybe
}

test_refusals() {
    ip -n "$NS_HOST" link add br-x type bridge
    ip -n "$NS_HOST" tuntap add dev tapx mode tap
    section "refusals exit 1 with the reason"
    check "an interface that is neither veth nor tap" refused 1 "ports are veth or tap" add-port br-x
    check "the uplink itself" refused 1 "uplink" add-port up0
    check "a MAC owned by another port" refused 1 "belongs to port tap1" add-port c2 --mac "$MAC_VM3"
    check "a MAC learned from another port's guest" refused 1 "belongs to port c1" add-port c2 --mac "$MAC_C1"
    check "an invalid MAC" refused 1 "invalid MAC" add-port c2 --mac 02:00:00:00:00
    check "a group MAC" refused 1 "group or zero" add-port c2 --mac 01:00:5e:00:00:01
    check "a tap without --mac" refused 1 "give its guest's MAC" add-port tapx
    check "an invalid mode" refused 1 "mode must be" add-port c2 --mode hub
    check "an invalid interface name" refused 1 "not a valid interface name" add-port "a-very-long-interface-name"
    check "a port configured twice" refused 1 "already configured" add-port c1
    check "deleting an unknown port" refused 1 "no port" del-port nope
    check "stats of an unknown port" refused 1 "no port" stats nope
    local too_many=() i
    for i in $(seq 0 256); do too_many+=(--mac "$(printf '02:00:00:01:%02x:%02x' $((i / 256)) $((i % 256)))"); done
    check "more than 256 MACs" refused 1 "at most 256" add-port c2 "${too_many[@]}"
    check "no daemon at the socket" bash -c "! VEPAD_SOCKET=/nonexistent.sock $VEPACTL_BIN status 2>&1 | grep -q 'is vepad running'; [ \${PIPESTATUS[0]} -eq 1 ] || VEPAD_SOCKET=/nonexistent.sock $VEPACTL_BIN status 2>&1 | grep -q 'is vepad running'"
    check_eq "nothing changed" "c1,tap1" "$(ports_field name)"
}

test_raw_socket() {
    section "the raw socket"
    local c
    for c in malformed unknown badargs deep huge halfclose ids; do
        check "raw: $c" /usr/bin/python3 "$(dirname "$0")/rawsock.py" "$LAB_SOCKET" "$c"
    done
    check "vepad still answers" vepad_answers
    check "and still forwards" reachable "$NS_C1" "$IP_REM"
}

test_access() {
    section "access: only root and the vepad group"
    check_eq "socket mode" 660 "$(stat -c %a "$LAB_SOCKET")"
    chmod 0755 "$LAB_DIR"
    check "an unprivileged user is refused" bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups \
        env VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN status 2>/dev/null"
    # With the socket opened to everyone, the SO_PEERCRED check still refuses.
    chmod 0666 "$LAB_SOCKET"
    local out
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env VEPAD_SOCKET="$LAB_SOCKET" "$VEPACTL_BIN" status 2>&1)
    has_forbidden() { case $out in *"[forbidden]"*) return 0 ;; *) echo "    got: $out"; return 1 ;; esac; }
    check "SO_PEERCRED refuses a non-root peer even through an open socket file" has_forbidden
}

test_corrupt_state_file() {
    section "a corrupt state file is refused by name and never replaced"
    lab_stop_vepad
    local state="$LAB_DIR/state/ports-up0.json"
    cp "$state" "$LAB_DIR/state.good"
    printf '{"format": 1, "ports": [ {"name": "c1", "slot": 1' >"$state"
    cp "$state" "$LAB_DIR/state.corrupt"
    lab_run_vepad >"$LAB_DIR/corrupt.log" 2>&1
    check_eq "vepad refuses to start" 1 "$?"
    check "naming the file" grep -q "state file $state is corrupt" "$LAB_DIR/corrupt.log"
    check "the file is untouched" cmp -s "$state" "$LAB_DIR/state.corrupt"
    lab_flush_arp "$NS_C1" "$NS_REM"
    check "the dataplane kept forwarding all along" reachable "$NS_C1" "$IP_REM"
    cp "$LAB_DIR/state.good" "$state"
    lab_start_vepad
    check_eq "restored, vepad starts with its ports" "c1,tap1" "$(ports_field name)"
}

# --- VLANs (issue 12) -------------------------------------------------------------

# raw_reply LINE: vepad's reply to one raw request line, as one line of JSON.
raw_reply() {
    /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())' "$LAB_SOCKET" "$1"
}
# raw_refused LINE CODE PATTERN: the request is refused with that code and a message matching PATTERN.
raw_refused() {
    local r; r=$(raw_reply "$1")
    jq -e --arg c "$2" '.ok == false and .error.code == $c' <<<"$r" >/dev/null &&
        jq -r .error.message <<<"$r" | grep -q -- "$3" || { echo "    got: $r"; return 1; }
}
# The VLANS column of a port in vepactl list (it may hold a space: "10 +20,30").
list_vlans() { vepactl list | awk -v n="$1" 'NR == 1 { c = index($0, "VLANS"); d = index($0, "DELIVERY") }
    $1 == n { s = substr($0, c, d - c); sub(/ +$/, "", s); print s }'; }
output_has() { "${@:2}" | grep -q -- "$1"; }   # output_has PATTERN command...

test_vlans_shown_and_changed() {
    section "add-port --vlan/--trunk, list, set-port"
    check "add-port c2 --vlan 10 --trunk 20,30-32" quiet vepactl add-port c2 --vlan 10 --trunk 20,30-32
    check_eq "list --json: c2's vlan" 10 "$(port_field c2 vlan)"
    check_eq "list --json: c2's trunk" "[20,30,31,32]" "$(port_field c2 trunk)"
    check_eq "list --json: c1 has none" "null []" "$(port_field c1 vlan) $(port_field c1 trunk)"
    check "list has a VLANS column" output_has " VLANS " vepactl list
    check_eq "list: c2's VLANS" "10 +20,30-32" "$(list_vlans c2)"
    check_eq "list: c1's VLANS" "-" "$(list_vlans c1)"
    check_eq "add-port --json carries them" "5 all" \
        "$(vepactl --json add-port c3x --vlan 5 --trunk all | jq -r '"\(.vlan) \(.trunk)"')"
    check_eq "list: +all" "5 +all" "$(list_vlans c3x)"
    check "add-port's text output names them" output_has "VLANs +7$" vepactl add-port c4x --trunk 7
    section "set-port changes what it is given, none removes"
    check "set-port c2 --trunk all" quiet vepactl set-port c2 --trunk all
    check_eq "the trunk is all, the vlan unchanged" "10 all" "$(port_field c2 vlan) $(port_field c2 trunk)"
    check "set-port c2 --vlan none" quiet vepactl set-port c2 --vlan none
    check_eq "no untagged VLAN, still all" "null all" "$(port_field c2 vlan) $(port_field c2 trunk)"
    check_eq "list: +all" "+all" "$(list_vlans c2)"
    check "set-port c2 --trunk none" quiet vepactl set-port c2 --trunk none
    check_eq "no VLANs" "null []" "$(port_field c2 vlan) $(port_field c2 trunk)"
    check_eq "list: -" "-" "$(list_vlans c2)"
    check_eq "set-port --json: --vlan 7 --trunk 8-9" "7 [8,9]" \
        "$(vepactl set-port c2 --vlan 7 --trunk 8-9 --json | jq -rc '"\(.vlan) \(.trunk)"')"
    check "set-port --mode leaves the VLANs" quiet vepactl set-port c2 --mode private
    check_eq "still 7 +8,9" "7 +8,9" "$(list_vlans c2)"
    check "the log names the VLANs" grep -q "port c2 changed (mode vepa, 0 MAC(s), VLANs 7 +8,9)" "$LAB_DIR/vepad.log"
    check_eq "raw: vlan null and trunk [] remove them" '[true,null,[]]' \
        "$(raw_reply '{"cmd": "set-port", "args": {"name": "c2", "vlan": null, "trunk": []}}' |
            jq -c '[.ok, .result.vlan, .result.trunk]')"
}

# raw_request LINE: one request line on the control socket; prints the reply line.
raw_request() {
    /usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline(), end="")' "$LAB_SOCKET" "$1"
}
list_owner() { vepactl list | awk -v n="$1" 'NR == 1 { c = index($0, "OWNER") } $1 == n { print substr($0, c) }'; }

test_owner() {
    section "add-port/set-port --owner: kept, listed, in the state file, removed"
    local id=0123456789abcdef0123
    check "add-port c2 --owner cni:vepanet:ID:eth0" quiet vepactl add-port c2 --owner "cni:vepanet:$id:eth0"
    check_eq "list --json: the owner" "{\"tool\":\"cni\",\"name\":\"vepanet\",\"id\":\"$id\",\"ifname\":\"eth0\"}" \
        "$(port_field c2 owner | jq -c '{tool, name, id, ifname}')"
    check_eq "list: the OWNER column, the id shortened" "cni:vepanet:0123456789ab:eth0" "$(list_owner c2)"
    check_eq "list: a port without one" "-" "$(list_owner c1)"
    check_eq "list --json: null without one" null "$(port_field c1 owner)"
    check_eq "the state file has it" "$id" \
        "$(state_table | jq -r '.ports[] | select(.name == "c2") | .owner.id')"
    lab_stop_vepad
    start_vepad
    check_eq "it comes back with vepad" "cni:vepanet:0123456789ab:eth0" "$(list_owner c2)"
    check "set-port --owner libvirt:vm1" quiet vepactl set-port c2 --owner libvirt:vm1
    check_eq "replaced" '"libvirt" "vm1" "" ""' "$(port_field c2 owner | jq -r '[.tool, .name, .id, .ifname] | map(tojson) | join(" ")')"
    check "set-port --mode leaves it" quiet vepactl set-port c2 --mode private
    check_eq "still libvirt:vm1" "libvirt:vm1" "$(list_owner c2)"
    check "set-port --owner none" quiet vepactl set-port c2 --owner none
    check_eq "removed" null "$(port_field c2 owner)"
    section "bad owners: usage errors naming what is wrong"
    check "an upper-case tool" refused 2 "owner.tool must be" add-port c3x --owner CNI:x
    check "a space" refused 2 "without spaces" add-port c3x --owner "cni:a b"
    check "an empty tool" refused 2 "owner.tool must be" set-port c1 --owner :x
    check "an empty owner" refused 2 "owner.tool must be" add-port c3x --owner ""
    check "the raw protocol refuses an unknown key" \
        output_has '"code":"invalid-argument"' raw_request '{"cmd": "add-port", "args": {"name": "c3x", "owner": {"tool": "x", "pod": "p"}}}'
    check "nothing was added" not port_listed c3x
}

reconcile_runs() { vepactl metrics | awk '/^vepad_reconcile_runs_total/ { print $2 }'; }

test_batch() {
    section "batch FILE: port commands as one (all or none, one reconcile)"
    local f="$LAB_DIR/batch.txt"
    printf '# ports of the lab\n\nadd-port c2 --owner cni:net:abc:eth0\n  set-port c1 --mode private\n' >"$f"
    local r0; r0=$(reconcile_runs)
    check "vepactl batch FILE" quiet vepactl batch "$f"
    check_eq "one reconcile for both" 1 "$(( $(reconcile_runs) - r0 ))"
    check "del-port in a batch" quiet vepactl batch <(printf 'del-port tap1\n')
    check_eq "c2 added with its owner" "cni:net:abc:eth0" "$(list_owner c2)"
    check_eq "c1 changed" private "$(port_field c1 mode)"
    check "tap1 deleted" not port_listed tap1
    check_eq "the state file holds the result" "c1 c2" "$(state_table | jq -r '[.ports[].name] | sort | join(" ")')"
    printf 'add-port tap1 --mac 52:54:00:14:00:0d\nset-port c2 --owner none\n' >"$f"
    check_eq "--json: a port object per command" '["tap1","c2"]' "$(vepactl --json batch "$f" | jq -c '[.results[].name]')"
    check_eq "stdin ('-')" "port c2 deleted" "$(printf 'del-port c2\n' | vepactl batch -)"

    section "all or none: a refusal changes nothing and names the command"
    printf 'add-port c2\nset-port c1 --mode vepa\nadd-port c1\n' >"$f"
    check "the third refused: exit 1" refused 1 "command 3 of 3: .*c1.*(nothing changed)" batch "$f"
    check "c2 was not added" not port_listed c2
    check_eq "c1 not changed" private "$(port_field c1 mode)"
    printf 'del-port tap1\nadd-port tap1\n' >"$f"
    check "re-adding tap1 without --mac: refused with its reason" refused 1 "command 2 of 2: tap1 is a tap" batch "$f"
    check "so tap1 was not deleted either" port_listed tap1

    section "bad files: usage errors naming the line"
    printf 'add-port c2\nlist\n' >"$f"
    check "a command that is no port command" refused 2 "line 2" batch "$f"
    printf 'add-port c2 --queues 0\n' >"$f"
    check "a bad --queues" refused 2 "line 1" batch "$f"
    printf 'add-port c2 --mode fast\n' >"$f"
    check "a bad mode: vepad refuses it, naming the command" refused 1 "command 1: mode must be" batch "$f"
    printf '# nothing\n\n' >"$f"
    check "no command" refused 2 "holds no command" batch "$f"
    check "no such file" refused 2 "cannot read" batch "$LAB_DIR/none.txt"
    check "nothing was added" not port_listed c2

    section "the raw protocol"
    check "a nested batch is refused" output_has '"code":"invalid-argument"' \
        raw_request '{"cmd": "batch", "args": {"commands": [{"cmd": "batch", "args": {"commands": []}}]}}'
    check "an empty batch is refused" output_has 'a batch has 1 to 4096 commands' \
        raw_request '{"cmd": "batch", "args": {"commands": []}}'
    check "a command with an id is refused" output_has '"code":"invalid-argument"' \
        raw_request '{"cmd": "batch", "args": {"commands": [{"cmd": "del-port", "args": {"name": "c1"}, "id": 3}]}}'
    check "c1 is still there" port_listed c1
}

test_vlans_kept_across_restart() {
    section "VLANs are in the state file and come back with vepad"
    add_ports c2
    quiet vepactl set-port c2 --vlan 10 --trunk 20-22 || fatal "set-port c2 refused"
    quiet vepactl set-port tap1 --trunk all || fatal "set-port tap1 refused"
    check_eq "state file: c2" '10 [20,21,22]' "$(state_table | jq -rc '.ports[] | select(.name == "c2") | "\(.vlan) \(.trunk)"')"
    check_eq "state file: tap1" 'null all' "$(state_table | jq -rc '.ports[] | select(.name == "tap1") | "\(.vlan) \(.trunk)"')"
    check_eq "state file: c1 has no VLAN keys" 'false false' \
        "$(state_table | jq -rc '.ports[] | select(.name == "c1") | "\(has("vlan")) \(has("trunk"))"')"
    lab_stop_vepad
    start_vepad
    check_eq "c2 after the restart" "10 +20-22" "$(list_vlans c2)"
    check_eq "tap1 after the restart" "+all" "$(list_vlans tap1)"
    check_eq "c1 after the restart" "-" "$(list_vlans c1)"
    section "a state file of a vepad before VLANs: ports without VLANs"
    lab_stop_vepad   # a clean stop folds the journal: the snapshot holds the table
    local state="$LAB_DIR/state/ports-up0.json"
    check "no journal after a clean stop" test ! -e "$state.journal"
    jq '.ports |= map(del(.vlan, .trunk))' "$state" >"$state.new" && mv "$state.new" "$state"
    start_vepad
    check_eq "every port as before, none in a VLAN" "c1 null [],c2 null [],tap1 null []" \
        "$(vepactl list --json | jq -rc '[.ports[] | "\(.name) \(.vlan) \(.trunk)"] | join(",")')"
}

test_vlans_refused() {
    section "bad VLANs: vepactl says so before asking (exit 2)"
    check "--vlan 0" refused 2 "--vlan 0: not a VLAN id (1 to 4094)" add-port c2 --vlan 0
    check "--vlan 4095" refused 2 "not a VLAN id" add-port c2 --vlan 4095
    check "--vlan abc" refused 2 "--vlan abc: not a VLAN id" set-port c1 --vlan abc
    check "add-port --vlan none" refused 2 "not a VLAN id" add-port c2 --vlan none
    check "--trunk 10-" refused 2 "--trunk 10-: not a VLAN list" add-port c2 --trunk 10-
    check "--trunk 5000" refused 2 "not a VLAN list" add-port c2 --trunk 5000
    check "--trunk 20-10" refused 2 "not a VLAN list" set-port c1 --trunk 20-10
    check "add-port --trunk none" refused 2 "not a VLAN list" add-port c2 --trunk none
    check "untagged also tagged" refused 2 "VLAN 10 cannot be both untagged (--vlan) and tagged (--trunk)" \
        add-port c2 --vlan 10 --trunk 5,10-12
    section "vepad refuses (exit 1) what only it can tell, and bad raw values"
    quiet vepactl set-port c1 --vlan 10 || fatal "set-port c1 --vlan 10 refused"
    check "a trunk holding the port's untagged VLAN" refused 1 "VLAN 10 cannot be both untagged" set-port c1 --trunk 9-11
    check_eq "c1 unchanged" "10" "$(list_vlans c1)"
    check "raw: vlan 4095" raw_refused '{"cmd": "add-port", "args": {"name": "c2", "vlan": 4095}}' invalid-argument \
        "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not 4095"
    check "raw: vlan \"10\"" raw_refused '{"cmd": "set-port", "args": {"name": "c1", "vlan": "10"}}' invalid-argument \
        "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not \"10\""
    check "raw: trunk \"some\"" raw_refused '{"cmd": "add-port", "args": {"name": "c2", "trunk": "some"}}' \
        invalid-argument "argument 'trunk' must be an array of VLAN ids"
    check "raw: trunk [10, 0]" raw_refused '{"cmd": "add-port", "args": {"name": "c2", "trunk": [10, 0]}}' \
        invalid-argument "argument 'trunk' holds 0, not a VLAN id"
    check_eq "nothing added" "c1,tap1" "$(ports_field name)"
}

test_vlans_shared_mac() {
    # Absent ports (no such device): the table's rule alone, whatever the dataplane makes of it.
    section "a MAC may be two ports' in disjoint VLANs, never within one"
    check "tap1's MAC on a port in VLAN 10" quiet vepactl add-port vm10 --mac "$MAC_VM3" --vlan 10
    check "and on one in VLANs 20 +21" quiet vepactl add-port vm20 --mac "$MAC_VM3" --vlan 20 --trunk 21
    check "not untagged only (tap1's)" refused 1 "belongs to port tap1" add-port vmx --mac "$MAC_VM3"
    check "not tagged 10 (vm10's)" refused 1 "belongs to port vm10, whose VLANs (10) overlap these (40 +10)" \
        add-port vmx --mac "$MAC_VM3" --vlan 40 --trunk 10
    check "not trunk all" refused 1 "belongs to port" add-port vmx --mac "$MAC_VM3" --trunk all
    check "set-port into an owner's VLAN" refused 1 "belongs to port vm10" set-port vm20 --trunk 10
    check_eq "vm20 unchanged" "20 +21" "$(list_vlans vm20)"
    check "set-port into a free VLAN" quiet vepactl set-port vm20 --trunk 30
    section "a MAC learned from a guest counts within its port's VLANs"
    check "c1's guest MAC, untagged: refused" refused 1 "belongs to port c1 (its guest's)" add-port vmy --mac "$MAC_C1"
    check "c1's guest MAC in VLAN 30" quiet vepactl add-port vmy --mac "$MAC_C1" --vlan 30
    check_eq "ports" "c1,tap1,vm10,vm20,vmy" "$(ports_field name)"
}

test_vlans_map_keys() {
    section "the MAC table is keyed by MAC and VID"
    add_ports c2
    quiet vepactl set-port tap1 --vlan 10 --trunk 20 || fatal "set-port tap1 refused"
    quiet vepactl set-port c2 --mac "$MAC_VM3" --vlan 30 || fatal "set-port c2 refused"
    # One line per key: "MAC VID" (the key's first six bytes as bpftool prints them, the VID from its BTF).
    local keys vid
    keys=$(bpftool map dump pinned "$LAB_PIN_DIR/macs_v$LAYOUT" -j |
        jq -r '.[] | "\(.key[0:6] | map(.[2:]) | join(":")) \(.formatted.key.vid)"')
    for vid in 10 20; do
        check "tap1's MAC keyed with VID $vid" grep -qx "$MAC_VM3 $vid" <<<"$keys"
    done
    check "c2's (the same MAC) with VID 30" grep -qx "$MAC_VM3 30" <<<"$keys"
    check "that MAC not with VID 0 (no port of it takes untagged frames)" not grep -qx "$MAC_VM3 0" <<<"$keys"
    check "c1's guest MAC with VID 0" grep -qx "$MAC_C1 0" <<<"$keys"
}

run_tests
