#!/usr/bin/env bash
# The CNI plugin `vepa` (cni/) against a real vepad on the lab: ADD/CHECK/DEL of
# containers (namespaces $LAB-cniN) with host-local IPAM, reaching the remote host
# through vepad and the switch; DEL's idempotence (twice, after the netns is gone,
# with vepad stopped); CHECK against prevResult; each port's owner; GC and STATUS
# (spec 1.1.0); bad configs refused with the spec's codes and nothing left behind;
# VERSION; 50 ADDs in parallel.
. "$(dirname "$0")/lib.sh"

CNI_BIN=$BUILD/cni/vepa
CNI_PLUGINS=/usr/lib/cni

case_setup() {
    [ -x "$CNI_BIN" ] || fatal "$CNI_BIN is not built"
    start_vepad
}

# net_config [JSON merged in]: the network config, host-local IPAM in 10.20.0.150-.199.
net_config() {
    jq -nc --arg sock "$LAB_SOCKET" --arg dir "$LAB_DIR/ipam" --argjson extra "${1:-{\}}" '{
        cniVersion: "1.0.0", name: "vepanet", type: "vepa", socket: $sock, mode: "vepa",
        ipam: {type: "host-local", dataDir: $dir,
               ranges: [[{subnet: "10.20.0.0/24", rangeStart: "10.20.0.150", rangeEnd: "10.20.0.199"}]]}
    } * $extra'
}
need_host_local() { [ -x "$CNI_PLUGINS/host-local" ] || skip "no $CNI_PLUGINS/host-local (apt: containernetworking-plugins)"; }

# cni COMMAND ID CONFIG [VAR=VALUE...]: the plugin in the host namespace for container ID
# (netns $LAB-ID, eth0); its stdout in $LAB_DIR/out.ID, its exit status returned.
cni() {
    local cmd=$1 id=$2 config=$3; shift 3
    printf '%s' "$config" | env CNI_COMMAND="$cmd" CNI_CONTAINERID="ctr-$id" CNI_NETNS="/run/netns/$LAB-$id" \
        CNI_IFNAME=eth0 CNI_PATH="$CNI_PLUGINS" "$@" \
        nsenter --net="/run/netns/$NS_HOST" "$CNI_BIN" >"$LAB_DIR/out.$id" 2>"$LAB_DIR/err.$id"
}
out() { cat "$LAB_DIR/out.$1"; }
container() { ip netns add "$LAB-$1" && ip -n "$LAB-$1" link set lo up; }
# The host end's name, as the plugin derives it (from ADD's result).
host_end() { jq -r '.interfaces[0].name' "$LAB_DIR/out.$1"; }
host_vp_links() { ip -n "$NS_HOST" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -c '^vp' || true; }
ports_count() { vepactl list --json | jq '[.ports[] | select(.name | startswith("vp"))] | length'; }
# with_prev ID CONFIG: CONFIG with the saved result of ID's ADD as prevResult, as runtimes send CHECK.
with_prev() { jq -c --slurpfile prev "$LAB_DIR/add.$1" '. + {prevResult: $prev[0]}' <<<"$2"; }
# cni_add ID CONFIG [VAR=VALUE...]: ADD, its result kept for with_prev.
cni_add() { cni ADD "$@" && cp "$LAB_DIR/out.$1" "$LAB_DIR/add.$1"; }
# cni_error ID CODE [VERSION]: the last call failed with a CNI error of that code, written in
# VERSION (default 1.0.0, the config's).
cni_error() {
    local o; o=$(out "$1")
    [ "$(jq -r .code <<<"$o" 2>/dev/null)" = "$2" ] && [ "$(jq -r .cniVersion <<<"$o")" = "${3:-1.0.0}" ] &&
        [ -n "$(jq -r '.msg // empty' <<<"$o")" ] || { echo "    got: $o"; return 1; }
}

test_version() {
    section "VERSION"
    check "exit 0" quiet env CNI_COMMAND=VERSION "$CNI_BIN" </dev/null
    local v; v=$(CNI_COMMAND=VERSION "$CNI_BIN" </dev/null)
    check_eq "cniVersion without input: the newest" 1.1.0 "$(jq -r .cniVersion <<<"$v")"
    check_eq "supportedVersions" '["0.4.0","1.0.0","1.1.0"]' "$(jq -c .supportedVersions <<<"$v")"
    v=$(CNI_COMMAND=VERSION "$CNI_BIN" <<<'{"cniVersion": "1.0.0"}')
    check_eq "cniVersion: the input's" 1.0.0 "$(jq -r .cniVersion <<<"$v")"
}

