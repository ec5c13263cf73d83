#!/usr/bin/env python3
"""Sends datagrams of the given sizes to HOST:PORT and checks each comes back byte for byte.

usage: udp_echo_client.py HOST PORT SIZE...   (exit 0 when every datagram came back exactly)
"""
import os
import socket
import sys


def main() -> int:
    host, port, sizes = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2.0)
    ok = 0
    for size in sizes:
        data = os.urandom(size)
        for attempt in range(3):  # UDP may lose a datagram; three tries, bounded
            sock.sendto(data, (host, port))
            try:
                reply, peer = sock.recvfrom(65536)
            except socket.timeout:
                continue
            if reply == data and peer == (host, port):
                print(f"udp {size} bytes to {host}:{port}: echoed exactly")
                ok += 1
            else:
                print(f"udp {size} bytes to {host}:{port}: got {len(reply)} bytes from {peer},"
                      " not the same")
            break
        else:
            print(f"udp {size} bytes to {host}:{port}: no reply after 3 tries")
    return 0 if ok == len(sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
