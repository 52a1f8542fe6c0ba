#!/usr/bin/env python3
"""deploy/kubernetes checked against the built programs, the systemd unit and
the repository, without a cluster.

    validate_manifests.py --source DIR --build DIR --vepad PATH --vepactl PATH --vepa PATH

Every YAML document under deploy/kubernetes is parsed; the DaemonSets' security
settings are compared with systemd/vepad.service; every vepad and vepactl
command line (container command and args, probes, init scripts) is run through
the real program's parser; the ConfigMap's vepad.conf through vepad's config
parser and the CNI configs through the vepa plugin's; the init containers'
scripts are run on temporary directories; the Containerfile is checked against
the Meson build, tools/install-deps.sh and the programs' libraries.  Nothing
here needs root; run as root, vepad is started as nobody.

Each check prints PASS, FAIL or SKIP (with the reason); exit status 1 when
any check failed.
"""

import argparse
import copy
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:
    print("SKIP: needs PyYAML (apt install python3-yaml; tools/install-deps.sh)")
    sys.exit(77)

KINDS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "DaemonSet": "apps/v1",
    "Pod": "v1",
    # The CRD's group is k8s.cni.cncf.io; k8s.v1.cni.cncf.io is the annotation's prefix only.
    "NetworkAttachmentDefinition": "k8s.cni.cncf.io/v1",
}
MULTUS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # debian images' PATH
VEPAD_DEFAULT_SOCKET = "/run/vepad/vepad.sock"
# Keys every CNI network config may carry (CNI spec 1.0.0; libcni and Multus add some).
CNI_STANDARD_KEYS = {"cniVersion", "name", "type", "ipam", "dns", "capabilities", "runtimeConfig", "args",
                     "prevResult"}


class Report:
    def __init__(self):
        self.n = {"PASS": 0, "FAIL": 0, "SKIP": 0}

    def check(self, name, ok, detail=""):
        status = "PASS" if ok else "FAIL"
        self.n[status] += 1
        print(f"{status}  {name}")
        if not ok and detail:
            for line in str(detail).rstrip().splitlines():
                print(f"      {line}")
        return ok

    def skip(self, name, why):
        self.n["SKIP"] += 1
        print(f"SKIP  {name}: {why}")

    def section(self, title):
        print(f"\n== {title}")


R = Report()


# ---- loading ----------------------------------------------------------------

class Doc:
    def __init__(self, path, obj):
        self.path, self.obj = path, obj
        self.kind = obj.get("kind") if isinstance(obj, dict) else None
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        self.name = meta.get("name") if isinstance(meta, dict) else None
        self.namespace = meta.get("namespace") if isinstance(meta, dict) else None

    def __str__(self):
        return f"{self.path.split('deploy/kubernetes/', 1)[-1]}: {self.kind} {self.name}"


def load_manifests(deploy, rel_base):
    docs = []
    for root, dirs, files in os.walk(deploy):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, rel_base)
            try:
                with open(path) as fh:
                    objs = [o for o in yaml.safe_load_all(fh) if o is not None]
            except yaml.YAMLError as e:
                R.check(f"{rel} parses as YAML", False, e)
                continue
            R.check(f"{rel} parses as YAML ({len(objs)} document(s))", len(objs) > 0, "no document")
            docs += [Doc(rel, o) for o in objs]
    return docs


def pod_spec(doc):
    obj = doc.obj if isinstance(doc, Doc) else doc
    if obj.get("kind") == "DaemonSet":
        return obj["spec"]["template"]["spec"]
    if obj.get("kind") == "Pod":
        return obj["spec"]
    return None


def containers(spec):
    return [("init", c) for c in spec.get("initContainers") or []] + [("main", c) for c in spec.get("containers") or []]


def run(argv, timeout=20, env=None, stdin=None):
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or "", e.stderr or ""


# ---- the programs' options, from their --help ---------------------------------

OPTION_LINE = re.compile(r"^\s+(?:-\w,)?(--[\w-]+)(?: (\S[^ ]*(?: \.\.\.)?))?(?:\s{2,}|$)")


def help_options(text):
    """{--option: takes_value} from a CLI11 help text."""
    opts = {}
    section = None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line[:-1]
            continue
        if section != "Options":
            continue
        m = OPTION_LINE.match(line)
        if m:
            opts[m.group(1)] = m.group(2) is not None
    return opts


def help_subcommands(text):
    subs, section = [], None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line[:-1]
            continue
        m = re.match(r"^  ([a-z][\w-]*)\s{2,}", line)
        if section == "Subcommands" and m:
            subs.append(m.group(1))
    return subs


class Programs:
    def __init__(self, args):
        self.vepad, self.vepactl, self.vepa = args.vepad, args.vepactl, args.vepa
        rc, out, err = run([self.vepad, "--help"])
        R.check("vepad --help runs", rc == 0, err)
        self.vepad_opts = help_options(out)
        rc, out, err = run([self.vepactl, "--help"])
        R.check("vepactl --help runs", rc == 0, err)
        self.vepactl_opts = help_options(out)
        self.vepactl_subs = {}
        for sub in help_subcommands(out):
            rc, sout, serr = run([self.vepactl, sub, "--help"])
            R.check(f"vepactl {sub} --help runs", rc == 0, serr)
            self.vepactl_subs[sub] = help_options(sout)
        R.check("the help texts list options and subcommands",
                "--config" in self.vepad_opts and "--socket" in self.vepactl_opts and "status" in self.vepactl_subs,
                f"vepad: {sorted(self.vepad_opts)}\nvepactl: {sorted(self.vepactl_opts)} {sorted(self.vepactl_subs)}")
        # A bad option must come out as a usage error, or check_vepactl would pass anything.
        rc, out, err = run([self.vepactl, "--socket", "/nonexistent/vepad.sock", "status", "--no-such-option"])
        R.check("vepactl: an unknown option is a usage error (exit 2)", rc == 2, f"exit {rc}: {err}")
        rc, out, _ = run([self.vepad, "--version"])
        self.version = out.split()[-1] if rc == 0 and out.split() else None
        # Config keys: the options without their dashes, '_' for '-' (vepad --help).
        self.config_keys = {o[2:].replace("-", "_") for o in self.vepad_opts} - {"help", "config", "version"}


# ---- command lines in the manifests -----------------------------------------

def shell_script(argv):
    """The script of `sh -c SCRIPT` (or -ec, -eu...), else None."""
    if argv and os.path.basename(argv[0]) in ("sh", "bash", "dash") and len(argv) >= 3 \
            and argv[1].startswith("-") and "c" in argv[1]:
        return argv[2]
    return None