test_add_check_del() {
    need_host_local
    container a
    section "ADD"
    local routed; routed=$(net_config '{"ipam": {"routes": [{"dst": "10.99.0.0/16", "gw": "10.20.0.100"}]}}')
    check "ADD succeeds" cni_add a "$routed"
    local host ip; host=$(host_end a); ip=$(out a | jq -r '.ips[0].address')
    check "the host end is named vp + 11 hex digits" grep -Eqx 'vp[0-9a-f]{11}' <<<"$host"
    check_eq "the container end is in the sandbox" "/run/netns/$LAB-a" "$(out a | jq -r '.interfaces[1].sandbox')"
    check_eq "the ip names the container interface" 1 "$(out a | jq -r '.ips[0].interface')"
    check "the address is from host-local's range" grep -Eq '^10\.20\.0\.1[5-9][0-9]/24$' <<<"$ip"
    check_eq "the container has it" "$ip" "$(ip -n "$LAB-a" -j addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')"
    check_eq "the container's MAC is in the result" "$(ip -n "$LAB-a" -j link show eth0 | jq -r '.[0].address')" "$(out a | jq -r '.interfaces[1].mac')"
    check "host-local holds a lease for it" grep -rqs "ctr-a" "$LAB_DIR/ipam"
    check_eq "vepad's port is up" up "$(port_field "$host" state)"
    check_eq "the IPAM result's route is in the result" 10.99.0.0/16 "$(out a | jq -r '.routes[0].dst')"
    check_eq "and in the container" "10.99.0.0/16 via 10.20.0.100" \
        "$(ip -n "$LAB-a" -j route show 10.99.0.0/16 | jq -r '.[0] | "\(.dst) via \(.gateway)"')"
    check_eq "with the config's mode" vepa "$(port_field "$host" mode)"
    check "the container reaches the remote host through vepad and the switch" reachable "$LAB-a" "$IP_REM"
    check_eq "vepad records the owner: network, container id, ifname" '{"id":"ctr-a","ifname":"eth0","name":"vepanet","tool":"cni"}' \
        "$(port_field "$host" owner | jq -cS .)"
    check "vepactl list shows it" grep -Eq "^$host .* cni:vepanet:ctr-a:eth0\$" <<<"$(vepactl list)"
    section "CHECK"
    check "CHECK succeeds" cni CHECK a "$(with_prev a "$(net_config)")"
    check "CHECK with another mode fails" not cni CHECK a "$(with_prev a "$(net_config '{"mode": "private"}')")"
    check "with code 105" cni_error a 105
    check "CHECK without prevResult fails" not cni CHECK a "$(net_config)"
    check "with code 7" cni_error a 7
    local other; other=$(jq -c '.ips[0].address = "10.20.0.250/24"' "$LAB_DIR/add.a")
    check "CHECK with an address the container lacks fails" \
        not cni CHECK a "$(jq -c --argjson p "$other" '. + {prevResult: $p}' <<<"$(net_config)")"
    check "with code 105, naming it" grep -q '10.20.0.250/24' "$LAB_DIR/out.a"
    ip -n "$LAB-a" link set eth0 address 02:00:00:00:0a:99
    check "CHECK after the container changed its MAC fails" not cni CHECK a "$(with_prev a "$(net_config)")"
    check "with code 105" cni_error a 105
    ip -n "$LAB-a" link set eth0 address "$(jq -r '.interfaces[1].mac' "$LAB_DIR/add.a")"
    check "and succeeds once it is back" wait_for 3 cni CHECK a "$(with_prev a "$(net_config)")"
    section "DEL"
    check "DEL succeeds" cni DEL a "$(net_config)"
    check "the host end is gone" not ip -n "$NS_HOST" link show "$host" 2>/dev/null
    check "the container end is gone" not ip -n "$LAB-a" link show eth0 2>/dev/null
    check "the port is gone" not port_listed "$host"
    check "host-local released the address" not grep -rqs "ctr-a" "$LAB_DIR/ipam"
    check "DEL twice succeeds" cni DEL a "$(net_config)"
    check "CHECK after DEL fails" not cni CHECK a "$(with_prev a "$(net_config)")"
}

