# bash completion for vepactl(8): commands, options, modes and other option
# values, interface names for add-port, and port names (from `vepactl list`,
# asked of the vepad that --socket or $VEPAD_SOCKET names) for the commands
# that take a port.

_vepactl_commands="add-port set-port del-port list stats status probe metrics monitor trace batch shutdown"
_vepactl_global_options="--socket --json --timeout --help --version"

# The options of a command (besides the global ones).
_vepactl_command_options() {
    case $1 in
        add-port) echo "--mac --mode --no-src-check --type --queues --vlan --trunk --owner" ;;
        set-port) echo "--mac --mode --src-check --vlan --trunk --owner" ;;
        monitor) echo "--port --mac --drops --rule --vlan --sample --rate --payload" ;;
        trace) echo "--from" ;;
        shutdown) echo "--detach" ;;
    esac
}

# Whether an option takes a value (the next word).
_vepactl_takes_value() {
    case $1 in
        --socket|--timeout|--mac|--mode|--type|--queues|--vlan|--trunk|--owner|--src-check) return 0 ;;
        --port|--rule|--sample|--rate|--from) return 0 ;;
    esac
    return 1
}

# Port names, one a line; nothing when vepad does not answer (within 2 s).
_vepactl_ports() {
    local -a socket=()
    [ -n "$1" ] && socket=(--socket "$1")
    if type -P jq >/dev/null; then
        vepactl "${socket[@]}" --timeout 2 list --json 2>/dev/null | jq -r '.ports[].name' 2>/dev/null
    else
        # The table: a header line, then one line per port starting with its name.
        vepactl "${socket[@]}" --timeout 2 list 2>/dev/null |
            awk 'NR > 1 && $1 != "note:" && $1 != "(no" { print $1 }'
    fi
}

_vepactl_interfaces() {
    local d
    for d in /sys/class/net/*; do [ -e "$d" ] && printf '%s\n' "${d##*/}"; done
}

_vepactl() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev="" i w cmd="" socket="" positionals=0
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # The command, the socket given and the positional arguments after the command.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [ "$w" = --socket ]; then
            socket=${COMP_WORDS[i + 1]:-}
        fi
        if [[ $w == -* ]]; then
            _vepactl_takes_value "$w" && i=$((i + 1))
        elif [ -z "$cmd" ]; then
            cmd=$w
        else
            positionals=$((positionals + 1))
        fi
    done
    COMPREPLY=()
    local values=""
    case $prev in
        --socket) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
        --mode) values="vepa private bridge" ;;
        --type) values="kernel xsk" ;;
        --src-check) values="on off" ;;
        --trunk) values="all"; [ "$cmd" = set-port ] && values="all none" ;;
        --vlan|--owner) [ "$cmd" = set-port ] && values="none" ;;
        --mac) [ "$cmd" = set-port ] && values="guest" ;;
        --port|--from) values="uplink $(_vepactl_ports "$socket")" ;;
    esac
    if _vepactl_takes_value "$prev"; then
        mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
        return
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_vepactl_command_options "$cmd") $_vepactl_global_options" -- "$cur")
        return
    fi
    if [ -z "$cmd" ]; then
        mapfile -t COMPREPLY < <(compgen -W "$_vepactl_commands" -- "$cur")
        return
    fi
    [ "$positionals" -eq 0 ] || return
    case $cmd in
        add-port) mapfile -t COMPREPLY < <(compgen -W "$(_vepactl_interfaces)" -- "$cur") ;;
        set-port|del-port|stats) mapfile -t COMPREPLY < <(compgen -W "$(_vepactl_ports "$socket")" -- "$cur") ;;
        batch) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    esac
}
complete -F _vepactl vepactl
