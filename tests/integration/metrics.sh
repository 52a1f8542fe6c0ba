#!/usr/bin/env bash
# Prometheus metrics (README, "Metrics"): GET /metrics served by the real vepad
# (metrics_listen) and `vepactl metrics`, checked by promtool; the counters move
# with traffic and agree with `vepactl stats`; drops by reason, control requests
# by result, the reflective-relay gauge follow what happens; hostile HTTP clients
# (idle, huge, malformed, floods, readers that never read) cost vepad neither its
# control socket nor its forwarding, and leak nothing; bad listen addresses are
# refused at start.
. "$(dirname "$0")/lib.sh"

ADDR=127.0.0.1:9477
HOSTILE=$(dirname "$0")/http_hostile.py

case_setup() {
    command -v promtool >/dev/null || skip "no promtool (apt: prometheus)"
    command -v curl >/dev/null || skip "no curl"
}
start() { start_vepad --metrics-listen "$ADDR" "$@"; }

# scrape [curl args...]: GET /metrics from the host namespace (where vepad listens).
scrape() { in_ns "$NS_HOST" curl -sS --max-time 5 "$@" "http://$ADDR/metrics"; }
# sample NAME{LABELS}: one sample's value from a fresh scrape.
sample() { scrape | awk -v k="$1" '$1 == k { print $2 }'; }
hostile() { in_ns "$NS_HOST" /usr/bin/python3 "$HOSTILE" "${ADDR%:*}" "${ADDR#*:}" "$@"; }
fds() { ls "/proc/$(lab_vepad_pid)/fd" | wc -l; }

test_scrape() {
    start; add_ports c1 c2 tap1
    section "GET /metrics and vepactl metrics"
    check "GET /metrics answers 200" eval 'scrape -D "$LAB_DIR/headers" -o "$LAB_DIR/body" && head -1 "$LAB_DIR/headers" | grep -q " 200"'
    check "as text format 0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$LAB_DIR/headers"
    check "promtool check metrics passes" promtool check metrics <"$LAB_DIR/body"
    check "vepactl metrics passes too" eval 'vepactl metrics | promtool check metrics'
    check_eq "both have the same families" "$(grep '^# TYPE' "$LAB_DIR/body")" "$(vepactl metrics | grep '^# TYPE')"
    check_eq "a sample per port and drop reason" 39 "$(grep -c '^vepad_port_drops_total{' "$LAB_DIR/body")"
    check_eq "ports up" 3 "$(sample 'vepad_ports{uplink="up0",state="up"}')"
    check_eq "build info" 1 "$(sample "vepad_build_info{uplink=\"up0\",version=\"$(status_field version)\",layout_version=\"$LAYOUT\"}")"
    check "HEAD: 200 without a body" eval '[ -z "$(scrape -I -o /dev/null -w "%{http_code}" | grep -v 200)" ] && [ -z "$(in_ns "$NS_HOST" curl -sS --head "http://$ADDR/metrics" | sed -n "/^\r$/,\$p" | tail -n +2)" ]'
    check_eq "another path: 404" 404 "$(in_ns "$NS_HOST" curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/")"
    check_eq "POST: 405" 405 "$(in_ns "$NS_HOST" curl -s -o /dev/null -w '%{http_code}' -X POST "http://$ADDR/metrics")"
    local name missing=""
    for name in $(grep -ho 'vepad_[a-z_]*' "$LAB_ROOT/tools/grafana/vepad-dashboard.json" "$LAB_ROOT/tools/prometheus/vepad-alerts.yml" | sort -u); do
        grep -q "^# TYPE $name " "$LAB_DIR/body" || missing+=" $name"
    done
    check_eq "every metric the dashboard and the alert rules use is served" "" "$missing"
    check "keep-alive: two scrapes on one connection" eval \
        '[ "$(in_ns "$NS_HOST" curl -sS -o /dev/null -o /dev/null -w "%{num_connects}\n" "http://$ADDR/metrics" "http://$ADDR/metrics" | paste -sd+ | bc)" = 1 ]'
}

# between NAME FIELD PORT: the sample lies between vepactl stats' values taken just before and after.
between() {
    local metric=$1 field=$2 port=$3 a m b
    a=$(lab_stat "$port" "$field"); m=$(sample "$metric"); b=$(lab_stat "$port" "$field")
    [ -n "$m" ] && [ "$a" -le "$m" ] && [ "$m" -le "$b" ] || { echo "    stats $a, metric $m, stats $b"; return 1; }
}

test_counters_move_with_traffic() {
    start; add_ports c1 c2 tap1
    section "counters while traffic flows, against vepactl stats"
    local k='vepad_port_received_packets_total{uplink="up0",port="c1"}' v0 v prev i mono=0
    v0=$(sample "$k")
    in_ns "$NS_C1" ping -q -c 400 -i 0.005 -W 1 "$IP_REM" >/dev/null 2>&1 &
    local ping=$!
    prev=$v0
    for i in $(seq 10); do
        v=$(sample "$k"); [ "$v" -ge "$prev" ] || mono=1; prev=$v; sleep 0.1
    done
    wait "$ping"
    check_eq "c1's received packets never went down over 10 scrapes" 0 "$mono"
    check_ge "and rose by the 400 pings" $((v0 + 400)) "$(sample "$k")"
    check "received packets agree with vepactl stats" between "$k" rx_packets c1
    check "received bytes too" between 'vepad_port_received_bytes_total{uplink="up0",port="c1"}' rx_bytes c1
    check "transmitted packets (the replies) too" between 'vepad_port_transmitted_packets_total{uplink="up0",port="c1"}' tx_packets c1
    check "the uplink's received packets too" between 'vepad_uplink_received_packets_total{uplink="up0"}' rx_packets uplink
    section "drops by reason"
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C2")" 10 >/dev/null
    check_eq "10 spoofed frames from c1" 10 "$(sample 'vepad_port_drops_total{uplink="up0",port="c1",reason="spoofed"}')"
    check "agree with vepactl stats" between 'vepad_port_drops_total{uplink="up0",port="c1",reason="spoofed"}' drops.spoofed c1
}