test_version_040() {
    need_host_local
    container o
    section "cniVersion 0.4.0: the 0.4.0 result format"
    local cfg; cfg=$(net_config '{"cniVersion": "0.4.0"}')
    check "ADD succeeds" cni_add o "$cfg"
    check_eq "the result's cniVersion" 0.4.0 "$(out o | jq -r .cniVersion)"
    check_eq "each IP has its version" 4 "$(out o | jq -r '.ips[0].version')"
    check_eq "and the interface index" 1 "$(out o | jq -r '.ips[0].interface')"
    check "the container reaches the remote host" reachable "$LAB-o" "$IP_REM"
    check "CHECK succeeds" cni CHECK o "$(with_prev o "$cfg")"
    check "DEL succeeds" cni DEL o "$cfg"
    check_eq "no port left" 0 "$(ports_count)"
}

test_mac_requested() {
    container m; container r
    section "CNI_ARGS MAC= and runtimeConfig.mac"
    local cfg; cfg=$(net_config '{"ipam": null}')
    check "ADD with CNI_ARGS MAC" cni ADD m "$cfg" CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=x;MAC=02:aa:bb:cc:dd:01"
    check_eq "the container end has it" 02:aa:bb:cc:dd:01 "$(ip -n "$LAB-m" -j link show eth0 | jq -r '.[0].address')"
    check_eq "vepad's port has it" '["02:aa:bb:cc:dd:01"]' "$(port_field "$(host_end m)" macs)"
    check "ADD with runtimeConfig.mac" cni_add r "$(net_config '{"ipam": null, "runtimeConfig": {"mac": "02:aa:bb:cc:dd:02"}, "mtu": 1400}')"
    check_eq "the container end has it" 02:aa:bb:cc:dd:02 "$(ip -n "$LAB-r" -j link show eth0 | jq -r '.[0].address')"
    check_eq "and the config's MTU" 1400 "$(ip -n "$LAB-r" -j link show eth0 | jq -r '.[0].mtu')"
    check "CHECK succeeds" cni CHECK r "$(with_prev r "$cfg")"
    check "ADD of the same container again fails" not cni ADD r "$cfg"
    check "and leaves the first one alone" cni CHECK r "$(with_prev r "$cfg")"
    check "DEL m" cni DEL m "$cfg"
    check "DEL r" cni DEL r "$cfg"
    check_eq "no port left" 0 "$(ports_count)"
    check_eq "no veth left" 0 "$(host_vp_links)"
}

test_del_netns_gone() {
    need_host_local
    container g
    check "ADD" cni ADD g "$(net_config)"
    local host; host=$(host_end g)
    ip netns del "$LAB-g"
    check "the host end went with the netns" wait_for 3 not ip -n "$NS_HOST" link show "$host" 2>/dev/null
    section "DEL after the netns is gone"
    check "DEL succeeds" cni DEL g "$(net_config)"
    check "the port is gone" not port_listed "$host"
    check "the host end is gone" not ip -n "$NS_HOST" link show "$host" 2>/dev/null
    check "host-local released the address" not grep -rqs "ctr-g" "$LAB_DIR/ipam"
    check "DEL without CNI_NETNS succeeds" cni DEL g "$(net_config)" CNI_NETNS=
}

test_del_vepad_stopped() {
    need_host_local
    container s
    check "ADD" cni ADD s "$(net_config)"
    local host; host=$(host_end s)
    lab_stop_vepad
    section "DEL with vepad stopped"
    check "DEL succeeds" cni DEL s "$(net_config)"
    check "the host end is gone" not ip -n "$NS_HOST" link show "$host" 2>/dev/null
    check "host-local released the address" not grep -rqs "ctr-s" "$LAB_DIR/ipam"
    section "vepad back: it still has the port; ADD of the same container replaces it"
    start_vepad
    check_eq "the port is configured, absent" absent "$(port_field "$host" state)"
    check "ADD succeeds" cni ADD s "$(net_config)"
    check_eq "the port is up" up "$(port_field "$host" state)"
    check "the container reaches the remote host" reachable "$LAB-s" "$IP_REM"
    check "DEL succeeds" cni DEL s "$(net_config)"
    check "the port is gone" not port_listed "$host"
}