def script_commands(script):
    """The simple commands of a shell script, as word lists (good enough for the lines we write)."""
    cmds = []
    for line in script.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            lex = shlex.shlex(line, posix=True, punctuation_chars=";&|(){}")
            lex.whitespace_split = True
            words = list(lex)
        except ValueError:
            continue
        cur = []
        for w in words + [";"]:
            if set(w) <= set(";&|(){}"):
                if cur:
                    cmds.append(cur)
                cur = []
            else:
                cur.append(w)
    return cmds


def invocations(spec, entrypoint):
    """(where, container, argv) for every vepad/vepactl command line in a pod spec."""
    found = []
    for role, c in containers(spec):
        where = f"{role} container {c.get('name')}"
        argv = (c.get("command") or entrypoint or []) + (c.get("args") or [])
        script = shell_script(argv)
        cmds = script_commands(script) if script is not None else [argv]
        for cmd in cmds:
            while cmd and (cmd[0] == "exec" or re.match(r"^\w+=", cmd[0])):
                cmd = cmd[1:]
            if cmd and os.path.basename(cmd[0]) in ("vepad", "vepactl"):
                found.append((where + (" script" if script is not None else ""), c, cmd))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            cmd = ((c.get(probe) or {}).get("exec") or {}).get("command")
            if cmd:
                found.append((f"{where} {probe}", c, cmd))
        for hook in ("postStart", "preStop"):
            cmd = (((c.get("lifecycle") or {}).get(hook) or {}).get("exec") or {}).get("command")
            if cmd:
                found.append((f"{where} {hook}", c, cmd))
    return found


def split_flags(argv, opts):
    """Options (with '=value' split off) and positionals of argv[1:], given {--option: takes_value}."""
    flags, positionals, i = [], [], 1
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            name, eq, value = a.partition("=")
            if not eq and opts.get(name) and i + 1 < len(argv):
                value = argv[i + 1]
                i += 1
            flags.append((name, value if (eq or opts.get(name)) else None))
        elif a.startswith("-") and len(a) > 1:
            flags.append((a, None))
        else:
            positionals.append(a)
        i += 1
    return flags, positionals


def vepactl_parts(argv, progs):
    """(global flags, subcommand, flags after it) of a vepactl command line."""
    i, before = 1, []
    while i < len(argv) and argv[i].startswith("-"):
        name, eq, value = argv[i].partition("=")
        if not eq and progs.vepactl_opts.get(name) and i + 1 < len(argv):
            value = argv[i + 1]
            i += 1
        before.append((name, value))
        i += 1
    sub = argv[i] if i < len(argv) else None
    opts = dict(progs.vepactl_opts)
    opts.update(progs.vepactl_subs.get(sub, {}))
    after, _ = split_flags([None] + argv[i + 1:], opts)
    return before, sub, after


# ---- systemd unit -----------------------------------------------------------

def unit_settings(path):
    settings = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                k, _, v = line.partition("=")
                settings[k.strip()] = v.strip()
    return settings


# ---- vepad.conf ---------------------------------------------------------------

