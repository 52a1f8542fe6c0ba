#!/usr/bin/python3
"""A stand-in for systemd's notification socket: bind a datagram socket at PATH
and print every sd_notify message received until TIMEOUT seconds pass without
one (or STOPPING=1 arrives)."""
import os
import socket
import sys

path, timeout = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(path):
    os.unlink(path)
s.bind(path)
s.settimeout(timeout)
print("listening", flush=True)
try:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        for line in msg.split("\n"):
            print(line, flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
