/*
 * bench/lwip_bsd.h — the lwIP build of netbench: the host's socket headers
 * for types and constants (Debian builds lwIP with
 * LWIP_SOCKET_EXTERNAL_HEADERS, so the values are Linux's), lwIP's
 * declarations, then the plain BSD names mapped onto lwip_*, as an IDF
 * build does with LWIP_COMPAT_SOCKETS (which Debian's lwipopts.h turns off).
 * lwIP numbers its sockets from 1, so they overlap host descriptors: every
 * descriptor netbench touches through these names is an lwIP socket.
 */
#ifndef BENCH_LWIP_BSD_H
#define BENCH_LWIP_BSD_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/* glibc's <netinet/tcp.h> has a legacy TCP_MSS (512) that lwipopts.h
 * redefines (1460): the clash behind docs/DESIGN.md D12. Nothing here uses it. */
#undef TCP_MSS
#include "lwip/sockets.h"

/* bench/lwip_tapif.c: start lwIP's tcpip thread and one TAP interface. */
int bench_lwip_up(const char *tap, const char *ip, const char *mask, const char *gw);

#define socket(d, t, p) lwip_socket(d, t, p)
#define connect(s, a, l) lwip_connect(s, a, l)
#define send(s, b, n, f) lwip_send(s, b, n, f)
#define recv(s, b, n, f) lwip_recv(s, b, n, f)
#define shutdown(s, h) lwip_shutdown(s, h)
#define setsockopt(s, l, o, v, n) lwip_setsockopt(s, l, o, v, n)
#define close(s) lwip_close(s)

#endif /* BENCH_LWIP_BSD_H */