def parse_conf(text):
    """key -> value as vepad reads them ('#' comments, `key = value`)."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and "=" in line:
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


# ---- Containerfile -----------------------------------------------------------

def parse_containerfile(path):
    instrs, cur = [], ""
    with open(path) as f:
        for raw in f:
            s = raw.strip()
            if s.startswith("#") or (not s and not cur):
                continue
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            cur += s
            if cur.strip():
                word, _, rest = cur.strip().partition(" ")
                instrs.append((word.upper(), rest.strip()))
            cur = ""
    stages = []
    for word, rest in instrs:
        if word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append({"name": name, "base": parts[0], "instrs": []})
        elif stages:
            stages[-1]["instrs"].append((word, rest))
    return stages


def apt_packages(run_line):
    pkgs = []
    for m in re.finditer(r"apt-get\s+install\s+(.*?)(?:&&|;|$)", run_line):
        pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
    return pkgs


def install_deps_build_section(path):
    with open(path) as f:
        text = f.read()
    body = re.search(r"packages=\((.*?)\n\)", text, re.S).group(1)
    pkgs, on = [], False
    for line in body.splitlines():
        s = line.strip()
        if s.startswith("#"):
            on = s.lstrip("# ").startswith("build")
            continue
        if on:
            pkgs += s.split()
    return pkgs


def top_level_subdirs(meson_build):
    """(subdir, condition or None) of the top-level meson.build."""
    out, conds = [], []
    with open(meson_build) as f:
        for line in f:
            s = line.split("#", 1)[0].strip()
            if s.startswith("if "):
                conds.append(s[3:])
            elif s == "endif" and conds:
                conds.pop()
            m = re.match(r"subdir\('([^']+)'\)", s)
            if m:
                out.append((m.group(1), conds[-1] if conds else None))
    return out


# ---- the checks -----------------------------------------------------------------

def check_documents(docs, deploy_rel):
    R.section("documents")
    for d in docs:
        ok = isinstance(d.obj, dict) and d.obj.get("apiVersion") and d.kind and d.name
        R.check(f"{d}: apiVersion, kind and metadata.name", bool(ok), json.dumps(d.obj)[:300])
        if d.kind in KINDS:
            R.check(f"{d}: apiVersion {KINDS[d.kind]}", d.obj.get("apiVersion") == KINDS[d.kind],
                    f"is {d.obj.get('apiVersion')}")
        else:
            R.check(f"{d}: kind is one of {', '.join(KINDS)}", False)
    R.check("the manifests hold every expected kind", {d.kind for d in docs} == set(KINDS),
            f"found {sorted({d.kind for d in docs if d.kind})}")
    seen = {}
    for d in docs:
        key = (d.kind, d.namespace, d.name)
        R.check(f"{d}: unique", key not in seen, f"also in {seen.get(key)}")
        seen[key] = d.path
    namespaces = {d.name for d in docs if d.kind == "Namespace"}
    for d in docs:
        if d.kind == "Namespace":
            labels = d.obj["metadata"].get("labels") or {}
            R.check(f"{d}: Pod Security level privileged (host network, hostPath, capabilities)",
                    labels.get("pod-security.kubernetes.io/enforce") == "privileged", labels)
            continue
        R.check(f"{d}: namespace given, one of the manifests' or default",
                d.namespace in namespaces or d.namespace == "default", f"namespace {d.namespace!r}")
    # `kubectl apply -f deploy/kubernetes/` reads the top directory's files in name order.
    top = [d for d in docs if os.path.dirname(d.path) == deploy_rel]
    for ns in namespaces:
        ns_files = [d.path for d in top if d.kind == "Namespace" and d.name == ns]
        users = [d.path for d in top if d.namespace == ns and d.kind != "Namespace"]
        R.check(f"namespace {ns}: its file sorts before the objects in it (kubectl apply -f DIR)",
                ns_files and all(ns_files[0] < u or ns_files[0] == u for u in users), f"{ns_files} vs {users}")
    for d in docs:
        if d.kind == "ConfigMap":
            data = d.obj.get("data") or {}
            R.check(f"{d}: data values are strings", all(isinstance(v, str) for v in data.values()))


def configmaps(docs):
    return {(d.namespace, d.name): d.obj.get("data") or {} for d in docs if d.kind == "ConfigMap"}


def volume_files(vol, cms, namespace):
    """{file name in the mount: content} of a configMap volume."""
    cm = cms.get((namespace, vol["configMap"]["name"]), {})
    items = vol["configMap"].get("items")
    if items is None:
        return dict(cm)
    return {it["path"]: cm.get(it["key"]) for it in items}


def check_pod_spec_refs(d, cms):
    spec = pod_spec(d)
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    used = set()
    for role, c in containers(spec):
        for m in c.get("volumeMounts") or []:
            used.add(m["name"])
            R.check(f"{d}: {c['name']}: volumeMount {m['name']} names a volume", m["name"] in volumes)
    for name, v in volumes.items():
        R.check(f"{d}: volume {name} is mounted", name in used)
        if "configMap" in v:
            ref = v["configMap"]["name"]
            R.check(f"{d}: volume {name}: ConfigMap {ref} is in the manifests (namespace {d.namespace})",
                    (d.namespace, ref) in cms)
            data = cms.get((d.namespace, ref), {})
            for it in v["configMap"].get("items") or []:
                R.check(f"{d}: volume {name}: ConfigMap {ref} has key {it['key']}", it["key"] in data,
                        f"keys: {sorted(data)}")
    for role, c in containers(spec):
        for e in c.get("envFrom") or []:
            ref = e.get("configMapRef")
            if ref:
                R.check(f"{d}: {c['name']}: envFrom ConfigMap {ref['name']} is in the manifests",
                        (d.namespace, ref["name"]) in cms)
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                data = cms.get((d.namespace, ref["name"]))
                R.check(f"{d}: {c['name']}: env {e['name']} from ConfigMap {ref['name']} key {ref['key']}",
                        data is not None and ref["key"] in data)
        # Files named under a configMap mount exist in it.
        text = json.dumps([c.get("command"), c.get("args")])
        for m in c.get("volumeMounts") or []:
            v = volumes.get(m["name"]) or {}
            if "configMap" not in v:
                continue
            files = volume_files(v, cms, d.namespace)
            for ref in set(re.findall(re.escape(m["mountPath"].rstrip("/")) + r"/([\w.-]+)", text)):
                R.check(f"{d}: {c['name']}: {m['mountPath']}/{ref} is a key of its ConfigMap volume",
                        files.get(ref) is not None, f"files: {sorted(files)}")


def check_daemonset_shape(d, unit):
    obj, spec = d.obj, pod_spec(d)
    sel = obj["spec"]["selector"].get("matchLabels") or {}
    labels = obj["spec"]["template"]["metadata"].get("labels") or {}
    R.check(f"{d}: selector matches the template's labels",
            sel and all(labels.get(k) == v for k, v in sel.items()), f"selector {sel}, labels {labels}")
    R.check(f"{d}: hostNetwork", spec.get("hostNetwork") is True)
    ru = (obj["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
    R.check(f"{d}: no surge on update (a second vepad on the uplink is refused)",
            ru.get("maxSurge") in (None, 0, "0", "0%"), f"maxSurge {ru.get('maxSurge')}")
    R.check(f"{d}: terminationGracePeriodSeconds set", isinstance(spec.get("terminationGracePeriodSeconds"), int))
    for role, c in containers(spec):
        sc = c.get("securityContext") or {}
        caps = sc.get("capabilities") or {}
        R.check(f"{d}: {c['name']}: not privileged", sc.get("privileged") in (None, False))
        R.check(f"{d}: {c['name']}: capabilities drop ALL", caps.get("drop") == ["ALL"], caps)
        R.check(f"{d}: {c['name']}: allowPrivilegeEscalation false (NoNewPrivileges={unit.get('NoNewPrivileges')})",
                sc.get("allowPrivilegeEscalation") is False)
        R.check(f"{d}: {c['name']}: readOnlyRootFilesystem (ProtectSystem={unit.get('ProtectSystem')})",
                sc.get("readOnlyRootFilesystem") is True)
        R.check(f"{d}: {c['name']}: image is vepad:{PROGS.version}", c.get("image") == f"vepad:{PROGS.version}",
                c.get("image"))
        if role == "init":
            R.check(f"{d}: {c['name']}: adds no capability", not caps.get("add"), caps)


def vepad_container(spec, entrypoint):
    for role, c in containers(spec):
        argv = (c.get("command") or entrypoint or [])
        if role == "main" and argv and os.path.basename(argv[0]) == "vepad":
            return c
    return None


def check_vepad_security(d, c, unit):
    sc = c.get("securityContext") or {}
    add = (sc.get("capabilities") or {}).get("add") or []
    want = sorted(x[4:] if x.startswith("CAP_") else x for x in unit["CapabilityBoundingSet"].split())
    R.check(f"{d}: vepad's capabilities are the unit's CapabilityBoundingSet ({' '.join(want)})",
            sorted(add) == want, f"add: {add}")
    # The API server refuses CAP_SYS_ADMIN (so spelled) with allowPrivilegeEscalation false.
    R.check(f"{d}: capabilities spelled without CAP_", not any(a.startswith("CAP_") for a in add), add)


def check_vepad_mounts(d, spec, c, unit):
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    writable, mounts = set(), {}
    for m in c.get("volumeMounts") or []:
        hp = (volumes.get(m["name"]) or {}).get("hostPath")
        if not hp:
            continue
        mounts[m["mountPath"]] = (m, hp)
        R.check(f"{d}: vepad's hostPath {hp['path']} is mounted at the same path", m["mountPath"] == hp["path"],
                m["mountPath"])
        if not m.get("readOnly"):
            writable.add(hp["path"])
    unit_rw = set(unit.get("ReadWritePaths", "").split())
    unit_rw |= {"/run/" + x for x in unit.get("RuntimeDirectory", "").split()}
    unit_rw |= {"/var/lib/" + x for x in unit.get("StateDirectory", "").split()}
    R.check(f"{d}: vepad writes to the node where the unit may write ({' '.join(sorted(unit_rw))})",
            writable == unit_rw, f"writable hostPath mounts: {sorted(writable)}")
    bpf = mounts.get("/sys/fs/bpf")
    R.check(f"{d}: /sys/fs/bpf mounted with HostToContainer propagation (Bidirectional needs privileged)",
            bool(bpf) and bpf[0].get("mountPropagation") == "HostToContainer", bpf and bpf[0])
    return mounts


def effective_vepad_settings(argv, conf):
    """vepad's settings: the config file's, then the command line's (which win)."""
    s = dict(conf)
    flags, _ = split_flags(argv, PROGS.vepad_opts)
    for name, value in flags:
        s[name[2:].replace("-", "_")] = value if PROGS.vepad_opts.get(name) else "yes"
    return s