test_bad_configs() {
    need_host_local
    container b
    section "bad configs: a CNI error with the spec's code, nothing left behind"
    local cfg
    _refused() {   # _refused CODE CONFIG [VAR=VALUE...]
        local code=$1; shift
        ! cni ADD b "$@" && cni_error b "$code" &&
            [ "$(host_vp_links)" = 0 ] && [ "$(ports_count)" = 0 ] && ! ip -n "$LAB-b" link show eth0 2>/dev/null
    }
    _refused_newest() { ! cni ADD b "$2" && cni_error b "$1" 1.1.0 && [ "$(ports_count)" = 0 ]; }
    check "not JSON: 6" _refused_newest 6 '{"cniVersion": '
    check "unsupported cniVersion: 1" _refused_newest 1 "$(net_config '{"cniVersion": "0.3.1"}')"
    check "no cniVersion: 1" _refused_newest 1 "$(net_config | jq -c 'del(.cniVersion)')"
    check "missing name: 7" _refused 7 "$(net_config | jq -c 'del(.name)')"
    check "bad mode: 7" _refused 7 "$(net_config '{"mode": "hub"}')"
    check "bad VLAN: 7" _refused 7 "$(net_config '{"vlan": 5000}')"
    check "bad runtimeConfig.mac: 7" _refused 7 "$(net_config '{"runtimeConfig": {"mac": "02:00:00:00:00"}}')"
    check "bad CNI_ARGS MAC: 4" _refused 4 "$(net_config)" CNI_ARGS="MAC=zz:00:00:00:00:01"
    check "a group MAC: 4" _refused 4 "$(net_config)" CNI_ARGS="MAC=01:00:5e:00:00:01"
    check "no CNI_CONTAINERID: 4" _refused 4 "$(net_config)" CNI_CONTAINERID=
    check "a netns that does not exist: 4" _refused 4 "$(net_config)" CNI_NETNS=/run/netns/$LAB-nonexistent
    check "unknown IPAM plugin: 102" _refused 102 "$(net_config '{"ipam": {"type": "no-such-ipam"}}')"
    check "IPAM plugin fails: 102" _refused 102 "$(net_config '{"ipam": {"ranges": [[{"subnet": "bogus"}]]}}')"
    check "unreachable socket: 100" _refused 100 "$(net_config '{"socket": "/nonexistent/vepad.sock"}')"
    add_ports c1
    check "a MAC vepad refuses (another port's guest's): 101" _refused 101 "$(net_config)" CNI_ARGS="MAC=$MAC_C1"
    check "host-local holds no address" not grep -rqs "ctr-b" "$LAB_DIR/ipam"
}

# gc_config IDS...: the 1.1.0 config GC gets, with these containers' eth0 as the valid attachments.
gc_config() {
    local valid; valid=$(printf '%s\n' "$@" | jq -Rnc '[inputs | select(length > 0) | {containerID: ("ctr-" + .), ifname: "eth0"}]')
    net_config '{"cniVersion": "1.1.0"}' | jq -c --argjson v "$valid" '. + {"cni.dev/valid-attachments": $v}'
}
# gc CONFIG [VAR=VALUE...]: GC as runtimes call it: no container, no netns, no ifname.
gc() {
    local config=$1; shift
    printf '%s' "$config" | env -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME CNI_COMMAND=GC CNI_PATH="$CNI_PLUGINS" "$@" \
        nsenter --net="/run/netns/$NS_HOST" "$CNI_BIN" >"$LAB_DIR/out.gc" 2>"$LAB_DIR/err.gc"
}

