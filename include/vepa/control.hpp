// vepa/control.hpp - the control protocol between vepactl (or any client) and vepad.
//
// Transport: a Unix stream socket (default /run/vepad/vepad.sock, mode 0660,
// group vepad), newline-delimited JSON, one request per line, one response
// line per request, in order.  One exception: monitor, a streaming request (below).  A line longer than kMaxLine bytes is answered
// with error "too-large" and the connection is closed.  Only root and members
// of the vepad group may connect (checked with SO_PEERCRED).
//
// Request:   {"id": <any JSON, echoed>, "cmd": "<command>", "args": {...}}
// Success:   {"id": ..., "ok": true,  "result": {...}}
// Refusal:   {"id": ..., "ok": false, "error": {"code": "<code>", "message": "<one line>"}}
//
// Commands and their args (all optional unless marked *):
//   add-port   name*, macs [MAC...], mode "vepa"|"private"|"bridge", src_check bool,
//              vlan 1..4094|null, trunk [1..4094...]|"all"|null,
//              owner {"tool"*, "name", "id", "ifname"}|null (vepa/port_owner.hpp),
//              type "kernel"|"xsk", queues 1..64 (xsk) -> result: a port object
//              vlan: the port's untagged VLAN (the guest's untagged frames are in it on the uplink);
//              trunk: the VLANs whose frames pass tagged, or "all"; null or [] (and absent): none.
//              A port with neither takes untagged frames only.  vlan must not also be in trunk.
//              A MAC is one port's within a VLAN: ports whose VLANs do not overlap may share one.
//              A bad value is refused (invalid-argument) with a message naming the key and the value.
//              A kernel port is an existing veth end or tap.  An xsk port is a veth pair vepad
//              creates: `name` (at most 12 characters) is the device AF_XDP sockets bind to,
//              "vx-<name>" its vepa-side end; macs are required (there is no guest device to
//              learn them from).
//   set-port   name*, macs, mode, src_check, vlan, trunk, owner -> result: a port object
//              An argument not given leaves that setting as it is; vlan null removes the untagged
//              VLAN, trunk null or [] the tagged ones, owner null the owner.
//              owner: who made the port (a CNI runtime, libvirt); vepad keeps and shows it, nothing more.
//   del-port   name* -> result: {}
//   list       -> {"ports": [port...]}
//   stats      name -> {"uplink": counters, "ports": [{"name", "slot", "counters"}...]}
//   status     -> a status object
//   probe      -> {"seq": n, "probe": probe object}: starts a reflection probe (or joins the one
//              under way); it is done when status's reflective_relay.probe.seq reaches n
//   attach-xsk name*, queue* -> {"name", "queue", "xsk_slot"}: the request line carries exactly one
//              file descriptor (SCM_RIGHTS, sent with the line's first byte): an AF_XDP socket
//              bound to the xsk port's device `name`, queue `queue`; vepad inserts it into the
//              port's XSKMAP slot and closes its copy, so the socket's life stays the client's
//              (when the client closes it the kernel empties the slot and vepad marks the port
//              down).  A request with descriptors that is not attach-xsk is refused.
//   shutdown   detach bool -> {}   (detach: remove programs and maps, then exit)
//   metrics    -> {"text": the Prometheus text exposition (format 0.0.4), as GET /metrics serves it}
//   monitor    port NAME|"uplink", mac MAC, drops bool, rule "T1".."T6"|"R1".."R7"|"M1".."M5"|"V1".."V7",
//              vlan 0..4095, sample 1..1000000, rate 1..1000000, payload bool
//              -> {"sample": the dataplane's 1-in-N (0: drops only)}
//              A stream: after its reply the connection carries only lines from vepad, until the client
//              closes it (anything the client sends is read and ignored).  Each line is an event object
//              or {"type": "lost", "lost": n} (records this client missed so far: the dataplane's rate cap
//              or a full ring buffer).  Events: every drop; forwarding decisions only with sample (one
//              in sample; drops true: drops only); port (sender or receiver), mac (source or
//              destination), rule and vlan filter them.  rate: at most that many records per second per
//              CPU (default 10000; the smallest any client asks for applies to all).  payload: events
//              carry the frame's first 64 bytes ("payload"); the dataplane captures them while any
//              client asks, and only the clients that asked get them.  A client whose unread lines
//              pass 1 MiB is disconnected (status: monitor.dropped_clients).
//   batch      commands* [{"cmd": "add-port"|"set-port"|"del-port", "args": {...}}...] (1..4096)
//              -> {"results": [port object (add-port, set-port) | {} (del-port)...]}: the commands as one,
//              in order, all or none: each is checked against the table as the ones before it left it;
//              a refusal (the code of the command refused, the message naming it: "command 3 of 5: ...")
//              changes nothing.  One state-file write and one reconcile for the lot.
//   trace      from* NAME|"uplink", frame* hex (15..3712 bytes) -> a trace object: what would happen
//              to the frame arriving from that port (or from the switch), decided by vepad's explain
//              programs on the live maps, through the switch by its reflection state.  Nothing is
//              counted, sent or changed.  not-found: no present port of that name.
//
// Trace object (trace):
//   {"from", "frame": {"len", "dst", "src", "ethertype" (innermost) | null, "vlan" (outer tag) | null},
//    "reflection": {"verdict": "reflecting"|"not-reflecting"|"unknown", "by": "probe"|"lldp"|null},
//    "hops": [hop...], "result": {"outcome": "delivered"|"dropped", "ports": [NAME...] (delivered
//    through the switch), "local_ports": [NAME...] (bridge mode, on this host), "host" bool (to the
//    host stack), "network" bool (to the network beyond the switch), "probe" bool (vepad's own
//    reflection probe, consumed), "dropped_by": "vepad"|"switch"|"uplink"|null, "drop": {"at", "program",
//    "rule", "reason"} (vepad) | {"at": "switch", "reason": "not-reflecting", "why"} | null,
//    "switch" bool (an 802.1 link-local frame the switch keeps), "conditional" bool (some of it
//    depends on a switch whose reflection is unknown), "summary": one line}}
//   dropped_by "uplink": the uplink is down ({"at": "uplink", "reason": "uplink-down", "why"}).
//   A program hop: {"hop": n, "at": NAME|"uplink", "program": "port_xdp"|"port_tc"|"uplink_xdp"|
//    "uplink_tc", "verdict": "pass"|"drop"|"redirect"|"tx"|"aborted" (XDP), "ok"|"shot"|"redirect" (TC),
//    "decisions": [event object without type/time/time_ns/cpu...] (none: XDP passed the frame to
//    TC), "unrecorded": decisions beyond the first four, "copies": [NAME...] (group copies)}
//   A switch hop: {"hop": n, "at": "switch", "reflection", "by", "frame" (as on the wire), "action":
//    "forward"|"reflect"|"drop"|"flood"|"flood-and-reflect"|"consume" (802.1 link-local)|"unreachable"
//    (uplink down), "why"}
//
// Port object:
//   {"name", "ifindex" (0 when absent), "state": "up"|"down"|"absent"|"unsupported",
//    "kind": "veth"|"tap"|"" , "macs": [...], "mac_source": "config"|"guest",
//    "mode", "src_check", "vlan": VID|null, "trunk": [VID...] (empty: none)|"all", "owner": owner|null,
//    "slot", "delivery": "xdp"|"tc-peer"|"tc"|"",
//    "attach": "xdp native"|"xdp generic"|"tc"|"", "type": "kernel"|"xsk",
//    "xsk": null | {"device", "ifindex", "peer", "queues", "first_slot", "map" (pinned XSKMAP path),
//                   "sockets": [queue of every slot that holds a socket...]}}
// Counters object:
//   {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "host_packets", "host_bytes",
//    "probe_packets" (uplink: reflection probes that came back), "drops": {"<reason>": n, ...}}   (every reason of
//    kDropReasons, zeros included)
// Status object:
//   {"version", "layout_version", "uplink": {"name", "ifindex", "state", "takes_xdp",
//    "xdp": {"prog_id", "mode", "multiprog"} | null, "tc": {"prog_id", "hook": "tcx"|"clsact"} | null,
//    "rx_filter": {"mode": "auto"|"fdb"|"promisc"|"none", "entries" (FDB self entries vepad made on the uplink),
//      "foreign" (port MACs the uplink already accepted by someone else's entry), "allmulti", "promisc"
//      (the uplink's flags now), "error": the last change that failed | null}},
//    "programs": {"uplink_xdp", "uplink_tc", "port_xdp", "port_tc", "xsk_xdp"} (ids of the loaded programs),
//    "maps": {"macs", "ports", "devs", "flood"} (entries in the kernel's maps now),
//    "pin_dir", "state_file", "socket", "ports": {"configured", "present", "up"},
//    "monitor": {"clients", "events" (sent to clients), "lost" (records not written, since the
//      maps were created), "dropped_clients" (disconnected for not reading)},
//    "reflective_relay": {"verdict": "reflecting"|"not-reflecting"|"unknown", "by": "probe"|"lldp"|null,
//      "probe": probe object, "lldp": {"enabled", "interval_s", "sent", "received", "invalid",
//        "own_reflected", "send_errors", "last_error", "advertising": {"rrreq", "rrstat"},
//        "neighbours": [{"group", "src", "chassis_id", "port_id", "ttl", "age_s", "system_name",
//          "system_description", "port_description", "lldpdus", "evb": EVB object | null}...],
//        "bridge_evb": EVB object | null}}}
// Event object (monitor):
//   {"type": "event", "time": ISO 8601 UTC (microseconds), "time_ns" (ns since the epoch), "cpu",
//    "program": "uplink_xdp"|"uplink_tc"|"port_xdp"|"port_tc"|"xsk_xdp", "ifindex" (arrived on),
//    "port": the sender's name ("uplink" for the uplink's programs) | null (no configured port),
//    "rule": "T5"... | null, "action": "drop"|"redirect"|"redirect-peer"|"host"|"fan-out"|"probe"
//    (vepad's reflection probe came back: consumed),
//    "reason": drop reason (kDropReasons) | null, "to": redirect: the receiving port; drop: the port
//    it is counted on | null, "copies": fan-out: copies sent | null, "vlan" (0: untagged),
//    "dst", "src", "ethertype" (innermost, 0 when the frame ended first), "len" (as it came),
//    "flags": {"group", "reflected" (from the uplink, unicast or group, with a local port's source MAC
//    in the frame's VLAN: the switch sent a local port's frame back), "gso", "host" (a fan-out's frame
//    also goes to the host)}, "port_macs": [MAC...] (spoofed drops only: the sender's own),
//    "payload": hex, two digits a byte (only to a client that asked for payload): the frame's first
//    min(len, 64) bytes as it came on the wire, before the program changed it (a VLAN tag it pushed
//    left out, one it popped put back; on TC the outer tag the kernel keeps in skb metadata put back
//    after the MAC addresses, where the wire had it)}
// Probe object:
//   {"state": "reflecting"|"not-reflecting"|"unknown", "reason", "checked": ISO 8601 UTC | null,
//    "age_s" | null, "seq", "running", "interval_s", "src", "dst", "rtt_ms" (when reflecting)}
// EVB object (the EVB TLV a neighbour sent):
//   {"form": "802.1Qbg-2012"|"802.1Qbg-draft-0.2", "rr_capable", "rr_enabled", ... the TLV's fields}
#pragma once