def under(path, mounts):
    return any(path == mp or path.startswith(mp.rstrip("/") + "/") for mp in mounts)


def vepad_parses(argv):
    """Run vepad's option and config parsers on argv: (accepted, exit status, output)."""
    cmd = [PROGS.vepad] + argv[1:] + ["--check-config"]
    if os.geteuid() == 0 and shutil.which("setpriv"):
        # If the parsers ever let it through, vepad starts as nobody and cannot touch the node.
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    rc, out, err = run(cmd, timeout=20)
    text = (out + err).strip()
    return rc == 0 and "configuration valid" in text, rc, text


def check_vepad_command(d, spec, c, entrypoint, cms, tmp):
    argv = (c.get("command") or entrypoint) + (c.get("args") or [])
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    # The ConfigMap's files in a temporary directory, the command line pointed at them.
    files, rewritten = {}, list(argv)
    for m in c.get("volumeMounts") or []:
        v = volumes.get(m["name"]) or {}
        if "configMap" in v:
            dst = tempfile.mkdtemp(dir=tmp)
            os.chmod(dst, 0o755)
            for name, content in volume_files(v, cms, d.namespace).items():
                with open(os.path.join(dst, name), "w") as f:
                    f.write(content or "")
                os.chmod(os.path.join(dst, name), 0o644)
                files[os.path.join(m["mountPath"], name)] = content or ""
            rewritten = [a.replace(m["mountPath"].rstrip("/") + "/", dst + "/") for a in rewritten]
    ok, rc, text = vepad_parses(rewritten)
    R.check(f"{d}: vepad accepts `{' '.join(argv)}` with the ConfigMap's files (its option and config parsers)", ok,
            f"exit {rc}: {text}")
    flags, _ = split_flags(argv, PROGS.vepad_opts)
    config_path = next((v for n, v in flags if n == "--config"), None)
    R.check(f"{d}: vepad's --config is a ConfigMap file", config_path in files, f"{config_path} not in {sorted(files)}")
    conf_text = files.get(config_path, "")
    conf = parse_conf(conf_text)
    unknown = set(conf) - PROGS.config_keys
    R.check(f"{d}: vepad.conf keys are vepad's options ({', '.join(sorted(conf))})", not unknown,
            f"unknown: {sorted(unknown)}; known: {sorted(PROGS.config_keys)}")
    return effective_vepad_settings(argv, conf)


def check_vepad_settings(d, settings, mounts):
    R.check(f"{d}: an uplink is set (vepad.conf or --uplink): {settings.get('uplink')}", bool(settings.get("uplink")))
    R.check(f"{d}: the dataplane stays on SIGTERM (no detach_on_exit, no --detach-on-exit)",
            settings.get("detach_on_exit", "no") in ("no", "false", "0", "off"), settings.get("detach_on_exit"))
    socket = settings.get("socket", VEPAD_DEFAULT_SOCKET)
    state_dir = settings.get("state_dir", "/var/lib/vepad")
    pin_dir = settings.get("pin_dir") or "/sys/fs/bpf/vepad/" + settings.get("uplink", "")
    for what, path in (("control socket", os.path.dirname(socket)), ("state_dir", state_dir), ("pin_dir", pin_dir)):
        R.check(f"{d}: vepad's {what} {path} is on a node directory (hostPath)", under(path, mounts))
    return socket


def check_vepactl(d, where, c, cmd, socket, tmp):
    before, sub, after = vepactl_parts(cmd, PROGS)
    R.check(f"{d}: {where}: `{' '.join(cmd)}`: a vepactl subcommand", sub in PROGS.vepactl_subs,
            f"{sub!r} not in {sorted(PROGS.vepactl_subs)}")
    for name, _ in before:
        R.check(f"{d}: {where}: vepactl option {name} (before the subcommand) is in vepactl --help",
                name in PROGS.vepactl_opts)
    for name, _ in after:
        R.check(f"{d}: {where}: vepactl {sub} option {name} is in vepactl [{sub}] --help",
                name in PROGS.vepactl_opts or name in PROGS.vepactl_subs.get(sub, {}))
    flags = dict(before + after)
    env = {e["name"]: e.get("value") for e in c.get("env") or []}
    used = flags.get("--socket") or env.get("VEPAD_SOCKET") or VEPAD_DEFAULT_SOCKET
    R.check(f"{d}: {where}: vepactl's socket is vepad's ({socket})", used == socket, used)
    # The real parser, against a socket that does not exist: 1 (cannot connect), never 2 (usage).
    nowhere = os.path.join(tmp, "no-vepad.sock")
    argv, i = [PROGS.vepactl], 1
    while i < len(cmd):
        if cmd[i] == "--socket" and i + 1 < len(cmd):
            argv += ["--socket", nowhere]
            i += 2
        else:
            argv.append("--socket=" + nowhere if cmd[i].startswith("--socket=") else cmd[i])
            i += 1
    rc, out, err = run(argv, timeout=20, env=dict(os.environ, VEPAD_SOCKET=nowhere))
    R.check(f"{d}: {where}: vepactl parses it (exit 1, cannot connect to an absent socket)",
            rc == 1 and "cannot connect" in err, f"exit {rc}: {err.strip()}")
    R.check(f"{d}: {where}: no shutdown --detach", not (sub == "shutdown" and "--detach" in flags))
    return flags


def check_probes(d, c):
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        p = c.get(probe)
        if not R.check(f"{d}: {c['name']}: {probe} execs vepactl status",
                       bool(p) and os.path.basename(((p.get("exec") or {}).get("command") or [""])[0]) == "vepactl"
                       and "status" in p["exec"]["command"]):
            continue
        before, sub, after = vepactl_parts(p["exec"]["command"], PROGS)
        t = dict(before + after).get("--timeout")
        R.check(f"{d}: {c['name']}: {probe}: timeoutSeconds {p.get('timeoutSeconds', 1)} > vepactl --timeout {t}",
                t is not None and t.isdigit() and p.get("timeoutSeconds", 1) > int(t),
                "without --timeout vepactl waits 60 s")


