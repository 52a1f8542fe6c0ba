#!/usr/bin/python3
"""Hostile clients for vepad's metrics endpoint (tests/integration/metrics.sh).

    http_hostile.py HOST PORT idle N SECONDS   N connections that send half a request line and wait
    http_hostile.py HOST PORT huge             a 1 MiB header: the server must answer 400 or close
    http_hostile.py HOST PORT malformed        garbage, a body, a bad version: each answered 400
    http_hostile.py HOST PORT flood N          N connections opened and closed at once
    http_hostile.py HOST PORT slowread N       N GETs whose responses are never read

Exit 0 when the server behaved (answered as required or closed, never hung past a
deadline); 1 with the reason otherwise.
"""
import socket
import sys
import time


def connect(host, port, timeout=5):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


def read_status(s, deadline=5):
    """The status code of the first response line, or None when closed without one."""
    s.settimeout(deadline)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return None
    if not data:
        return None
    return int(data.split(b" ")[1])


def idle(host, port, n, secs):
    socks = []
    for _ in range(n):
        try:
            s = connect(host, port)
            s.sendall(b"GET /metr")
            socks.append(s)
        except OSError:
            pass
    print(f"idle: {len(socks)} of {n} connections holding half a request", flush=True)
    time.sleep(secs)
    closed = 0
    for s in socks:  # the server's request timeout closed them by now (RST when it had unread data)
        s.settimeout(0.5)
        try:
            if s.recv(1) == b"":
                closed += 1
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        s.close()
    print(f"idle: {closed} of {len(socks)} closed by the server", flush=True)
    return 0


def huge(host, port):
    s = connect(host, port)
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        return 0  # closed on us mid-send: refused
    st = read_status(s)
    if st not in (None, 400):
        print(f"huge: status {st}")
        return 1
    return 0


def malformed(host, port):
    cases = [
        (b"BLAH\r\n\r\n", 400),
        (b"GET /metrics HTTP/9.9\r\n\r\n", 400),
        (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 400),
        (b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    ]
    for req, want in cases:
        s = connect(host, port)
        s.sendall(req)
        st = read_status(s)
        s.close()
        if st != want:
            print(f"malformed: {req[:30]!r}: status {st}, expected {want}")
            return 1
    return 0


def flood(host, port, n):
    for _ in range(n):
        try:
            connect(host, port).close()
        except OSError:
            pass
    return 0


def slowread(host, port, n):
    socks = []
    for _ in range(n):
        s = connect(host, port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50)  # pipelined, never read
        socks.append(s)
    time.sleep(1)
    for s in socks:
        s.close()
    return 0


def main():
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = [int(a) for a in sys.argv[4:]]
    fn = {"idle": idle, "huge": huge, "malformed": malformed, "flood": flood, "slowread": slowread}[mode]
    return fn(host, port, *args)


if __name__ == "__main__":
    sys.exit(main())
