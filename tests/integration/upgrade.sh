#!/usr/bin/env bash
# Hitless upgrade: a vepad whose BPF programs differ (vepad-test-variant, built
# from the same source with VEPA_TEST_VARIANT) takes over a running dataplane
# and replaces every program in place, while two VMs stream 10 kpps each way to
# the remote host: no frame lost, in either direction, upgrading or downgrading.
# A pinned map of another layout version is refused with the remedy.  Each case:
# a fresh vepad with c1 and tap1 whose MACs the switch has learnt.
. "$(dirname "$0")/lib.sh"
VARIANT_BIN=$BUILD/daemon/vepad-test-variant

tags() { echo "$(xdp_tag up0) $(tc_tag up0) $(tc_tag c1) $(xdp_tag tap1) $(tc_tag tap1)"; }

case_setup() {
    start_vepad
    add_ports c1 tap1
    reachable "$NS_C1" "$IP_REM"; reachable "$NS_VM3" "$IP_REM"   # the switch learns both MACs
}

test_upgrade_under_load() {
    section "upgrade to different programs under load"
    local before after
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
    check_eq "status names the programs that are attached" "$(status_field programs.uplink_xdp)" \
        "$(status_field uplink.xdp.prog_id)"
    check_eq "the ports survived the upgrade" "up,up" "$(ports_field state)"
}

test_downgrade_under_load() {
    local before; before=$(tags)
    lab_stop_vepad
    VEPAD_BIN=$VARIANT_BIN start_vepad   # upgraded, as test_upgrade_under_load leaves it
    [ "$(tags)" != "$before" ] || fatal "the variant did not replace the programs ($before)"

    section "downgrade back, under load"
    streams_start 5
    sleep 1.5
    lab_stop_vepad
    lab_start_vepad
    streams_check "downgrade"
    check_eq "the original programs again" "$before" "$(tags)"
}

test_clsact_to_tcx_under_load() {
    if [ "$(tc_hook up0)" != tcx ]; then section "no tcx on this kernel: vepad stays on clsact"; return; fi
    section "from clsact to tcx (the release before tcx, or tc_hook = clsact), under load"
    lab_stop_vepad
    start_vepad --tc-hook clsact
    check_eq "tc_hook = clsact: every TC program on clsact" "clsact clsact clsact" \
        "$(tc_hook up0) $(tc_hook c1) $(tc_hook tap1)"
    streams_start 5
    sleep 1.5
    lab_stop_vepad
    start_vepad
    streams_check "clsact to tcx"
    check_eq "auto: every TC program at tcx, no filter left on clsact" "tcx tcx tcx false false false" \
        "$(for d in up0 c1 tap1; do tc_hook $d; done | xargs) $(for d in up0 c1 tap1; do hooks $d | jq .tc.both; done | xargs)"
    check_eq "status names the hook" tcx "$(status_field uplink.tc.hook)"
}

test_layout_mismatch() {
    section "a pinned map of another layout version is detected, never mixed"
    lab_stop_vepad
    bpftool map create "$LAB_PIN_DIR/macs_v0" type hash key 8 value 8 entries 16 name macs_v0
    lab_run_vepad >"$LAB_DIR/mismatch.log" 2>&1
    check_eq "vepad refuses to start" 1 "$?"
    check "naming the foreign map" grep -q "macs_v0" "$LAB_DIR/mismatch.log"
    check "and the remedy" grep -q "vepactl shutdown --detach" "$LAB_DIR/mismatch.log"
    sed -n 's/^.*critical\] /    /p' "$LAB_DIR/mismatch.log"
    check "the running dataplane is untouched and forwarding" reachable "$NS_C1" "$IP_REM"
    rm -f "$LAB_PIN_DIR/macs_v0"
    lab_start_vepad
    check_eq "once removed, vepad starts with its ports" "up,up" "$(ports_field state)"
}

run_tests
