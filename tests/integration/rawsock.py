#!/usr/bin/python3
"""Talk to vepad's control socket with raw bytes: what vepactl would never send.

rawsock.py SOCKET CASE  -- runs one case, prints one line per reply, exits 0 if
every reply was the expected error.
"""
import json
import socket
import sys


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def replies(s, n):
    buf = b""
    out = []
    while len(out) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf and len(out) < n:
            line, buf = buf.split(b"\n", 1)
            out.append(json.loads(line))
    return out


def expect_errors(path, lines, code):
    s = connect(path)
    s.sendall(b"".join(l + b"\n" for l in lines))
    got = replies(s, len(lines))
    ok = len(got) == len(lines) and all(r.get("ok") is False and r["error"]["code"] == code for r in got)
    for r in got:
        print(json.dumps(r))
    return ok


def main():
    path, case = sys.argv[1], sys.argv[2]
    if case == "malformed":
        ok = expect_errors(path, [b"{", b"not json", b"[1,2", b'{"cmd": 1}', b"42", b'"str"', b"\xff\xfe",
                                  b'{"cmd": "list", "args": []}'], "bad-request")
    elif case == "unknown":
        ok = expect_errors(path, [b'{"id": 7, "cmd": "format-disk"}'], "unknown-command")
    elif case == "badargs":
        ok = expect_errors(path, [b'{"cmd": "add-port"}', b'{"cmd": "add-port", "args": {"name": 5}}',
                                  b'{"cmd": "add-port", "args": {"name": "x", "macs": ["zz"]}}',
                                  b'{"cmd": "add-port", "args": {"name": "x", "bogus": 1}}',
                                  b'{"cmd": "add-port", "args": {"name": "x/y"}}',
                                  b'{"cmd": "add-port", "args": {"name": "x", "mode": "hub"}}'],
                           "invalid-argument")
    elif case == "deep":
        ok = expect_errors(path, [b"[" * 5000 + b"]" * 5000, b'{"a":' * 2000 + b"1" + b"}" * 2000], "bad-request")
    elif case == "huge":
        s = connect(path)
        s.sendall(b'{"cmd": "list", "pad": "' + b"x" * (200 * 1024) + b'"}\n')
        got = replies(s, 1)
        print(json.dumps(got))
        ok = len(got) == 1 and got[0]["error"]["code"] == "too-large"
        # and the daemon closed that connection
        try:
            ok = ok and s.recv(1) == b""
        except OSError:
            pass
    elif case == "halfclose":
        s = connect(path)
        s.sendall(b'{"cmd": "status"}')   # no newline, then half-close
        s.shutdown(socket.SHUT_WR)
        s.settimeout(3)
        try:
            data = s.recv(100)
        except socket.timeout:
            data = b"timeout"
        print(repr(data))
        ok = data == b""   # incomplete request: closed without a reply, no hang
    elif case == "ids":
        s = connect(path)
        s.sendall(b'{"id": "a", "cmd": "status"}\n{"id": [1, 2], "cmd": "list"}\n{"id": null, "cmd": "nope"}\n')
        got = replies(s, 3)
        print(json.dumps([r["id"] for r in got]))
        ok = [r["id"] for r in got] == ["a", [1, 2], None] and got[0]["ok"] and got[1]["ok"] and not got[2]["ok"]
    else:
        print("unknown case", case)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