test_gc() {
    need_host_local
    container x; container y; container z; container w
    section "GC (1.1.0): the attachments the runtime no longer knows go, the others stay"
    local cfg; cfg=$(net_config '{"cniVersion": "1.1.0"}')
    check "ADD x" cni_add x "$cfg"
    check "ADD y" cni_add y "$cfg"
    check "ADD z" cni_add z "$cfg"
    check "ADD w on another network" cni_add w "$(net_config '{"name": "othernet"}')"
    local hy hz; hy=$(jq -r '.interfaces[0].name' "$LAB_DIR/add.y"); hz=$(jq -r '.interfaces[0].name' "$LAB_DIR/add.z")
    add_ports c1
    check "GC with x valid succeeds" gc "$(gc_config x)"
    check_eq "it prints nothing" "" "$(out gc)"
    check "y's port is gone" not port_listed "$hy"
    check "z's port is gone" not port_listed "$hz"
    check "y's host end is gone" not ip -n "$NS_HOST" link show "$hy" 2>/dev/null
    check "y's and z's leases are released" not grep -rqsE "ctr-[yz]" "$LAB_DIR/ipam"
    check "x keeps its port and lease" cni CHECK x "$(with_prev x "$cfg")"
    check "x's lease is still held" grep -rqs "ctr-x" "$LAB_DIR/ipam"
    check "another network's port stays" port_listed "$(jq -r '.interfaces[0].name' "$LAB_DIR/add.w")"
    check "a port vepactl added stays" port_listed c1
    check "x still reaches the remote host" reachable "$LAB-x" "$IP_REM"
    check "GC again changes nothing" gc "$(gc_config x)"
    check_eq "ports left: x, w, c1" 3 "$(vepactl list --json | jq '.ports | length')"
    check "GC with vepad unreachable fails" not gc "$(gc_config x | jq -c '.socket = "/nonexistent/vepad.sock"')"
    check "with code 100" eval '[ "$(jq -r .code "$LAB_DIR/out.gc")" = 100 ]'
    check "GC with no valid attachment" gc "$(gc_config)"
    check "removes x" not port_listed "$(jq -r '.interfaces[0].name' "$LAB_DIR/add.x")"
    check "and releases its lease" not grep -rqs "ctr-x" "$LAB_DIR/ipam"
    check "GC with a malformed valid-attachments is refused: 7" \
        not gc "$(net_config '{"cniVersion": "1.1.0", "cni.dev/valid-attachments": [{"containerID": 5}]}')"
    check "with code 7" eval '[ "$(jq -r .code "$LAB_DIR/out.gc")" = 7 ]'
}

# status CONFIG: STATUS as runtimes call it.
status() {
    printf '%s' "$1" | env -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME CNI_COMMAND=STATUS \
        nsenter --net="/run/netns/$NS_HOST" "$CNI_BIN" >"$LAB_DIR/out.status" 2>&1
}

test_status() {
    section "STATUS (1.1.0): can ADD succeed now?"
    local cfg; cfg=$(net_config '{"cniVersion": "1.1.0"}')
    check "vepad up, uplink up: success" status "$cfg"
    check_eq "and no output" "" "$(cat "$LAB_DIR/out.status")"
    check "vepad unreachable: fails" not status "$(jq -c '.socket = "/nonexistent/vepad.sock"' <<<"$cfg")"
    check_eq "with code 50" 50 "$(jq -r .code "$LAB_DIR/out.status")"
    in_ns "$NS_HOST" ip link set up0 down
    check "the uplink down: fails" wait_for 3 not status "$cfg"
    check_eq "with code 50" 50 "$(jq -r .code "$LAB_DIR/out.status")"
    check "naming the uplink" grep -q "up0 is not up" "$LAB_DIR/out.status"
    in_ns "$NS_HOST" ip link set up0 up
    check "the uplink up again: success" wait_for 3 status "$cfg"
}

test_parallel() {
    need_host_local
    local n=50 i pids=() fails=0
    for i in $(seq $n); do container "p$i"; done
    section "$n ADDs in parallel"
    for i in $(seq $n); do cni ADD "p$i" "$(net_config)" & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || fails=$((fails + 1)); done
    check_eq "every ADD succeeded" 0 "$fails"
    check_eq "$n ports, all up" "$n" "$(vepactl list --json | jq '[.ports[] | select(.state == "up")] | length')"
    check_eq "$n distinct addresses" "$n" "$(for i in $(seq $n); do out "p$i" | jq -r '.ips[0].address'; done | sort -u | grep -c '^10\.20\.0\.')"
    check "the last one reaches the remote host" reachable "$LAB-p$n" "$IP_REM"
    section "all DEL"
    pids=() fails=0
    for i in $(seq $n); do cni DEL "p$i" "$(net_config)" & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || fails=$((fails + 1)); done
    check_eq "every DEL succeeded" 0 "$fails"
    check_eq "no port left" 0 "$(ports_count)"
    check_eq "no veth left" 0 "$(host_vp_links)"
}

run_tests
