#!/usr/bin/env bash
# The bash completion of vepactl (completion/vepactl.bash): partial command lines
# completed in bash, as bash-completion does it (COMP_WORDS, COMP_CWORD, the
# function, COMPREPLY).  Commands and options are checked against vepactl's own
# --help; port names come from a fake vepactl on PATH standing in for a vepad
# (its `list --json`, or the table when jq is absent).
#   completion.sh COMPLETION_SCRIPT VEPACTL
set -uo pipefail
script=$1 real_vepactl=$2
failed=0 passed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check_eq() {   # check_eq what expected actual
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)); printf 'ok   %s\n' "$1"
    else
        failed=$((failed + 1)); printf 'FAIL %s\n     expected: %s\n     got:      %s\n' "$1" "$2" "$3"
    fi
}

# complete "vepactl add-port --m": the candidates, sorted, on one line.  A trailing
# space completes a new, empty word.
complete_line() {
    local line=$1
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line COMP_POINT=${#line}
    COMPREPLY=()
    PATH=${COMPLETE_PATH:-$PATH} _vepactl vepactl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
    printf '%s\n' "${COMPREPLY[@]}" | sorted
}
sorted() { tr ' ' '\n' | grep -v '^$' | sort -u | paste -sd ' '; }
long_options() { sed -n '/^Options:/,/^[^ O]/p' | grep -o '^ *\(-h,\)\?--[a-z-]*' | sed 's/.*--/--/' | sorted; }

# The fake vepactl: a vepad with ports c1, tap1 and an xsk port (owned by someone
# named "owner-not-a-port"); it writes its arguments to $tmp/args.
mkdir -p "$tmp/bin" "$tmp/nojq"
cat >"$tmp/bin/vepactl" <<FAKE
#!/bin/bash
echo "\$*" >>"$tmp/args"
[ -e "$tmp/down" ] && { echo "vepactl: cannot connect" >&2; exit 1; }
case " \$* " in
*" --json "*) echo '{"ports":[{"name":"c1","macs":[],"owner":{"tool":"cni","name":"owner-not-a-port"}},{"name":"tap1"},{"name":"nf0"}]}' ;;
*) printf 'NAME  IFINDEX  STATE\nc1    5        up\ntap1  6        up\nnf0   7        absent\nnote: nf0: an xsk port\n' ;;
esac
FAKE
chmod +x "$tmp/bin/vepactl"
# A PATH without jq: vepactl and awk.
for t in awk; do ln -s "$(type -P $t)" "$tmp/nojq/$t"; done
ln -s "$tmp/bin/vepactl" "$tmp/nojq/vepactl"

# shellcheck source=completion/vepactl.bash
. "$script"
check_eq "the script registers _vepactl for vepactl" "complete -F _vepactl vepactl" "$(complete -p vepactl)"

# Commands and options, against vepactl's --help.
help=$("$real_vepactl" --help)
commands=$(sed -n '/^Subcommands:/,$p' <<<"$help" | sed -n 's/^  \([a-z-]*\) .*/\1/p' | sorted)
check_eq "vepactl <Tab>: the commands of --help" "$commands" "$(complete_line "vepactl ")"
check_eq "vepactl st<Tab>" "stats status" "$(complete_line "vepactl st")"
global=$(long_options <<<"$help")
check_eq "vepactl --<Tab>: the global options of --help" "$global" "$(complete_line "vepactl --")"
for c in $commands; do
    want=$({ "$real_vepactl" "$c" --help | long_options; echo "$global"; } | sorted)
    check_eq "vepactl $c --<Tab>: its options and the global ones" "$want" "$(complete_line "vepactl $c --")"
done
check_eq "options after the port name too" "--mac --mode" "$(complete_line "vepactl add-port c9 --m")"

# Option values.
check_eq "--mode <Tab>: the modes" "bridge private vepa" "$(complete_line "vepactl add-port c1 --mode ")"
check_eq "--mode p<Tab>" "private" "$(complete_line "vepactl set-port c1 --mode p")"
check_eq "add-port --type <Tab>" "kernel xsk" "$(complete_line "vepactl add-port nf1 --type ")"
check_eq "set-port --src-check <Tab>" "off on" "$(complete_line "vepactl set-port c1 --src-check ")"
check_eq "set-port --trunk <Tab>" "all none" "$(complete_line "vepactl set-port c1 --trunk ")"
check_eq "add-port --trunk <Tab>" "all" "$(complete_line "vepactl add-port c1 --trunk ")"
check_eq "set-port --mac <Tab>" "guest" "$(complete_line "vepactl set-port c1 --mac ")"
check_eq "add-port --mac <Tab>: nothing to offer" "" "$(complete_line "vepactl add-port c1 --mac ")"
check_eq "a value is not taken for the command" "bridge private vepa" "$(complete_line "vepactl --timeout 5 add-port c1 --mode ")"
mkdir -p "$tmp/sockdir" && : >"$tmp/sockdir/eth1.sock"
check_eq "--socket <Tab>: files" "$tmp/sockdir/eth1.sock" "$(complete_line "vepactl --socket $tmp/sockdir/e")"

# Interfaces for add-port.
ifaces=$(ls /sys/class/net | sorted)
check_eq "add-port <Tab>: the interfaces" "$ifaces" "$(complete_line "vepactl add-port ")"

# Port names from vepad (the fake one).
PATH=$tmp/bin:$PATH
if type -P jq >/dev/null; then
    check_eq "del-port <Tab>: the ports of list --json" "c1 nf0 tap1" "$(complete_line "vepactl del-port ")"
    check_eq "asked with list --json" "--timeout 2 list --json" "$(tail -1 "$tmp/args")"
else
    printf 'FAIL jq is not installed: the --json path cannot be tested\n'; failed=$((failed + 1))
fi
check_eq "set-port t<Tab>" "tap1" "$(complete_line "vepactl set-port t")"
check_eq "stats <Tab>" "c1 nf0 tap1" "$(complete_line "vepactl stats ")"
check_eq "monitor --port <Tab>: the ports and uplink" "c1 nf0 tap1 uplink" "$(complete_line "vepactl monitor --port ")"
mkdir -p "$tmp/files" && touch "$tmp/files/ports.batch"
check_eq "batch <Tab>: files" "$tmp/files/ports.batch" "$(complete_line "vepactl batch $tmp/files/po")"
check_eq "trace --from <Tab>: the ports and uplink" "c1 nf0 tap1 uplink" "$(complete_line "vepactl trace --from ")"
check_eq "trace --from c1 <Tab>: FRAME, nothing to offer" "" "$(complete_line "vepactl trace --from c1 ")"
complete_line "vepactl --socket /run/vepad/eth1.sock del-port " >/dev/null
check_eq "the vepad of --socket is asked" "--socket /run/vepad/eth1.sock --timeout 2 list --json" "$(tail -1 "$tmp/args")"
check_eq "no second port name" "" "$(complete_line "vepactl del-port c1 ")"
check_eq "list takes no port" "" "$(complete_line "vepactl list ")"
check_eq "without jq: the ports of the table" "c1 nf0 tap1" "$(COMPLETE_PATH=$tmp/nojq complete_line "vepactl del-port ")"
touch "$tmp/down"
check_eq "vepad down: no ports, no message" "" "$(complete_line "vepactl del-port " 2>&1)"

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
