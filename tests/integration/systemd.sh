#!/usr/bin/env bash
# The systemd units: `systemd-analyze verify` clean, the documented capability
# set, and their ExecStart lines run directly (systemd is not PID 1 here) with a
# notification socket: READY=1 once the dataplane is live, STOPPING=1 on SIGTERM.
. "$(dirname "$0")/lib.sh"
t_start
units="$LAB_DIR/units"
mkdir -p "$units"
sbin=$(grep -o '^ExecStart=[^ ]*' "$BUILD/systemd/vepad.service" | sed 's/ExecStart=//; s|/vepad$||')
for u in vepad.service vepad@.service; do
    sed "s|$sbin/vepad|$VEPAD_BIN|" "$BUILD/systemd/$u" >"$units/$u"
done

section "systemd-analyze verify"
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

section "vepad.service's ExecStart, run directly"
sed 's/^#uplink = eth0/uplink = up0/' "$LAB_ROOT/systemd/vepad.conf" >"$LAB_DIR/vepad.conf"
run_execstart vepad.service "$LAB_DIR/notify.log"
check "READY=1 arrives" wait_for 5 grep -qx 'READY=1' "$LAB_DIR/notify.log"
check "with a STATUS line" grep -q '^STATUS=uplink up0 up' "$LAB_DIR/notify.log"
LAB_SOCKET=$LAB_DIR/vepad.sock
check "vepactl reaches it on the unit's socket" bash -c "VEPAD_SOCKET=$LAB_DIR/vepad.sock $VEPACTL_BIN status >/dev/null"
check "the state file is in the unit's StateDirectory" test "$(vepactl status --json | jq -r .state_file)" = "$LAB_DIR/state/ports-up0.json"
vepactl add-port c1 >/dev/null
check "and it forwards" reachable "$NS_C1" "$IP_REM"
kill -TERM "$EXEC_PID"; wait "$EXEC_PID"; rc=$?
check_eq "SIGTERM: exit status 0" 0 "$rc"
wait "$NOTIFY_PID"
check "STOPPING=1 sent" grep -qx 'STOPPING=1' "$LAB_DIR/notify.log"
check "the dataplane keeps forwarding after the stop" reachable "$NS_C1" "$IP_REM"

section "vepad@up0.service's ExecStart, run directly with only the unit's capabilities"
rm -f "$LAB_DIR/vepad.conf"   # the template needs no config file
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$units/vepad@.service" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
CAPS_WRAP="setpriv --bounding-set -all,$caps --inh-caps -all --"
run_execstart vepad@.service "$LAB_DIR/notify2.log" up0
check "vepad runs with its bounding set ($caps)" bash -c "grep -q '^CapBnd:.*' /proc/$EXEC_PID/status &&
    [ \$(awk '/^CapEff/ {print \$2}' /proc/$EXEC_PID/status) != 000001ffffffffff ]"
check "READY=1 arrives" wait_for 5 grep -qx 'READY=1' "$LAB_DIR/notify2.log"
LAB_SOCKET=$LAB_DIR/up0.sock
check "socket named after the instance" test -S "$LAB_DIR/up0.sock"
check "it took over the running dataplane and its port" test "$(vepactl list --json | jq -r '.ports[0].state')" = up
vepactl del-port c1 >/dev/null && vepactl add-port c1 >/dev/null
check "and manages ports with those capabilities alone" reachable "$NS_C1" "$IP_REM"
check_eq "its reflection probe and LLDP agent work with them too" "reflecting 0" \
    "$(vepactl probe --json | jq -r '"\(.probe.state) \(.lldp.send_errors)"')"
# An xsk port: vepad creates its veth pair, attaches a socket handed over by SCM_RIGHTS,
# and test-runs vepa_xsk_query to see it, with those capabilities alone.
vepactl add-port nf0 --type xsk --mac 02:00:0a:14:00:21 >/dev/null
nsenter --net="/run/netns/$NS_HOST" "$BUILD/tools/vepa-xsk" nf0 --attach --socket "$LAB_SOCKET" count \
    >/dev/null 2>&1 &
xpid=$!
check "and an xsk port: pair made, socket attached, port up" wait_for 5 state_is nf0 up
kill -INT $xpid; wait $xpid
vepactl shutdown --detach >/dev/null
wait "$EXEC_PID"; rc=$?
check_eq "shutdown --detach: exit status 0" 0 "$rc"
wait "$NOTIFY_PID"