def check_install_cni_script(d, spec, c, cms, image_files, tmp):
    argv = c.get("command") or []
    script = shell_script(argv + (c.get("args") or []))
    if not R.check(f"{d}: {c['name']} is a shell script", script is not None):
        return
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    root = tempfile.mkdtemp(dir=tmp, prefix="install-cni-")
    repl, hostdirs, cm_files = {}, {}, {}
    for m in c.get("volumeMounts") or []:
        v = volumes[m["name"]]
        local = os.path.join(root, m["name"])
        os.makedirs(local)
        repl[m["mountPath"].rstrip("/")] = local
        if "hostPath" in v:
            hostdirs[v["hostPath"]["path"]] = local
        elif "configMap" in v:
            for name, content in volume_files(v, cms, d.namespace).items():
                with open(os.path.join(local, name), "w") as f:
                    f.write(content or "")
                cm_files[name] = content
    # Files from the image: the build's files they are installed from.
    for path in re.findall(r"(/usr/[\w/.-]+)", script):
        R.check(f"{d}: {c['name']}: {path} is in the image (Containerfile)", path in image_files,
                f"image files: {sorted(image_files)}")
        if path in image_files:
            repl[path] = image_files[path]
    # Final files in node directories come from a rename in the same directory.
    node_mounts = [m["mountPath"] for m in c.get("volumeMounts") or [] if "hostPath" in volumes[m["name"]]]
    for cmd in script_commands(script):
        if cmd[0] in ("cp", "install", "cat", "tee"):
            for dst in cmd[1:]:
                if under(dst, node_mounts):
                    R.check(f"{d}: {c['name']}: `{' '.join(cmd)}` writes a temporary name (.NAME), not the final file",
                            os.path.basename(dst).startswith("."))
        if cmd[0] == "mv":
            src, dst = [w for w in cmd[1:] if not w.startswith("-")][-2:]
            R.check(f"{d}: {c['name']}: `mv {src} {dst}` renames within one directory",
                    os.path.dirname(src) == os.path.dirname(dst))
    local_script = script
    for k in sorted(repl, key=len, reverse=True):
        local_script = local_script.replace(k, repl[k])
    bin_dir, net_dir = hostdirs.get("/opt/cni/bin"), hostdirs.get("/etc/cni/net.d")
    if not R.check(f"{d}: {c['name']} mounts the node's /opt/cni/bin and /etc/cni/net.d", bin_dir and net_dir):
        return
    conflists = [n for n in cm_files if n.endswith(".conflist")]
    if not R.check(f"{d}: {c['name']} has a conflist from the ConfigMap", len(conflists) == 1, sorted(cm_files)):
        return
    conflist = conflists[0]
    plugin = image_files.get("/usr/lib/cni/vepa")
    if not R.check(f"{d}: {c['name']}: the image's /usr/lib/cni/vepa is the built plugin", plugin is not None):
        return
    with open(os.path.join(bin_dir, "vepa"), "w") as f:
        f.write("an older plugin\n")
    with open(os.path.join(net_dir, "99-late.conflist"), "w") as f:
        f.write("{}\n")

    # 1. Only a config sorting after ours: the plugin goes in, the conflist waits.
    p = subprocess.Popen([argv[0], argv[1], local_script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    time.sleep(2)
    waiting = p.poll() is None
    if waiting:
        os.killpg(p.pid, signal.SIGKILL)
    out = p.communicate()[0]
    R.check(f"{d}: {c['name']}: with only 99-late.conflist on the node it waits and does not install {conflist}",
            waiting and conflist not in os.listdir(net_dir) and "waiting" in out, out)
    with open(os.path.join(bin_dir, "vepa"), "rb") as f1, open(plugin, "rb") as f2:
        same = f1.read() == f2.read()
    R.check(f"{d}: {c['name']}: the plugin replaced the older one, mode 0755, no temporary file left",
            same and os.stat(os.path.join(bin_dir, "vepa")).st_mode & 0o777 == 0o755
            and os.listdir(bin_dir) == ["vepa"], f"{os.listdir(bin_dir)}\n{out}")

    # 2. A pod network config sorting first: the conflist is installed.
    with open(os.path.join(net_dir, "10-primary.conflist"), "w") as f:
        f.write("{}\n")
    rc, out, err = run([argv[0], argv[1], local_script], timeout=20)
    installed = os.path.join(net_dir, conflist)
    content = open(installed).read() if os.path.exists(installed) else None
    R.check(f"{d}: {c['name']}: with 10-primary.conflist there it installs {conflist} from the ConfigMap",
            rc == 0 and content == cm_files[conflist]
            and sorted(os.listdir(net_dir)) == sorted(["10-primary.conflist", "99-late.conflist", conflist]),
            f"exit {rc}\n{out}{err}\n{sorted(os.listdir(net_dir))}")


def check_bpffs_script(d, c, tmp):
    argv = (c.get("command") or []) + (c.get("args") or [])
    script = shell_script(argv)
    if not R.check(f"{d}: {c['name']} is a shell script naming /sys/fs/bpf", script and "/sys/fs/bpf" in script):
        return
    plain = tempfile.mkdtemp(dir=tmp, prefix="not-bpffs-")
    rc, out, err = run([argv[0], argv[1], script.replace("/sys/fs/bpf", plain)])
    R.check(f"{d}: {c['name']}: fails on a directory that is not bpffs", rc not in (0, None) and "bpffs" in err,
            f"exit {rc}: {out}{err}")
    rc0, fs, _ = run(["stat", "-f", "-c", "%T", "/sys/fs/bpf"])
    if fs.strip() != "bpf_fs":
        R.skip(f"{d}: {c['name']}: passes on bpffs", "/sys/fs/bpf is not bpffs on this machine")
        return
    rc, out, err = run([argv[0], argv[1], script])
    R.check(f"{d}: {c['name']}: passes on this machine's /sys/fs/bpf (bpffs)", rc == 0, f"exit {rc}: {out}{err}")


def cni_known_keys(source):
    with open(os.path.join(source, "cni/config.cpp")) as f:
        text = f.read()
    keys = set(re.findall(r'(?:get_typed<[^>]*>\(j, |j\.value\(|j\.contains\()"(\w+)"', text))
    return keys | CNI_STANDARD_KEYS


def cni_plugin_run(command, conf, tmp):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": "validate-manifests",
        "CNI_NETNS": os.path.join(tmp, "no-such-netns"),
        "CNI_IFNAME": "net1",
        "CNI_PATH": os.path.join(tmp, "no-cni-path"),
    }
    rc, out, err = run([PROGS.vepa], env=env, stdin=json.dumps(conf) if conf is not None else "")
    try:
        reply = json.loads(out) if out.strip() else None
    except ValueError:
        reply = None
    return rc, reply, out + err


def cni_config_accepted(conf, tmp):
    """Feed a network config to the plugin's CHECK with an absent netns: its config parser runs
    first (errors 1, 6, 7); a config it accepts then fails on the netns (105) before vepad is asked."""
    rc, reply, text = cni_plugin_run("CHECK", conf, tmp)
    code = reply.get("code") if isinstance(reply, dict) else None
    if code == 105:
        return True, "accepted"
    if code == 100:
        return True, "accepted (vepad unreachable)"
    if code in (1, 6, 7):
        return False, f"config refused: code {code}: {reply.get('msg')} {reply.get('details', '')}"
    return False, f"unexpected: exit {rc}: {text.strip()}"


def check_cni_configs(docs, vepad_sockets, tmp, source):
    R.section("CNI configs against the vepa plugin")
    rc, reply, text = cni_plugin_run("VERSION", None, tmp)
    versions = (reply or {}).get("supportedVersions") or []
    R.check(f"vepa: CNI_COMMAND=VERSION answers ({', '.join(versions)})", rc == 0 and versions, text)
    # The method must see a bad config as bad, or every check below would pass by accident.
    bad = {"cniVersion": "1.0.0", "name": "x", "type": "vepa", "mode": "no-such-mode"}
    ok, why = cni_config_accepted(bad, tmp)
    R.check("vepa: a config with a bad mode is refused by the plugin's parser (code 7)", not ok and "code 7" in why, why)
    good = {"cniVersion": "1.0.0", "name": "x", "type": "vepa"}
    ok, why = cni_config_accepted(good, tmp)
    R.check("vepa: a minimal config is accepted", ok, why)
    known = cni_known_keys(source)

    configs = []  # (where, conflist-or-conf dict)
    for d in docs:
        if d.kind == "ConfigMap":
            for key, text in (d.obj.get("data") or {}).items():
                if key.endswith(".conflist") or (key.endswith((".conf", ".json")) and text.lstrip().startswith("{")):
                    configs.append((f"{d} key {key}", text))
        if d.kind == "NetworkAttachmentDefinition":
            configs.append((f"{d} spec.config", (d.obj.get("spec") or {}).get("config")))
    R.check("the manifests carry CNI configs (the ConfigMap's conflist, the NAD's config)", len(configs) >= 2,
            [w for w, _ in configs])
    vepa_confs = []
    for where, text in configs:
        try:
            j = json.loads(text)
        except (TypeError, ValueError) as e:
            R.check(f"{where}: valid JSON", False, e)
            continue
        R.check(f"{where}: valid JSON object with a name and cniVersion",
                isinstance(j, dict) and j.get("name") and j.get("cniVersion"))
        plugins = j.get("plugins") if "plugins" in j else [j]
        mine = [p for p in plugins if isinstance(p, dict) and p.get("type") == "vepa"]
        R.check(f"{where}: has a plugin of type vepa", len(mine) == 1, [p.get("type") for p in plugins])
        R.check(f"{where}: cniVersion {j.get('cniVersion')} is one the plugin supports", j.get("cniVersion") in versions)
        for p in mine:
            # What a runtime hands the plugin: its entry, with the list's name and cniVersion (libcni).
            conf = dict(p, name=j.get("name"), cniVersion=j.get("cniVersion"))
            unknown = set(conf) - known
            R.check(f"{where}: vepa keys are the plugin's ({', '.join(sorted(set(conf) - CNI_STANDARD_KEYS))})",
                    not unknown, f"unknown to cni/config.cpp: {sorted(unknown)}")
            caps = set((conf.get("capabilities") or {}))
            R.check(f"{where}: capabilities are ones the plugin reads (mac)", caps <= {"mac"}, sorted(caps))
            ok, why = cni_config_accepted(conf, tmp)
            R.check(f"{where}: the plugin's parser accepts it ({why})", ok, why)
            sock = conf.get("socket", VEPAD_DEFAULT_SOCKET)
            R.check(f"{where}: socket {sock} is vepad's", sock in vepad_sockets, sorted(vepad_sockets))
            ipam = conf.get("ipam")
            if ipam:
                R.check(f"{where}: ipam adds no default route (the pod's stays on its primary network)",
                        not any(r.get("dst") in ("0.0.0.0/0", "::/0") for r in ipam.get("routes") or []))
            vepa_confs.append((where, conf))
    if len(vepa_confs) >= 2:
        first = vepa_confs[0][1]
        for where, conf in vepa_confs[1:]:
            R.check(f"{where}: the same network as {vepa_confs[0][0]}", conf == first,
                    f"{json.dumps(conf, sort_keys=True)}\n{json.dumps(first, sort_keys=True)}")


def check_examples(docs, daemonsets):
    R.section("examples")
    nads = {(d.namespace, d.name) for d in docs if d.kind == "NetworkAttachmentDefinition"}
    ds_selectors = [pod_spec(d).get("nodeSelector") or {} for d in daemonsets]
    ds_keys = set().union(*[set(s) for s in ds_selectors]) if ds_selectors else set()
    for d in docs:
        if d.kind != "Pod":
            continue
        ann = (d.obj["metadata"].get("annotations") or {}).get(MULTUS_ANNOTATION)
        if not R.check(f"{d}: annotation {MULTUS_ANNOTATION}", bool(ann)):
            continue
        try:
            nets = json.loads(ann) if ann.strip().startswith("[") else \
                [{"name": n.strip()} for n in ann.split(",") if n.strip()]
        except ValueError as e:
            R.check(f"{d}: {MULTUS_ANNOTATION} is a JSON list or a list of names", False, e)
            continue
        for n in nets:
            ns, _, name = n["name"].rpartition("/")
            ns = n.get("namespace") or ns or d.namespace
            R.check(f"{d}: network {ns}/{name} is a NetworkAttachmentDefinition of the manifests", (ns, name) in nads)
        spec = pod_spec(d)
        required = set(spec.get("nodeSelector") or {})
        terms = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                 .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
        for t in terms:
            required |= {e["key"] for e in t.get("matchExpressions") or [] if e.get("operator") in ("Exists", "In")}
        R.check(f"{d}: scheduled only where a vepad DaemonSet runs (requires label {', '.join(sorted(ds_keys))})",
                ds_keys and ds_keys <= required, f"requires {sorted(required)}")


def check_pools(daemonsets, main):
    R.section("DaemonSets per node pool")
    for i, a in enumerate(daemonsets):
        for b in daemonsets[i + 1:]:
            sa, sb = pod_spec(a).get("nodeSelector") or {}, pod_spec(b).get("nodeSelector") or {}
            disjoint = any(k in sb and sb[k] != v for k, v in sa.items())
            R.check(f"{a.name} and {b.name} select different nodes (nodeSelector {sa} vs {sb})", disjoint)
            la = a.obj["spec"]["template"]["metadata"].get("labels") or {}
            lb = b.obj["spec"]["template"]["metadata"].get("labels") or {}
            ma, mb = a.obj["spec"]["selector"]["matchLabels"], b.obj["spec"]["selector"]["matchLabels"]
            R.check(f"{a.name} and {b.name}: neither selector matches the other's pods",
                    not all(lb.get(k) == v for k, v in ma.items()) and not all(la.get(k) == v for k, v in mb.items()))
    for d in daemonsets:
        if d is main:
            continue
        n = copy.deepcopy(d.obj)
        name = n["metadata"]["name"]
        n["metadata"]["name"] = main.name
        for labels in (n["metadata"].get("labels"), n["spec"]["selector"].get("matchLabels"),
                       n["spec"]["template"]["metadata"].get("labels")):
            if labels and labels.get("app.kubernetes.io/instance") == name:
                labels["app.kubernetes.io/instance"] = main.name
        sel, msel = pod_spec(n).get("nodeSelector") or {}, pod_spec(main).get("nodeSelector") or {}
        if set(sel) == set(msel):
            pod_spec(n)["nodeSelector"] = dict(msel)
        for c in pod_spec(n).get("containers") or []:
            args = c.get("args") or []
            if "--uplink" in args:
                i = args.index("--uplink")
                c["args"] = args[:i] + args[i + 2:]
        diff = first_difference(main.obj, n)
        R.check(f"{d}: the same as {main} but for name, instance label, nodeSelector value and --uplink",
                diff is None, diff)


def first_difference(a, b, path=""):
    if type(a) is not type(b):
        return f"{path or '/'}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}/{k}: only in {'the pool' if k in b else 'the main'} DaemonSet"
            r = first_difference(a[k], b[k], f"{path}/{k}")
            if r:
                return r
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            r = first_difference(x, y, f"{path}[{i}]")
            if r:
                return r
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def check_containerfile(path, source, build, programs):
    R.section("Containerfile")
    stages = parse_containerfile(path)
    if not R.check("Containerfile: a build stage and a runtime stage FROM debian:bookworm",
                   len(stages) == 2 and all(s["base"].startswith("debian:bookworm") for s in stages),
                   [(s["name"], s["base"]) for s in stages]):
        return {}, None
    build_stage, runtime = stages
    runs = [rest for w, rest in build_stage["instrs"] if w == "RUN"]
    build_pkgs = [p for r in runs for p in apt_packages(r)]
    want = install_deps_build_section(os.path.join(source, "tools/install-deps.sh"))
    R.check("Containerfile: the build stage installs tools/install-deps.sh's build section",
            sorted(build_pkgs) == sorted(want), f"Containerfile: {sorted(build_pkgs)}\ninstall-deps: {sorted(want)}")
    copied = set()
    for w, rest in build_stage["instrs"]:
        if w != "COPY":
            continue
        words = [x for x in shlex.split(rest) if not x.startswith("--")]
        for src in words[:-1]:
            copied.add(os.path.normpath(src))
            R.check(f"Containerfile: COPY source {src} exists in the repository",
                    os.path.exists(os.path.join(source, src)))
    setup = " ".join(runs)
    for sub, cond in top_level_subdirs(os.path.join(source, "meson.build")):
        if sub in copied:
            continue
        off = cond and "get_option('tests')" in cond and "-Dtests=false" in setup
        R.check(f"Containerfile: meson.build's subdir('{sub}') is copied"
                + (" (or switched off)" if cond else ""), bool(off))
    m = re.search(r"--prefix[= ](\S+)", setup)
    image_prefix = m.group(1) if m else "/usr/local"
    m = re.search(r"--destdir[= ](\S+)", setup)
    staging = m.group(1) if m else None
    R.check(f"Containerfile: meson setup --prefix ({image_prefix}), meson install --destdir ({staging})",
            bool(staging and image_prefix))

    # What `meson install` puts where, from this build.
    meson = shutil.which("meson")
    image_files = {}
    if not meson:
        R.skip("Containerfile: COPY --from sources are installed files", "meson not on PATH")
    else:
        rc, out, err = run([meson, "introspect", "--installed", build])
        installed = json.loads(out) if rc == 0 else {}
        rc, out, err = run([meson, "introspect", "--buildoptions", build])
        prefix = next((o["value"] for o in json.loads(out) if o["name"] == "prefix"), "/usr/local") if rc == 0 else None
        by_rel = {os.path.relpath(dst, prefix): src for src, dst in installed.items() if dst.startswith(prefix + "/")}
        for w, rest in runtime["instrs"]:
            if w != "COPY":
                continue
            flags = [x for x in shlex.split(rest) if x.startswith("--")]
            words = [x for x in shlex.split(rest) if not x.startswith("--")]
            dst = words[-1]
            for src in words[:-1]:
                if any(f.startswith("--from") for f in flags):
                    rel = os.path.relpath(src, staging + image_prefix) if staging else src
                    ok = R.check(f"Containerfile: COPY --from {src} is a file meson installs (under the prefix {rel})",
                                 rel in by_rel, f"installed: {sorted(by_rel)}")
                    target = dst + os.path.basename(src) if dst.endswith("/") else dst
                    if ok:
                        image_files[target] = by_rel[rel]
                else:
                    R.check(f"Containerfile: COPY source {src} exists", os.path.exists(os.path.join(source, src)))
    entry = None
    for w, rest in runtime["instrs"]:
        if w == "ENTRYPOINT":
            entry = json.loads(rest)
    R.check(f"Containerfile: ENTRYPOINT {entry} is vepad, in the image",
            entry and os.path.basename(entry[0]) == "vepad" and entry[0] in image_files, image_files)
    for prog in ("vepactl",):
        R.check(f"Containerfile: {prog} is in the image on PATH",
                any(os.path.join(p, prog) in image_files for p in IMAGE_PATH.split(":")))

    runtime_pkgs = [p for w, rest in runtime["instrs"] if w == "RUN" for p in apt_packages(rest)]
    # The packages of the libraries the programs are linked with.
    if not (shutil.which("objdump") and shutil.which("dpkg")):
        R.skip("Containerfile: runtime packages cover the programs' libraries", "no objdump or dpkg here")
    else:
        owners = {}
        for prog in (programs.vepad, programs.vepactl, programs.vepa):
            rc, out, _ = run(["objdump", "-p", prog])
            for lib in re.findall(r"NEEDED\s+(\S+)", out):
                if lib not in owners:
                    owners[lib] = run(["dpkg", "-S", "*/" + lib])[1]
                owner = owners[lib]
                pkgs = {line.split(":")[0] for line in owner.splitlines() if not line.split(":")[0].endswith("-dev")}
                R.check(f"Containerfile: runtime stage installs the package of {os.path.basename(prog)}'s {lib} "
                        f"({', '.join(sorted(pkgs)) or '?'})", bool(pkgs & set(runtime_pkgs)), f"runtime: {runtime_pkgs}")
    if shutil.which("apt-cache") and run(["apt-cache", "show", "apt"])[0] == 0:
        pkgs = sorted(set(build_pkgs + runtime_pkgs))
        rc, out, _ = run(["apt-cache", "show", "--no-all-versions"] + pkgs, timeout=60)
        found = set(re.findall(r"^Package: (\S+)", out, re.M))
        for p in pkgs:
            R.check(f"Containerfile: apt package {p} exists", p in found)
    else:
        R.skip("Containerfile: apt packages exist", "no apt-cache or no package lists here (apt-get update)")
    return image_files, entry


def check_host_requirements(readme, plugin):
    R.section("the plugin on the node")
    if not shutil.which("objdump"):
        R.skip("deploy/kubernetes/README.md names the plugin's libraries and versions", "no objdump")
        return
    if not R.check(f"{os.path.basename(os.path.dirname(readme))}/README.md exists", os.path.exists(readme)):
        return
    with open(readme) as f:
        text = f.read()
    rc, out, _ = run(["objdump", "-p", plugin])
    for lib in re.findall(r"NEEDED\s+(\S+)", out):
        R.check(f"README names the plugin's {lib} (the node must have it)", lib in text)
    rc, out, _ = run(["objdump", "-T", plugin])
    for sym in ("GLIBC", "GLIBCXX"):
        vs = re.findall(sym + r"_([0-9.]+)\)", out)
        if vs:
            top = max(vs, key=lambda v: [int(x) for x in v.split(".")])
            R.check(f"README names the newest {sym} version the plugin needs ({sym}_{top})",
                    f"{sym}_{top}" in text)


# ---- main -------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--vepad", required=True)
    ap.add_argument("--vepactl", required=True)
    ap.add_argument("--vepa", required=True)
    ap.add_argument("--deploy", help="the manifests' directory (default SOURCE/deploy/kubernetes)")
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    deploy = os.path.abspath(args.deploy or os.path.join(source, "deploy/kubernetes"))
    tmp = tempfile.mkdtemp(prefix="validate-manifests-")
    os.chmod(tmp, 0o755)
    try:
        return validate(args, source, deploy, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def validate(args, source, deploy, tmp):
    global PROGS
    R.section("programs")
    PROGS = Programs(args)
    unit = unit_settings(os.path.join(source, "systemd/vepad.service.in"))
    unit_i = unit_settings(os.path.join(source, "systemd/vepad@.service.in"))
    R.check("systemd: both units have the same CapabilityBoundingSet",
            unit.get("CapabilityBoundingSet") and unit["CapabilityBoundingSet"] == unit_i.get("CapabilityBoundingSet"))

    # vepad's parsers must refuse a bad config, or the checks below would pass by accident.
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("uplink = eth1\nxdp_mode = bogus\n")
    os.chmod(bad, 0o644)
    ok, rc, text = vepad_parses(["vepad", "--config", bad])
    R.check("vepad: a config with a bad value is refused by name and line", not ok and f"{bad}:2:" in text, text)
    good = os.path.join(tmp, "good.conf")
    with open(good, "w") as f:
        f.write("uplink = eth1\n")
    os.chmod(good, 0o644)
    ok, rc, text = vepad_parses(["vepad", "--config", good])
    R.check("vepad: a good config reaches the sentinel option", ok, text)

    image_files, entrypoint = check_containerfile(os.path.join(deploy, "Containerfile"), source,
                                                  os.path.abspath(args.build), PROGS)
    docs = load_manifests(deploy, source)
    check_documents(docs, os.path.relpath(deploy, source))
    cms = configmaps(docs)
    daemonsets = [d for d in docs if d.kind == "DaemonSet"]
    main_ds = next((d for d in daemonsets if os.path.dirname(d.path) == os.path.relpath(deploy, source)), None)
    R.check("a DaemonSet in deploy/kubernetes itself", main_ds is not None)

    sockets = set()
    for d in docs:
        if d.kind not in ("DaemonSet", "Pod"):
            continue
        R.section(str(d))
        check_pod_spec_refs(d, cms)
        if d.kind != "DaemonSet":
            continue
        spec = pod_spec(d)
        check_daemonset_shape(d, unit)
        c = vepad_container(spec, entrypoint)
        if not R.check(f"{d}: a container runs vepad", c is not None):
            continue
        check_vepad_security(d, c, unit)
        mounts = check_vepad_mounts(d, spec, c, unit)
        settings = check_vepad_command(d, spec, c, entrypoint, cms, tmp)
        socket = check_vepad_settings(d, settings, mounts)
        sockets.add(socket)
        check_probes(d, c)
        for where, _, cmd in invocations(spec, entrypoint):
            name = os.path.basename(cmd[0])
            if name == "vepactl":
                check_vepactl(d, where, c, cmd, socket, tmp)
            else:
                flags, _ = split_flags(cmd, PROGS.vepad_opts)
                for fl, _ in flags:
                    R.check(f"{d}: {where}: vepad option {fl} is in vepad --help", fl in PROGS.vepad_opts)
        for role, ic in containers(spec):
            if ic.get("name") == "check-bpffs":
                check_bpffs_script(d, ic, tmp)
            if ic.get("name") == "install-cni":
                check_install_cni_script(d, spec, ic, cms, image_files, tmp)
        R.check(f"{d}: init containers check-bpffs and install-cni",
                {"check-bpffs", "install-cni"} <= {ic.get("name") for _, ic in containers(spec)})

    check_cni_configs(docs, sockets, tmp, source)
    if main_ds:
        check_pools(daemonsets, main_ds)
    check_examples(docs, daemonsets)
    check_host_requirements(os.path.join(deploy, "README.md"), PROGS.vepa)

    print(f"\n{R.n['PASS']} passed, {R.n['FAIL']} failed, {R.n['SKIP']} skipped")
    return 1 if R.n["FAIL"] else 0


PROGS = None

if __name__ == "__main__":
    sys.exit(main())