#include <array>
#include <string_view>

namespace vepa::proto {

inline constexpr const char* kDefaultSocket = "/run/vepad/vepad.sock";
inline constexpr const char* kSocketEnv = "VEPAD_SOCKET";
inline constexpr std::size_t kMaxLine = 64 * 1024;

// Commands.
inline constexpr const char* kAddPort = "add-port";
inline constexpr const char* kSetPort = "set-port";
inline constexpr const char* kDelPort = "del-port";
inline constexpr const char* kList = "list";
inline constexpr const char* kStats = "stats";
inline constexpr const char* kStatus = "status";
inline constexpr const char* kProbe = "probe";
inline constexpr const char* kAttachXsk = "attach-xsk";
inline constexpr const char* kShutdown = "shutdown";
inline constexpr const char* kMetrics = "metrics";
inline constexpr const char* kMonitor = "monitor";
inline constexpr const char* kTrace = "trace";
inline constexpr const char* kBatch = "batch";
inline constexpr std::size_t kMaxBatch = 4096; // commands in one batch

// trace: the frame's size in bytes.
inline constexpr std::size_t kTraceMinFrame = 15; // a header and a byte: the kernel builds no skb of less
// At most one page less the kernel's head and tail room: BPF_PROG_TEST_RUN takes no more (4 KiB pages).
inline constexpr std::size_t kTraceMaxFrame = 3712;

// Error codes.
inline constexpr const char* kErrBadRequest = "bad-request"; // not JSON, not an object, wrong types
inline constexpr const char* kErrTooLarge = "too-large";     // line over kMaxLine
inline constexpr const char* kErrUnknownCommand = "unknown-command";
inline constexpr const char* kErrInvalid = "invalid-argument";          // bad MAC, mode, name, VLAN
inline constexpr const char* kErrNotFound = "not-found";                // no such port
inline constexpr const char* kErrExists = "exists";                     // port already configured
inline constexpr const char* kErrMacInUse = "mac-in-use";               // MAC another port's in a VLAN of this
inline constexpr const char* kErrUnsupported = "unsupported-interface"; // not a veth or tap
inline constexpr const char* kErrIsUplink = "is-uplink";
inline constexpr const char* kErrLimit = "limit";          // too many ports or MACs
inline constexpr const char* kErrState = "state";          // state file could not be written
inline constexpr const char* kErrForbidden = "forbidden";  // peer not root nor in group vepad
inline constexpr const char* kErrBadSocket = "bad-socket"; // attach-xsk: fd missing, not AF_XDP, wrong queue
inline constexpr const char* kErrInternal = "internal";

// Drop reasons by enum vepa_drop_reason value (vepa/abi.h), as they appear in JSON.
inline constexpr std::array<std::string_view, 13> kDropReasons = {
    "truncated", "no_payload", "vlan_depth", "oversize",     "bad_src",   "pause", "spoofed",
    "private",   "not_a_port", "no_uplink",  "clone_failed", "port_down", "vlan",
};

inline constexpr std::array<std::string_view, 3> kModes = {"vepa", "private", "bridge"};

} // namespace vepa::proto
