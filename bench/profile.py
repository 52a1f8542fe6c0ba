#!/usr/bin/python3
"""Where the time goes per delivered frame: one case of bench/run.py, two or
more variants on the same topology, each measured while `perf record` samples
the generator's core (where the forwarding it triggers runs: the softirq work
of every variant lands there), then the kernel and BPF symbols in nanoseconds
per delivered frame, side by side, largest difference first.

  bench/profile.py [--case veth-unicast] [--variants vepad,macvlan] [--ports 4]
                   [--size 64] [--seconds 2] [--top 30] [--out FILE]

ns/frame of a symbol = its share of the core's samples x the core's busy time
per delivered frame.  The core also runs whatever else the machine does, so
run it on an otherwise idle machine.  Needs root and perf.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402  (the benchmark's topologies and measurements)


IDLE = re.compile(r"halt|idle|mwait|cpu_startup_entry|do_idle")


def record(t, case, seconds, size, data):
    """One measurement of t under perf: (result, samples per symbol in %)."""
    perf = subprocess.Popen(["perf", "record", "-q", "-C", str(R.GEN_CPU), "-o", data, "--",
                             "sleep", str(seconds + 0.5)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    m = R.measure(t, case, seconds, size)
    perf.wait()
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "sym", "--stdio"],
                         capture_output=True, text=True).stdout
    shares = {}
    for line in out.splitlines():
        hit = re.match(r"\s+([\d.]+)%\s+\[.\]\s+(\S+)", line)
        if hit:
            name = re.sub(r"^bpf_prog_[0-9a-f]+_", "bpf:", hit.group(2))
            shares[name] = shares.get(name, 0) + float(hit.group(1))
    # The core's idle time is in the samples too; busy time is what is shared out.
    busy = {k: s for k, s in shares.items() if not IDLE.search(k)}
    total = sum(busy.values()) or 1
    return m, {k: 100 * s / total for k, s in busy.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", default="veth-unicast", choices=sorted(R.CASES))
    ap.add_argument("--variants", default="vepad,macvlan")
    ap.add_argument("--ports", type=int, default=4)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--out", help="also write the table here")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: profiling needs root")
        return 77
    case = R.CASES[a.case]
    variants = a.variants.split(",")
    R.TMP = tempfile.mkdtemp(prefix=R.RUN + "-")
    os.makedirs(R.PIN_ROOT, exist_ok=True)
    rows, ns = {}, {}
    try:
        topos = {v: R.build_for_case(a.case, case, v, a.ports, a.size) for v in variants}
        for v, t in topos.items():
            R.measure(t, case, 0.5, a.size)  # warm-up
        for v, t in topos.items():
            m, shares = record(t, case, a.seconds, a.size, os.path.join(R.TMP, v + ".perf"))
            busy = m["sender_core_ns_per_frame"] * m["seconds"] * m["offered_pps"] / m["delivered"] \
                if m["delivered"] else 0
            ns[v] = busy
            rows[v] = {k: s * busy / 100 for k, s in shares.items()}
            print("%s: %.3f Mpps delivered, generator core %.0f ns per delivered frame"
                  % (v, m["delivered_pps"] / 1e6, busy), flush=True)
    finally:
        R.cleanup()
    base = variants[0]
    last = variants[-1]
    names = sorted(set().union(*rows.values()), key=lambda k: -abs(rows[base].get(k, 0) - rows[last].get(k, 0)))
    lines = ["%s, %d ports, %d B: generator core ns per delivered frame, by symbol (perf, %s)"
             % (a.case, a.ports, a.size, " vs ".join(variants)),
             "%-44s" % "symbol" + "".join("%14s" % v for v in variants)]
    for k in names[:a.top]:
        lines.append("%-44s" % k[:44] + "".join("%14.1f" % rows[v].get(k, 0) for v in variants))
    lines.append("%-44s" % "total" + "".join("%14.1f" % ns[v] for v in variants))
    print("\n".join(lines))
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
