#!/usr/bin/env python3
"""Host-side peer of the differential socket suite (runs in the peer netns).

tcp 7001 echo | tcp 7002 reset at once (linger 0) | tcp 7003 send "hello\\n"
then close | tcp 7004 accept and hold, never read | udp 7001 echo |
udp 7005 reply with the datagram length | tcp 7006 read one line "PORT n",
connect back to the client's address on port n, send "back\\n", close |
tcp 7007, 7008 echo (for the Nagle wire check).
Prints READY when every port listens. Exits after --seconds.
"""
import socket
import struct
import sys
import threading
import time

held = []


def serve_tcp(port, handler, family=socket.AF_INET6):
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("", port))
    ls.listen(128)

    def loop():
        while True:
            c, addr = ls.accept()
            threading.Thread(target=handler, args=(c, addr), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def echo(c, addr):
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
    except OSError:
        pass
    c.close()


def reset(c, addr):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.05)
    c.close()


def hello(c, addr):
    c.sendall(b"hello\n")
    c.close()


def hold(c, addr):
    held.append(c)


def back(c, addr):
    f = c.makefile("rb")
    line = f.readline().decode().split()
    try:
        host = addr[0]
        if host.startswith("::ffff:"):
            host = host[7:]
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        b = socket.socket(fam, socket.SOCK_STREAM)
        b.settimeout(5)
        b.connect((host, int(line[1])) if fam == socket.AF_INET else (host, int(line[1]), 0, addr[3]))
        b.sendall(b"back\n")
        b.close()
        c.sendall(b"ok\n")
    except OSError as e:
        c.sendall(("err %s\n" % e.errno).encode())
    c.close()


def serve_udp(port, reply):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("", port))

    def loop():
        while True:
            b, addr = s.recvfrom(65536)
            s.sendto(reply(b), addr)

    threading.Thread(target=loop, daemon=True).start()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 300
    serve_tcp(7001, echo)
    serve_tcp(7002, reset)
    serve_tcp(7003, hello)
    serve_tcp(7004, hold)
    serve_tcp(7006, back)
    serve_tcp(7007, echo)  # Nagle on the wire
    serve_tcp(7008, echo)  # TCP_NODELAY on the wire
    serve_udp(7001, lambda b: b)
    serve_udp(7005, lambda b: str(len(b)).encode())
    print("READY", flush=True)
    time.sleep(seconds)


main()
