#!/usr/bin/python3
"""The man pages (docs/man/*.scd) against the programs: every option a program's
--help prints is defined in its page and every option the page defines is in
--help (vepactl: its global options and each command's, command by command);
every config key vepad accepts (daemon/config.cpp) is a key of vepad.conf(5) and
of the sample systemd/vepad.conf, and the other way round; every network config
key the CNI plugin reads (cni/config.cpp) is in vepa-cni(8).

A page defines an option with a line starting with it in bold: `*--name*` (or
`*-h*, *--help*`); a key of vepad.conf(5) with `*key* = VALUE`."""
import argparse
import re
import subprocess
import sys

FAILURES = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else ": " + detail))
    if not ok:
        FAILURES.append(what)


def compare(what, in_help, in_man, help_name="--help", man_name="the man page", some=True):
    check(f"{what}: every option of {help_name} is in {man_name}", not in_help - in_man,
          "missing " + " ".join(sorted(in_help - in_man)))
    check(f"{what}: every option {man_name} defines is in {help_name}", not in_man - in_help,
          "not in --help: " + " ".join(sorted(in_man - in_help)))
    if some:
        check(f"{what}: some options compared", bool(in_help), "no option found in --help")


def run_help(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr}")
    return p.stdout


OPTION_LINE = re.compile(r"^ {2,4}((?:--?[A-Za-z][\w-]*(?:,|\s|$))+)")


def help_options(text, block_start=None, block_end=None):
    """Long options at the start of an indented line (CLI11: '  --name ARG  help',
    '  -h,--help'), within the block from a line matching block_start to one
    matching block_end when given."""
    opts, inside = set(), block_start is None
    for line in text.splitlines():
        if block_start and re.match(block_start, line):
            inside = True
            continue
        if inside and block_end and re.match(block_end, line):
            inside = False
        if inside:
            m = OPTION_LINE.match(line)
            if m:
                opts |= set(re.findall(r"--[A-Za-z][\w-]*", m.group(1)))
    return opts


def man_sections(path):
    """{'# SECTION' or '## subsection': its lines} of an scdoc page."""
    sections, current = {}, ""
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if re.match(r"^#{1,2} ", line):
            current = line
            sections[current] = []
        else:
            sections.setdefault(current, []).append(line)
    return sections


def man_options(lines):
    opts = set()
    for line in lines:
        m = re.match(r"^((?:\*--?[A-Za-z][\w-]*\*(?:, )?)+)", line)
        if m:
            opts |= set(o for o in re.findall(r"--[A-Za-z][\w-]*", m.group(1)))
    return opts


def page_options(path):
    return man_options(line for lines in man_sections(path).values() for line in lines)


def source_keys(path, start, pattern):
    """Keys matched by pattern in a source file from the first line matching start on."""
    text = open(path, encoding="utf-8").read()
    i = text.find(start)
    if i < 0:
        raise SystemExit(f"{path}: no '{start}'")
    return set(re.findall(pattern, text[i:]))


def main():
    ap = argparse.ArgumentParser()
    for a in ("man", "vepad", "vepactl", "hook", "xsk", "daemon-config", "cni-config", "sample-conf"):
        ap.add_argument("--" + a, required=True)
    a = ap.parse_args()
    page = lambda name: f"{a.man}/{name}.scd"

    compare("vepad(8)", help_options(run_help(a.vepad, "--help"), r"^Options:"), page_options(page("vepad.8")))

    # vepactl: global options, then command by command (## COMMAND subsections of COMMANDS).
    main_help = run_help(a.vepactl, "--help")
    sections = man_sections(page("vepactl.8"))
    compare("vepactl(8) global options", help_options(main_help, r"^Options:", r"^\S"),
            man_options(sections.get("# GLOBAL OPTIONS", [])), man_name="GLOBAL OPTIONS")
    commands = re.findall(r"^  ([a-z][\w-]*) ", main_help.split("\nSubcommands:\n", 1)[-1], re.M)
    man_commands = [s[3:] for s in sections if s.startswith("## ")]
    check("vepactl(8): a COMMANDS subsection for each command of --help, in its order", commands == man_commands,
          f"--help: {commands}; man page: {man_commands}")
    for c in commands:
        sub = help_options(run_help(a.vepactl, c, "--help"), r"^Options:", r"^\S") - {"--help"}
        compare(f"vepactl(8) {c}", sub, man_options(sections.get("## " + c, [])),
                help_name=f"vepactl {c} --help", man_name="its subsection", some=False)

    compare("vepad-libvirt-hook(8)", help_options(run_help(a.hook, "--help"), r"^OPTIONS", r"^\S"),
            page_options(page("vepad-libvirt-hook.8")))
    compare("vepa-xsk(1)", help_options(run_help(a.xsk, "--help"), r"^Options:"), page_options(page("vepa-xsk.1")))

    # Config keys: the settings table of daemon/config.cpp.
    keys = source_keys(a.daemon_config, "const Setting kSettings[]", r'\{"([a-z_]+)", ')
    conf_page = set(re.findall(r"^\*([a-z_]+)\* = ", open(page("vepad.conf.5")).read(), re.M))
    sample = set(re.findall(r"^#?([a-z_]+) =", open(a.sample_conf).read(), re.M))
    check("vepad.conf(5): every key vepad accepts", not keys - conf_page, "missing " + " ".join(sorted(keys - conf_page)))
    check("vepad.conf(5): no key vepad does not accept", not conf_page - keys, " ".join(sorted(conf_page - keys)))
    check("systemd/vepad.conf: every key vepad accepts", not keys - sample, "missing " + " ".join(sorted(keys - sample)))
    check("systemd/vepad.conf: no key vepad does not accept", not sample - keys, " ".join(sorted(sample - keys)))
    check("the config keys were found", len(keys) >= 10, f"{len(keys)} keys")
    options = {"--" + k.replace("_", "-") for k in keys}
    check("every config key is an option of vepad(8)", options <= page_options(page("vepad.8")),
          " ".join(sorted(options - page_options(page("vepad.8")))))

    cni_keys = source_keys(a.cni_config, "", r'(?:get_typed<[\w:]+>\(j, |j\.value\(|j\.contains\()"(\w+)"')
    cni_page = set(re.findall(r"^\*(\w+)\*$", open(page("vepa-cni.8")).read(), re.M))
    check("vepa-cni(8): every network config key the plugin reads", bool(cni_keys) and not cni_keys - cni_page,
          "missing " + " ".join(sorted(cni_keys - cni_page)) if cni_keys else "no key found in " + a.cni_config)

    print(f"{len(FAILURES)} failed" if FAILURES else "all passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
