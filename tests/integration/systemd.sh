#!/usr/bin/env bash
# The systemd units: `systemd-analyze verify` clean, the documented capability
# set, and their ExecStart lines run directly (systemd is not PID 1 here) with a
# notification socket: READY=1 once the dataplane is live, STOPPING=1 on SIGTERM.
# Each case: the built units with vepad's path moved to the build, no vepad.
. "$(dirname "$0")/lib.sh"
units="$LAB_DIR/units"

case_setup() {
    mkdir -p "$units"
    local sbin u
    sbin=$(grep -o '^ExecStart=[^ ]*' "$BUILD/systemd/vepad.service" | sed 's/ExecStart=//; s|/vepad$||')
    for u in vepad.service vepad@.service; do
        sed "s|$sbin/vepad|$VEPAD_BIN|" "$BUILD/systemd/$u" >"$units/$u"
    done
}

# Run a unit's ExecStart with its paths moved into the lab; print sd_notify messages to $2.
run_execstart() {
    local unit=$1 notify_log=$2 instance=${3:-}
    local line
    line=$(sed -n 's/^ExecStart=//p' "$units/$unit")
    line=${line//%i/$instance}
    line=${line//\/var\/lib\/vepad/$LAB_DIR\/state}
    line=${line//\/run\/vepad/$LAB_DIR}
    line=${line//$(dirname "$(sed -n 's/^ExecStart=[^ ]* --config \([^ ]*\).*/\1/p' "$units/vepad.service")")/$LAB_DIR}
    /usr/bin/python3 "$(dirname "$0")/notify_listen.py" "$LAB_DIR/notify.sock" 8 >"$notify_log" &
    NOTIFY_PID=$!
    wait_for 3 grep -qs listening "$notify_log"
    # shellcheck disable=SC2086
    NOTIFY_SOCKET=$LAB_DIR/notify.sock nsenter --net="/run/netns/$NS_HOST" ${CAPS_WRAP:-} $line \
        --pin-dir "$LAB_PIN_DIR" >>"$LAB_DIR/vepad.log" 2>&1 &
    EXEC_PID=$!
}
service_conf() { sed 's/^#uplink = eth0/uplink = up0/' "$LAB_ROOT/systemd/vepad.conf" >"$LAB_DIR/vepad.conf"; }

test_units_verify() {
    section "systemd-analyze verify"
    local u out rc d
    for u in vepad.service vepad@.service; do
        out=$(systemd-analyze verify --man=no "$units/$u" 2>&1); rc=$?
        check "$u verifies with no warning" test "$rc" -eq 0 -a -z "$out"
        [ -z "$out" ] || printf '    %s\n' "$out"
    done
    check "Type=notify" grep -qx 'Type=notify' "$units/vepad.service"
    check_eq "capabilities: exactly the five documented" "CAP_BPF CAP_NET_ADMIN CAP_SYS_ADMIN CAP_CHOWN CAP_NET_RAW" \
        "$(sed -n 's/^CapabilityBoundingSet=//p' "$units/vepad.service")"
    for d in RuntimeDirectory StateDirectory ConfigurationDirectory; do
        check "$d=vepad" grep -qx "$d=vepad" "$units/vepad.service"
    done
    check "Restart=on-failure" grep -qx 'Restart=on-failure' "$units/vepad.service"
}

test_service_execstart() {
    section "vepad.service's ExecStart, run directly with the unit's address families"
    service_conf
    CAPS_WRAP="/usr/bin/python3 $(dirname "$0")/restrict_af.py $(sed -n 's/^RestrictAddressFamilies=//p' "$units/vepad.service") --"
    run_execstart vepad.service "$LAB_DIR/notify.log"
    check "READY=1 arrives" wait_for 5 grep -qx 'READY=1' "$LAB_DIR/notify.log"
    check "with a STATUS line" grep -q '^STATUS=uplink up0 up' "$LAB_DIR/notify.log"
    LAB_SOCKET=$LAB_DIR/vepad.sock
    check "vepactl reaches it on the unit's socket" vepad_answers
    check "the state file is in the unit's StateDirectory" test "$(status_field state_file)" = "$LAB_DIR/state/ports-up0.json"
    quiet vepactl add-port c1
    check "and it forwards" reachable "$NS_C1" "$IP_REM"
    check_eq "its reflection probe works with them" reflecting "$(vepactl probe --json | jq -r .probe.state)"
    kill -TERM "$EXEC_PID"; wait "$EXEC_PID"
    check_eq "SIGTERM: exit status 0" 0 "$?"
    wait "$NOTIFY_PID"
    check "STOPPING=1 sent" grep -qx 'STOPPING=1' "$LAB_DIR/notify.log"
    check "the dataplane keeps forwarding after the stop" reachable "$NS_C1" "$IP_REM"
}

test_template_with_unit_caps() {
    # As test_service_execstart leaves it: the service's vepad attached c1 and stopped, its dataplane runs.
    service_conf
    run_execstart vepad.service "$LAB_DIR/notify.log"
    wait_for 5 grep -qx 'READY=1' "$LAB_DIR/notify.log" || fatal "vepad.service's ExecStart did not get ready"
    LAB_SOCKET=$LAB_DIR/vepad.sock add_ports c1
    kill -TERM "$EXEC_PID"; wait "$EXEC_PID"; wait "$NOTIFY_PID"

    section "vepad@up0.service's ExecStart, run directly with only the unit's capabilities and address families"
    rm -f "$LAB_DIR/vepad.conf"   # the template needs no config file
    local caps families rc
    caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$units/vepad@.service" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
    # RestrictAddressFamilies= enforced as systemd does it (seccomp: EAFNOSUPPORT for the others).
    families=$(sed -n 's/^RestrictAddressFamilies=//p' "$units/vepad@.service")
    CAPS_WRAP="setpriv --bounding-set -all,$caps --inh-caps -all -- /usr/bin/python3 $(dirname "$0")/restrict_af.py $families --"
    run_execstart vepad@.service "$LAB_DIR/notify2.log" up0
    check "vepad runs with its bounding set ($caps)" bash -c "grep -q '^CapBnd:.*' /proc/$EXEC_PID/status &&
        [ \$(awk '/^CapEff/ {print \$2}' /proc/$EXEC_PID/status) != 000001ffffffffff ]"
    check "READY=1 arrives" wait_for 5 grep -qx 'READY=1' "$LAB_DIR/notify2.log"
    LAB_SOCKET=$LAB_DIR/up0.sock
    check "socket named after the instance" test -S "$LAB_DIR/up0.sock"
    check "it took over the running dataplane and its port" test "$(port_field c1 state)" = up
    quiet vepactl del-port c1 && quiet vepactl add-port c1
    check "and manages ports with those capabilities alone" reachable "$NS_C1" "$IP_REM"
    check_eq "its reflection probe and LLDP agent work with them too" "reflecting 0" \
        "$(vepactl probe --json | jq -r '"\(.probe.state) \(.lldp.send_errors)"')"
    # An xsk port: vepad creates its veth pair, attaches a socket handed over by SCM_RIGHTS,
    # and test-runs vepa_xsk_query to see it, with those capabilities alone.
    quiet vepactl add-port nf0 --type xsk --mac 02:00:0a:14:00:21
    nsenter --net="/run/netns/$NS_HOST" "$BUILD/tools/vepa-xsk" nf0 --attach --socket "$LAB_SOCKET" count \
        >/dev/null 2>&1 &
    local xpid=$!
    check "and an xsk port: pair made, socket attached, port up" wait_for 5 state_is nf0 up
    kill -INT $xpid; wait $xpid
    quiet vepactl shutdown --detach
    wait "$EXEC_PID"; rc=$?
    check_eq "shutdown --detach: exit status 0" 0 "$rc"
    wait "$NOTIFY_PID"
}

run_tests
