#!/usr/bin/env bash
# Hitless upgrade: a vepad whose BPF programs differ (vepad-test-variant, built
# from the same source with VEPA_TEST_VARIANT) takes over a running dataplane
# and replaces every program in place, while two VMs stream 10 kpps each way to
# the remote host: no frame lost, in either direction, upgrading or downgrading.
# A pinned map of another layout version is refused with the remedy.
. "$(dirname "$0")/lib.sh"
t_start
VARIANT_BIN=$BUILD/daemon/vepad-test-variant
lab_start_vepad
vepactl add-port c1 >/dev/null
vepactl add-port tap1 --mac "$MAC_VM3" >/dev/null
reachable "$NS_C1" "$IP_REM"; reachable "$NS_VM3" "$IP_REM"   # the switch learns both MACs

tags() { echo "$(xdp_tag up0) $(tc_tag up0) $(tc_tag c1) $(xdp_tag tap1) $(tc_tag tap1)"; }

section "upgrade to different programs under load"
before=$(tags)
check "every hook runs a program (uplink XDP+TC, c1 TC, tap1 XDP+TC): $before" test "$(wc -w <<<"$before")" -eq 5
streams_start 6
sleep 1.5
lab_stop_vepad
VEPAD_BIN=$VARIANT_BIN lab_start_vepad
after=$(tags)
streams_check "upgrade"
check "all five programs replaced by different code: $after" bash -c '
    read -r -a a <<<"$1"; read -r -a b <<<"$2"
    [ ${#b[@]} -eq 5 ] && for i in 0 1 2 3 4; do [ "${a[$i]}" != "${b[$i]}" ] || exit 1; done' _ "$before" "$after"
check_eq "status names the programs that are attached" "$(vepactl status --json | jq -r .programs.uplink_xdp)" \
    "$(vepactl status --json | jq -r .uplink.xdp.prog_id)"
check_eq "the ports survived the upgrade" "up,up" "$(vepactl list --json | jq -r '[.ports[].state] | join(",")')"

section "downgrade back, under load"
streams_start 5
sleep 1.5
lab_stop_vepad
lab_start_vepad
streams_check "downgrade"
check_eq "the original programs again" "$before" "$(tags)"

section "a pinned map of another layout version is detected, never mixed"
lab_stop_vepad
bpftool map create "$LAB_PIN_DIR/macs_v0" type hash key 8 value 8 entries 16 name macs_v0
nsenter --net="/run/netns/$NS_HOST" "$VEPAD_BIN" --config "$LAB_DIR/vepad.conf" --state-dir "$LAB_DIR/state" \
    --socket "$LAB_SOCKET" --pin-dir "$LAB_PIN_DIR" >"$LAB_DIR/mismatch.log" 2>&1
rc=$?
check_eq "vepad refuses to start" 1 "$rc"
check "naming the foreign map" grep -q "macs_v0" "$LAB_DIR/mismatch.log"
check "and the remedy" grep -q "vepactl shutdown --detach" "$LAB_DIR/mismatch.log"
sed -n 's/^.*critical\] /    /p' "$LAB_DIR/mismatch.log"
check "the running dataplane is untouched and forwarding" reachable "$NS_C1" "$IP_REM"
rm -f "$LAB_PIN_DIR/macs_v0"
lab_start_vepad
check_eq "once removed, vepad starts with its ports" "up,up" "$(vepactl list --json | jq -r '[.ports[].state] | join(",")')"
