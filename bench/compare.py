#!/usr/bin/python3
"""Two runs of bench/run.py side by side: vepad's ratios (against macvlan /
macvtap, the bridge and LIMIT) per case, port count, frame size and variant,
before and after.  Ratios, not rates: each is from within one run, so runs on
a noisy machine compare.

  bench/compare.py BEFORE/results.json AFTER/results.json [--out FILE]
"""
import argparse
import json

KEYS = [("vs_macvlan", "delivered vs macvlan"), ("cpu_vs_macvlan", "CPU/pkt vs macvlan"),
        ("core_vs_macvlan", "sender core vs macvlan"), ("vs_bridge", "vs bridge"), ("vs_limit", "vs LIMIT")]


def rows(path):
    with open(path) as f:
        return {(r["case"], r["n"], r["size"], r["variant"]): r for r in json.load(f)["rows"]
                if r["variant"].startswith("vepad")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--out")
    a = ap.parse_args()
    b, n = rows(a.before), rows(a.after)
    head = "| case | ports | frame | variant | " + " | ".join("%s before -> after" % t for _, t in KEYS) + " |"
    lines = [head, "|" + "---|" * (4 + len(KEYS))]
    f = lambda r, k: ("%.2fx" % r[k]) if r and k in r else "-"
    for key in sorted(set(b) | set(n)):
        case, ports, size, variant = key
        cells = ["%s -> %s" % (f(b.get(key), k), f(n.get(key), k)) for k, _ in KEYS]
        lines.append("| %s | %d | %d B | %s | %s |" % (case, ports, size, variant, " | ".join(cells)))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if a.out:
        with open(a.out, "w") as out:
            out.write(text)


if __name__ == "__main__":
    main()