test_requests_and_relay() {
    start; add_ports c1
    section "control requests by command and result"
    vepactl add-port c2 --mac zz >/dev/null 2>&1
    vepactl add-port c2 --mac 02:00:00:00:00:01 --mode hub >/dev/null 2>&1
    check_eq "two refused add-ports" 2 "$(sample 'vepad_control_requests_total{uplink="up0",command="add-port",result="invalid-argument"}')"
    check_eq "the good one" 1 "$(sample 'vepad_control_requests_total{uplink="up0",command="add-port",result="ok"}')"
    printf 'not json\n' | in_ns "$NS_HOST" timeout 2 /usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read()); s.recv(4096)' "$LAB_SOCKET"
    check_eq "an unreadable line: command unknown, bad-request" 1 "$(sample 'vepad_control_requests_total{uplink="up0",command="unknown",result="bad-request"}')"
    check_ge "the reconciles ran" 1 "$(sample 'vepad_reconcile_runs_total{uplink="up0"}')"
    check_eq "none failed" 0 "$(sample 'vepad_reconcile_failures_total{uplink="up0"}')"
    section "reflective relay"
    lab_hairpin on; vepactl probe >/dev/null
    check_eq "hairpin on: the verdict is reflecting" 1 "$(sample 'vepad_reflective_relay{uplink="up0",source="verdict",state="reflecting"}')"
    check "with a probe round trip" eval '[ -n "$(sample "vepad_probe_rtt_seconds{uplink=\"up0\"}")" ]'
    lab_hairpin off; vepactl probe >/dev/null
    check_eq "hairpin off: not-reflecting" 1 "$(sample 'vepad_reflective_relay{uplink="up0",source="probe",state="not-reflecting"}')"
    check_eq "and reflecting is 0" 0 "$(sample 'vepad_reflective_relay{uplink="up0",source="probe",state="reflecting"}')"
    lab_hairpin on
}

answers_fast() { local t0=$SECONDS; vepactl --timeout 2 status >/dev/null && [ $((SECONDS - t0)) -le 2 ]; }

test_hostile_clients() {
    start; add_ports c1
    section "hostile HTTP clients: vepad keeps answering and forwarding"
    local fd0; fd0=$(fds)
    check "a 1 MiB header is refused (400 or closed)" hostile huge
    check "malformed requests: 400, POST 405, other paths 404" hostile malformed
    check "2000 connections opened and closed" hostile flood 2000
    check "50 pipelined requests never read, on 20 connections" hostile slowread 20
    check "the control socket answers" answers_fast
    section "200 idle half-requests (more than the 32 connections served at once)"
    hostile idle 200 12 >"$LAB_DIR/idle.log" 2>&1 &
    local idle=$!
    sleep 1
    check "the control socket answers" answers_fast
    check "c1 reaches the remote host" reachable "$NS_C1" "$IP_REM"
    check "a scrape is turned away meanwhile (closed at once, not left hanging)" \
        eval '! in_ns "$NS_HOST" curl -s --max-time 2 -o /dev/null "http://$ADDR/metrics"; [ $? -ne 28 ]'
    wait "$idle"
    check "the idle connections were closed by vepad (request timeout)" grep -q "closed by the server" "$LAB_DIR/idle.log"
    check_eq "all 200 of them" "idle: 200 of 200 closed by the server" "$(tail -1 "$LAB_DIR/idle.log")"
    check "GET /metrics works again" eval 'scrape | promtool check metrics'
    check "c1 still reaches the remote host" reachable "$NS_C1" "$IP_REM"
    check "no descriptor leaked" wait_for 5 eval '[ "$(fds)" -le $((fd0 + 1)) ]'
}

test_bad_listen_addresses() {
    section "metrics_listen refused at start"
    local out
    out=$(lab_run_vepad --metrics-listen 127.0.0.1:99999 2>&1); local rc=$?
    check_eq "a port out of range: exit 1" 1 "$rc"
    check "naming the option" grep -q -- "--metrics-listen.*ADDRESS:PORT" <<<"$out"
    out=$(lab_run_vepad --metrics-listen localhost:9477 2>&1); rc=$?
    check_eq "a host name: exit 1" 1 "$rc"
    in_ns "$NS_HOST" /usr/bin/python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1", 9478)); s.listen(); time.sleep(30)' &
    local holder=$!
    sleep 0.3
    out=$(lab_run_vepad --metrics-listen 127.0.0.1:9478 2>&1); rc=$?
    kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
    check_eq "an address in use: exit 1" 1 "$rc"
    check "saying so" grep -q "metrics_listen 127.0.0.1:9478.*in use" <<<"$out"
    in_ns "$NS_HOST" sysctl -qw net.ipv6.conf.lo.disable_ipv6=0   # the lab turns IPv6 off
    check "[::1]:9477 is accepted" lab_start_vepad --metrics-listen "[::1]:9477"
    check "and serves" eval 'in_ns "$NS_HOST" curl -sS -g "http://[::1]:9477/metrics" | grep -q "^vepad_build_info"'
    in_ns "$NS_HOST" sysctl -qw net.ipv6.conf.lo.disable_ipv6=1
}

run_tests
