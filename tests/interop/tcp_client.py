#!/usr/bin/env python3
"""Kernel-side TCP peers for the interop tests (the kernel's sockets, run inside the test's
namespace). Every mode prints one result line and exits non-zero when the exchange was wrong.

  upload HOST PORT BYTES           send BYTES, shut down writing, wait for the peer's close
  echo HOST PORT BYTES             send BYTES while reading; the bytes back must be equal
  refused HOST PORT                connect must fail with ECONNREFUSED at once (< 1 s)
  sequential HOST PORT COUNT       COUNT short echo connections one after another
  concurrent HOST PORT COUNT       COUNT echo connections open at the same time
  server PORT MODE OUT             accept one connection; MODE recv-then-send FILE or
                                   send-then-recv FILE; the received bytes go to OUT
  client HOST PORT FILE OUT        connect, send FILE, shut down writing, read until EOF to OUT
"""
import hashlib
import os
import selectors
import socket
import sys
import threading
import time

TIMEOUT = 30


def pattern(n, seed=1):
    # Deterministic, not periodic in any small period.
    out = bytearray()
    h = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h * 64
    return bytes(out[:n])


def recv_all(s):
    chunks = []
    while True:
        b = s.recv(1 << 16)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def upload(host, port, n):
    data = pattern(n)
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    t0 = time.monotonic()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    rest = recv_all(s)  # the server closes after our FIN
    dt = time.monotonic() - t0
    s.close()
    print(f"upload: sent {n} bytes in {dt:.3f} s ({n * 8 / dt / 1e6:.0f} Mbit/s), "
          f"got {len(rest)} back")
    return 0 if not rest else 1


def echo(host, port, n):
    data = pattern(n, 2)
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    got = []
    reader = threading.Thread(target=lambda: got.append(recv_all(s)))
    t0 = time.monotonic()
    reader.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)  # half-close: the echo must still come back in full
    reader.join(TIMEOUT)
    dt = time.monotonic() - t0
    back = got[0] if got else b""
    s.close()
    ok = back == data
    print(f"echo: {n} bytes sent, {len(back)} back, equal={ok}, {dt:.3f} s")
    return 0 if ok else 1


def refused(host, port):
    t0 = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError:
        dt = time.monotonic() - t0
        print(f"refused: ECONNREFUSED after {dt * 1000:.1f} ms")
        return 0 if dt < 1.0 else 1
    except OSError as e:
        print(f"refused: expected ECONNREFUSED, got {e!r}")
        return 1
    print("refused: the connection was accepted")
    return 1


def one_echo(host, port, i):
    msg = f"connection {i} ".encode() * 8
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s) == msg


def sequential(host, port, count):
    t0 = time.monotonic()
    bad = sum(0 if one_echo(host, port, i) else 1 for i in range(count))
    dt = time.monotonic() - t0
    print(f"sequential: {count} connections, {bad} wrong, {dt:.2f} s "
          f"({count / dt:.0f} connections/s)")
    return 0 if bad == 0 else 1


def concurrent(host, port, count):
    # Open all of them first, then exchange on all at once through one selector.
    t0 = time.monotonic()
    socks = []
    for i in range(count):
        s = socket.create_connection((host, port), timeout=TIMEOUT)
        socks.append(s)
    opened = time.monotonic() - t0
    sel = selectors.DefaultSelector()
    want = {}
    for i, s in enumerate(socks):
        msg = f"concurrent {i} ".encode() * 64
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        s.setblocking(False)
        want[s] = (msg, bytearray())
        sel.register(s, selectors.EVENT_READ)
    done, bad = 0, 0
    deadline = time.monotonic() + TIMEOUT
    while done < count and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            b = s.recv(1 << 16)
            if b:
                want[s][1].extend(b)
                continue
            sel.unregister(s)
            done += 1
            if bytes(want[s][1]) != want[s][0]:
                bad += 1
            s.close()
    dt = time.monotonic() - t0
    print(f"concurrent: {count} connections open at once (opened in {opened:.2f} s), "
          f"{done} finished, {bad} wrong, {dt:.2f} s")
    return 0 if done == count and bad == 0 else 1


def server(port, mode, path, out):
    data = open(path, "rb").read()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(TIMEOUT)
    print("listening", flush=True)
    c, _ = ls.accept()
    c.settimeout(TIMEOUT)
    if mode == "recv-then-send":
        got = recv_all(c)  # the peer half-closed first; we still send afterwards
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
    else:
        c.sendall(data)  # we half-close first; the peer still sends afterwards
        c.shutdown(socket.SHUT_WR)
        got = recv_all(c)
    c.close()
    open(out, "wb").write(got)
    print(f"server: {mode}: sent {len(data)}, received {len(got)}")
    return 0


def client(host, port, path, out):
    data = open(path, "rb").read()
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    got = []
    reader = threading.Thread(target=lambda: got.append(recv_all(s)))
    reader.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reader.join(TIMEOUT)
    s.close()
    open(out, "wb").write(got[0] if got else b"")
    print(f"client: sent {len(data)}, received {len(got[0]) if got else 0}")
    return 0 if got else 1


def main(argv):
    mode = argv[1]
    if mode == "upload":
        return upload(argv[2], int(argv[3]), int(argv[4]))
    if mode == "echo":
        return echo(argv[2], int(argv[3]), int(argv[4]))
    if mode == "refused":
        return refused(argv[2], int(argv[3]))
    if mode == "sequential":
        return sequential(argv[2], int(argv[3]), int(argv[4]))
    if mode == "concurrent":
        return concurrent(argv[2], int(argv[3]), int(argv[4]))
    if mode == "server":
        return server(int(argv[2]), argv[3], argv[4], argv[5])
    if mode == "client":
        return client(argv[2], int(argv[3]), argv[4], argv[5])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
