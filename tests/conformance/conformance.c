/*
 * Differential conformance cases for the BSD socket API. Built twice: with
 * libc (kernel sockets) and with -DGONETIF_TARGET against gonetif's headers
 * and archive. Each case prints one line: name, return value, errno name,
 * data. run.sh compares the two outputs line by line.
 *
 * The device is 192.168.77.2 (interface tp0, MAC 02:12:34:56:78:ab); the
 * peer (peer.py) is 192.168.77.1, MAC 02:00:00:00:77:01. Only the set-up
 * differs between the builds.
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* <linux/sockios.h>'s, without its kernel headers. */
#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

#ifdef GONETIF_TARGET
#include "esp_netif.h"
#include "lwip/sockets.h"
#include "lwip/tapif.h"
#include "tapio.h"
#endif

#define DEV_IP "192.168.77.2"
#define PEER_IP "192.168.77.1"
#define PEER_LL "fe80::ff:fe00:7701"
#define DEV_LL "fe80::12:34ff:fe56:78ab"
#define NOWHERE_IP "192.168.77.99" /* on the link, nobody answers */
#define IFNAME "tp0"

enum { P_ECHO = 7001, P_RESET = 7002, P_HELLO = 7003, P_HOLD = 7004, P_LEN = 7005, P_BACK = 7006, P_NONE = 7999 };

static int ncases;
static char section[32];

/* ---- reporting ---------------------------------------------------------- */

static const char *ename(int e)
{
    switch (e) {
#define E(x) case x: return #x;
        E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST)
        E(ENODEV) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EPIPE) E(EDOM) E(ERANGE) E(ENOSYS) E(ENOTSOCK)
        E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT)
        E(EOPNOTSUPP) E(EPFNOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN)
        E(ENETUNREACH) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT)
        E(ECONNREFUSED) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ENOSPC) E(ENXIO)
#undef E
    case 0:
        return "0";
    }
    static char buf[16];
    snprintf(buf, sizeof(buf), "E%d", e);
    return buf;
}

static void out(const char *name, const char *fmt, ...)
{
    char full[96];
    snprintf(full, sizeof(full), "%s.%s", section, name);
    printf("%-44s ", full);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    ncases++;
}

/* A call's result: "= n" or "-1 ENAME". */
static void res(const char *name, long r, int e, const char *extra)
{
    if (r < 0) {
        out(name, "-1 %s%s%s", ename(e), extra ? " " : "", extra ? extra : "");
    } else {
        out(name, "= %ld%s%s", r, extra ? " " : "", extra ? extra : "");
    }
}

#define CHECK(name, expr)                                                                                              \
    do {                                                                                                               \
        errno = 0;                                                                                                     \
        long r_ = (long)(expr);                                                                                        \
        res(name, r_, errno, NULL);                                                                                    \
    } while (0)

/* For calls returning a descriptor: "fd" instead of its number. */
#define CHECKFD(name, expr, var)                                                                                       \
    do {                                                                                                               \
        errno = 0;                                                                                                     \
        var = (expr);                                                                                                  \
        if (var >= 0)                                                                                                  \
            out(name, "fd");                                                                                           \
        else                                                                                                           \
            res(name, var, errno, NULL);                                                                               \
    } while (0)

#define SECTION(s) snprintf(section, sizeof(section), "%s", s)

/* ---- helpers ------------------------------------------------------------ */

static struct sockaddr_in sin4(const char *ip, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 sin6(const char *ip, int port)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    if (IN6_IS_ADDR_LINKLOCAL(&a.sin6_addr)) {
        a.sin6_scope_id = if_nametoindex(IFNAME);
    }
    return a;
}

#define SA(a) ((struct sockaddr *)&(a))

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* poll one descriptor; returns revents (0 on timeout). */
static int wait_ev(int fd, short ev, int ms)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int r = poll(&p, 1, ms);
    return r > 0 ? p.revents : r;
}

static int tcp_to(const char *ip, int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = sin4(ip, port);
    if (s >= 0 && connect(s, SA(a), sizeof(a)) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static int udp_sock(void)
{
    return socket(AF_INET, SOCK_DGRAM, 0);
}

/* A listener on the device's own address, port chosen by the stack. */
static int listener(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = sin4(DEV_IP, 0);
    socklen_t n = sizeof(a);
    if (bind(s, SA(a), sizeof(a)) || listen(s, 16) || getsockname(s, SA(a), &n)) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    return s;
}

/* A connected pair over the stack: client c, accepted a. */
static int local_pair(int *c, int *a)
{
    int port;
    int l = listener(&port);
    *c = tcp_to(DEV_IP, port);
    *a = accept(l, NULL, NULL);
    close(l);
    return *c >= 0 && *a >= 0 ? 0 : -1;
}

/* Reads until n bytes or EOF/error/2 s, for comparing data. */
static int read_n(int s, char *buf, int n)
{
    int got = 0;
    while (got < n) {
        if (wait_ev(s, POLLIN, 2000) <= 0) {
            break;
        }
        ssize_t r = recv(s, buf + got, n - got, 0);
        if (r <= 0) {
            break;
        }
        got += (int)r;
    }
    return got;
}

static void show_data(const char *name, long r, int e, const char *buf)
{
    char data[80];
    int n = r > 0 ? (int)(r < 60 ? r : 60) : 0;
    snprintf(data, sizeof(data), "'%.*s'", n, buf);
    for (char *p = data; *p; p++) {
        if (*p == '\n') {
            *p = '_';
        }
    }
    res(name, r, e, data);
}

#define CHECKDATA(name, expr, buf)                                                                                     \
    do {                                                                                                               \
        errno = 0;                                                                                                     \
        memset(buf, 0, sizeof(buf));                                                                                   \
        long r_ = (long)(expr);                                                                                        \
        show_data(name, r_, errno, buf);                                                                               \
    } while (0)

static const char *addr_str(const struct sockaddr *sa, socklen_t n)
{
    static char buf[80];
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(buf, sizeof(buf), "len=%u %s:%s", n, ip, ntohs(a->sin_port) ? "port" : "0");
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        snprintf(buf, sizeof(buf), "len=%u [%s]:%s", n, ip, ntohs(a->sin6_port) ? "port" : "0");
    } else {
        snprintf(buf, sizeof(buf), "len=%u family=%d", n, sa->sa_family);
    }
    return buf;
}

static void show_name(const char *name, int s, int peer)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t n = sizeof(ss);
    errno = 0;
    int r = peer ? getpeername(s, SA(ss), &n) : getsockname(s, SA(ss), &n);
    res(name, r, errno, r == 0 ? addr_str(SA(ss), n) : NULL);
}

static void show_int_opt(const char *name, int s, int level, int opt)
{
    int v = -12345;
    socklen_t n = sizeof(v);
    errno = 0;
    int r = getsockopt(s, level, opt, &v, &n);
    char extra[48];
    snprintf(extra, sizeof(extra), "v=%d len=%u", v, n);
    res(name, r, errno, r == 0 ? extra : NULL);
}

static int set_int(int s, int level, int opt, int v)
{
    return setsockopt(s, level, opt, &v, sizeof(v));
}

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* ---- set-up ------------------------------------------------------------- */

static int setup(void)
{
#ifdef GONETIF_TARGET
    if (esp_netif_init() != ESP_OK) {
        return -1;
    }
    void *drv = tapio_create();
    if (!drv) {
        return -1;
    }
    esp_netif_ip_info_t info = {.ip = {.addr = ipaddr_addr(DEV_IP)},
                                .netmask = {.addr = ipaddr_addr("255.255.255.0")},
                                .gw = {.addr = ipaddr_addr(PEER_IP)}};
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &info, .if_key = "TAP0", .if_desc = "tap", .route_prio = 100};
    esp_netif_driver_ifconfig_t driver = {.handle = drv, .transmit = tapio_output};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    esp_netif_t *n = esp_netif_new(&cfg);
    if (!n || esp_netif_attach(n, drv) != ESP_OK) {
        return -1;
    }
#endif
    /* Wait for the link (docs/DESIGN.md D9): the peer's echo answers. */
    for (int i = 0; i < 100; i++) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = sin4(PEER_IP, P_ECHO);
        connect(s, SA(a), sizeof(a));
        int ok = wait_ev(s, POLLOUT, 200) == POLLOUT;
        close(s);
        if (ok) {
            return 0;
        }
        msleep(100);
    }
    return -1;
}

/* ---- item 7: bad input -------------------------------------------------- */

static void t_bad_input(void)
{
    SECTION("bad");
    int s, pfd[2];
    if (pipe(pfd)) {
        abort();
    }
    CHECK("socket_family_unspec", socket(AF_UNSPEC, SOCK_STREAM, 0));
    CHECK("socket_family_bogus", socket(12345, SOCK_STREAM, 0));
    CHECK("socket_type_bogus", socket(AF_INET, 99, 0));
    CHECK("socket_type_seqpacket", socket(AF_INET, SOCK_SEQPACKET, 0));
    CHECK("socket_stream_udp", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    CHECK("socket_dgram_tcp", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    CHECK("socket_v6_dgram_tcp", socket(AF_INET6, SOCK_DGRAM, IPPROTO_TCP));

    struct sockaddr_in a = sin4(DEV_IP, 0);
    CHECK("bind_minus1", bind(-1, SA(a), sizeof(a)));
    CHECK("bind_never_opened", bind(900, SA(a), sizeof(a)));
    CHECK("bind_pipe", bind(pfd[0], SA(a), sizeof(a)));
    CHECK("connect_pipe", connect(pfd[0], SA(a), sizeof(a)));
    CHECK("listen_pipe", listen(pfd[0], 1));
    CHECK("accept_pipe", accept(pfd[0], NULL, NULL));
    CHECK("send_pipe", send(pfd[1], "x", 1, 0));
    CHECK("recv_pipe", recv(pfd[0], (char[4]){0}, 4, MSG_DONTWAIT));
    CHECK("shutdown_pipe", shutdown(pfd[0], SHUT_RD));
    int v = 1;
    CHECK("setsockopt_pipe", setsockopt(pfd[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
    socklen_t vl = sizeof(v);
    CHECK("getsockopt_pipe", getsockopt(pfd[0], SOL_SOCKET, SO_TYPE, &v, &vl));
    struct sockaddr_in n4;
    socklen_t nl = sizeof(n4);
    CHECK("getsockname_pipe", getsockname(pfd[0], SA(n4), &nl));
    CHECK("getpeername_badfd", getpeername(901, SA(n4), &nl));

    s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("bind_null", bind(s, NULL, sizeof(a)));
    CHECK("bind_short", bind(s, SA(a), 4));
    CHECK("bind_len0", bind(s, SA(a), 0));
    struct sockaddr_in6 a6 = sin6("::", 0);
    CHECK("bind_v6_addr_on_v4", bind(s, SA(a6), sizeof(a6)));
    struct sockaddr_in bogus = a;
    bogus.sin_family = 77;
    CHECK("bind_bogus_family", bind(s, SA(bogus), sizeof(bogus)));
    struct sockaddr_in other = sin4("10.9.9.9", 0);
    CHECK("bind_foreign_addr", bind(s, SA(other), sizeof(other)));
    CHECK("connect_null", connect(s, NULL, sizeof(a)));
    CHECK("connect_short", connect(s, SA(a), 3));
    CHECK("bind_null_len0", bind(s, NULL, 0));
    CHECK("connect_null_len0", connect(s, NULL, 0));
    CHECK("accept_not_listening", accept(s, NULL, NULL));
    CHECK("recv_not_connected", recv(s, (char[4]){0}, 4, MSG_DONTWAIT));
    CHECK("send_not_connected", send(s, "x", 1, MSG_NOSIGNAL));
    CHECK("getpeername_not_connected", getpeername(s, SA(n4), &nl));
    CHECK("shutdown_not_connected", shutdown(s, SHUT_RDWR));
    CHECK("shutdown_bad_how", shutdown(s, 7));
    CHECK("getsockname_null_addr", getsockname(s, NULL, &nl));
    CHECK("getsockname_null_len", getsockname(s, SA(n4), NULL));
    CHECK("setsockopt_null", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(int)));
    CHECK("setsockopt_short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    CHECK("setsockopt_tcp_short", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, 2));
    CHECK("setsockopt_unknown", setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)));
    CHECK("setsockopt_unknown_level", setsockopt(s, 4321, 1, &v, sizeof(v)));
    vl = sizeof(v);
    CHECK("getsockopt_unknown", getsockopt(s, SOL_SOCKET, 9999, &v, &vl));
    CHECK("getsockopt_null_len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, NULL));
    vl = 0;
    v = -7;
    errno = 0;
    int r = getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl);
    char extra[32];
    snprintf(extra, sizeof(extra), "v=%d len=%u", v, vl);
    res("getsockopt_len0", r, errno, extra);
    CHECK("listen_udp", listen(udp_sock(), 1)); /* leaks one fd on purpose: closed at exit */
    CHECK("close_twice_1", close(s));
    CHECK("close_twice_2", close(s));
    CHECK("read_closed", read(s, &v, 1));
    CHECK("fcntl_closed", fcntl(s, F_GETFL));
    CHECK("ioctl_closed", ioctl(s, FIONREAD, &v));

    s = udp_sock();
    CHECK("sendto_udp_no_addr", sendto(s, "x", 1, 0, NULL, 0));
    struct sockaddr_in pa = sin4(PEER_IP, P_ECHO);
    CHECK("sendto_udp_short_addr", sendto(s, "x", 1, 0, SA(pa), 8));
    CHECK("sendto_udp_null_buf", sendto(s, NULL, 4, 0, SA(pa), sizeof(pa)));
    CHECK("accept_udp", accept(s, NULL, NULL));
    CHECK("shutdown_udp_unconnected", shutdown(s, SHUT_RD));
    CHECK("recv_udp_nothing", recv(s, &v, sizeof(v), MSG_DONTWAIT));
    CHECK("ioctl_unknown", ioctl(s, 0x5499, &v));
    CHECK("fcntl_getfd", fcntl(s, F_GETFD) & FD_CLOEXEC);
    close(s);

    struct pollfd p = {.fd = 902, .events = POLLIN};
    errno = 0;
    r = poll(&p, 1, 0);
    snprintf(extra, sizeof(extra), "revents=%#x", p.revents);
    res("poll_never_opened", r, errno, extra);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(903, &rd);
    struct timeval tv = {0, 0};
    CHECK("select_never_opened", select(904, &rd, NULL, NULL, &tv));
    CHECK("select_negative_nfds", select(-1, NULL, NULL, NULL, &tv));
    close(pfd[0]);
    close(pfd[1]);
}

/* ---- misuse: NULL, oversized and negative arguments ---------------------
 * What Linux answers when a caller passes pointers and lengths it should
 * not; the C side must answer the same and never read past what it was
 * given. */

/* A UDP socket bound to the device with one datagram from itself queued. */
static int udp_with_datagram(const char *payload)
{
    int s = udp_sock();
    struct sockaddr_in me = sin4(DEV_IP, 0);
    socklen_t n = sizeof(me);
    if (bind(s, SA(me), sizeof(me)) || getsockname(s, SA(me), &n)) {
        return -1;
    }
    sendto(s, payload, strlen(payload), 0, SA(me), sizeof(me));
    wait_ev(s, POLLIN, 2000);
    return s;
}

/* Called through pointers and volatile values, so that neither the
 * compiler's checks nor _FORTIFY_SOURCE stop the misuse before the call. */
static int (*volatile poll_p)(struct pollfd *, nfds_t, int) = poll;
static ssize_t (*volatile readv_p)(int, const struct iovec *, int) = readv;
static ssize_t (*volatile writev_p)(int, const struct iovec *, int) = writev;
static void *volatile null_p;
static volatile int minus1 = -1;

static void t_misuse(void)
{
    SECTION("misuse");
    char buf[64], extra[96];
    int c, a, r;
    if (local_pair(&c, &a) != 0) {
        out("pair", "failed");
        return;
    }
    int u = udp_sock();

    /* poll */
    CHECK("poll_null_1", poll_p(null_p, 1, 0));
    CHECK("poll_null_0", poll_p(null_p, 0, 0));
    struct pollfd one = {.fd = u, .events = POLLOUT};
    /* nfds is an unsigned int in the kernel: the high bits are dropped. */
    errno = 0;
    r = poll_p(&one, (nfds_t)1 << 40, 0);
    snprintf(extra, sizeof(extra), "revents=%#x", one.revents);
    res("poll_nfds_2pow40", r, errno, extra);
    one.revents = 0;
    errno = 0;
    r = poll_p(&one, ((nfds_t)1 << 40) + 1, 0);
    snprintf(extra, sizeof(extra), "revents=%#x", one.revents);
    res("poll_nfds_2pow40_plus1", r, errno, extra);
    CHECK("poll_nfds_over_rlimit", poll_p(&one, 0x7fffffff, 0));
    struct pollfd two[2] = {{.fd = -1, .events = POLLIN}, {.fd = u, .events = POLLOUT}};
    errno = 0;
    r = poll(two, 2, 0);
    snprintf(extra, sizeof(extra), "revents=%#x,%#x", two[0].revents, two[1].revents);
    res("poll_negative_fd_ignored", r, errno, extra);
    struct timespec bad_ts = {0, 2000000000L};
    CHECK("ppoll_bad_timeout", ppoll(&one, 1, &bad_ts, NULL));

    /* sendmsg / recvmsg */
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    CHECK("sendmsg_null_msg", sendmsg(c, NULL, MSG_NOSIGNAL));
    CHECK("recvmsg_null_msg", recvmsg(c, NULL, MSG_DONTWAIT));
    m.msg_iov = NULL;
    m.msg_iovlen = 1;
    CHECK("sendmsg_null_iov_len1", sendmsg(c, &m, MSG_NOSIGNAL));
    CHECK("recvmsg_null_iov_len1", recvmsg(c, &m, MSG_DONTWAIT));
    m.msg_iovlen = 0;
    CHECK("sendmsg_null_iov_len0", sendmsg(c, &m, MSG_NOSIGNAL));
    static struct iovec many[100000];
    static char bytes[2048];
    for (int i = 0; i < 100000; i++) {
        many[i].iov_base = bytes + (i % 2048);
        many[i].iov_len = 1;
    }
    m.msg_iov = many;
    m.msg_iovlen = 100000;
    CHECK("sendmsg_iovlen_100000", sendmsg(c, &m, MSG_NOSIGNAL));
    CHECK("recvmsg_iovlen_100000", recvmsg(c, &m, MSG_DONTWAIT));
    m.msg_iovlen = 1025;
    CHECK("sendmsg_iovlen_1025", sendmsg(c, &m, MSG_NOSIGNAL));
    CHECK("recvmsg_iovlen_1025", recvmsg(c, &m, MSG_DONTWAIT));
    m.msg_iovlen = 1024;
    CHECK("sendmsg_iovlen_1024", sendmsg(c, &m, MSG_NOSIGNAL));
    CHECK("recv_the_1024", read_n(a, bytes, 1024));
    struct iovec nullbase = {.iov_base = NULL, .iov_len = 4};
    m.msg_iov = &nullbase;
    m.msg_iovlen = 1;
    CHECK("sendmsg_iov_base_null", sendmsg(c, &m, MSG_NOSIGNAL));
    struct iovec fine = {.iov_base = buf, .iov_len = sizeof(buf)};
    memset(&m, 0, sizeof(m));
    m.msg_iov = &fine;
    m.msg_iovlen = 1;
    m.msg_name = &(struct sockaddr_in){0};
    m.msg_namelen = (socklen_t)-1;
    CHECK("recvmsg_namelen_minus1", recvmsg(c, &m, MSG_DONTWAIT));
    struct sockaddr_storage big;
    memset(&big, 0, sizeof(big));
    struct sockaddr_in dst = sin4(PEER_IP, P_ECHO);
    memcpy(&big, &dst, sizeof(dst));
    m.msg_name = &big;
    m.msg_namelen = (socklen_t)-1;
    CHECK("sendmsg_udp_namelen_minus1", sendmsg(u, &m, 0));

    /* readv / writev */
    CHECK("readv_null_iov", readv_p(c, null_p, 1));
    CHECK("writev_null_iov", writev_p(c, null_p, 1));
    CHECK("readv_null_iov_cnt0", readv_p(c, null_p, 0));
    CHECK("writev_null_iov_cnt0", writev_p(c, null_p, 0));
    CHECK("readv_negative_cnt", readv_p(c, &fine, minus1));
    CHECK("writev_cnt_1025", writev_p(c, many, 1025));
    CHECK("readv_cnt_1025", readv_p(c, many, 1025));
    CHECK("writev_base_null", writev_p(c, &nullbase, 1));

    /* zero-length receives */
    CHECK("recv_len0_dontwait_empty", recv(c, buf, 0, MSG_DONTWAIT));
    CHECK("recv_len0_null_buf", recv(c, null_p, 0, MSG_DONTWAIT));
    CHECK("read_len0", read(c, buf, 0));
    send(a, "xy", 2, 0);
    wait_ev(c, POLLIN, 2000);
    CHECK("recv_len0_data_waiting", recv(c, buf, 0, 0));
    CHECKDATA("recv_data_kept", recv(c, buf, sizeof(buf), MSG_DONTWAIT), buf);
    CHECK("recv_len0_udp_empty", recv(u, buf, 0, MSG_DONTWAIT));
    int d = udp_with_datagram("dgram");
    CHECK("recv_len0_udp_datagram", recv(d, buf, 0, MSG_DONTWAIT));
    CHECK("recv_udp_after_len0", recv(d, buf, sizeof(buf), MSG_DONTWAIT));
    close(d);

    /* address lengths */
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in anyport = sin4(DEV_IP, 0);
    memset(&big, 0, sizeof(big));
    memcpy(&big, &anyport, sizeof(anyport));
    CHECK("bind_len_1000", bind(t, SA(big), 1000));
    CHECK("bind_len_minus1", bind(t, SA(big), (socklen_t)-1));
    CHECK("bind_len_129", bind(t, SA(big), sizeof(big) + 1));
    memset(&big, 0, sizeof(big));
    memcpy(&big, &dst, sizeof(dst));
    CHECK("connect_len_1000", connect(t, SA(big), 1000));
    CHECK("connect_len_minus1", connect(t, SA(big), (socklen_t)-1));
    CHECK("connect_len_128", connect(t, SA(big), sizeof(big)));
    CHECK("sendto_len_1000", sendto(u, "x", 1, 0, SA(big), 1000));
    CHECK("sendto_len_minus1", sendto(u, "x", 1, 0, SA(big), (socklen_t)-1));
    socklen_t len = (socklen_t)-1;
    struct sockaddr_storage name;
    CHECK("getsockname_len_minus1", getsockname(c, SA(name), &len));
    len = (socklen_t)-1;
    CHECK("getpeername_len_minus1", getpeername(c, SA(name), &len));
    len = 0;
    errno = 0;
    r = getsockname(c, SA(name), &len);
    snprintf(extra, sizeof(extra), "len=%u", len);
    res("getsockname_len0", r, errno, extra);
    d = udp_with_datagram("lost?");
    len = (socklen_t)-1;
    CHECK("recvfrom_len_minus1", recvfrom(d, buf, sizeof(buf), MSG_DONTWAIT, SA(name), &len));
    CHECK("recvfrom_after_len_minus1", recv(d, buf, sizeof(buf), MSG_DONTWAIT));
    close(d);
    CHECK("sendto_tcp_len_1000", sendto(c, "x", 1, MSG_NOSIGNAL, SA(big), 1000));
    CHECK("sendto_tcp_len_minus1", sendto(c, "x", 1, MSG_NOSIGNAL, SA(big), (socklen_t)-1));
    send(a, "zz", 2, 0);
    wait_ev(c, POLLIN, 2000);
    len = (socklen_t)-1;
    CHECK("recvfrom_tcp_len_minus1", recvfrom(c, buf, sizeof(buf), MSG_DONTWAIT, SA(name), &len));
    CHECK("recv_after_tcp_len_minus1", recv(c, buf, sizeof(buf), MSG_DONTWAIT));
    recv(c, buf, sizeof(buf), MSG_DONTWAIT); /* whatever of "x" echoed back is not ours to check */
    int port;
    int l = listener(&port);
    int cc = tcp_to(DEV_IP, port);
    wait_ev(l, POLLIN, 2000);
    len = (socklen_t)-1;
    CHECK("accept_len_minus1", accept(l, SA(name), &len));
    fcntl(l, F_SETFL, O_NONBLOCK);
    int again;
    CHECKFD("accept_after_len_minus1", accept(l, NULL, NULL), again);
    if (again >= 0) {
        close(again);
    }
    close(cc);
    close(l);
    int v = 1;
    CHECK("setsockopt_len_huge", setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &(int[16]){1}, 1u << 20));
    len = 1u << 20;
    errno = 0;
    int ty[16] = {0};
    r = getsockopt(u, SOL_SOCKET, SO_TYPE, ty, &len);
    snprintf(extra, sizeof(extra), "v=%d len=%u", ty[0], len);
    res("getsockopt_len_huge", r, errno, extra);
    CHECK("setsockopt_len_minus1", setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &v, (socklen_t)-1));
    struct timeval tvo = {1, 0};
    CHECK("setsockopt_rcvtimeo_len_minus1", setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tvo, (socklen_t)-1));
    CHECK("setsockopt_rcvtimeo_null_len0", setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, NULL, 0));
    len = (socklen_t)-1;
    CHECK("getsockopt_rcvtimeo_len_minus1", getsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tvo, &len));
    len = (socklen_t)-1;
    CHECK("getsockopt_bindtodevice_len_minus1", getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, buf, &len));
    CHECK("setsockopt_bindtodevice_len_minus1", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, IFNAME, (socklen_t)-1));
    CHECK("send_oob_udp", sendto(u, "x", 1, MSG_OOB, SA(dst), sizeof(dst)));
    len = (socklen_t)-1;
    CHECK("getsockopt_len_minus1", getsockopt(u, SOL_SOCKET, SO_TYPE, &v, &len));
    close(t);
    /* IPv6: the shortest sockaddr_in6 is RFC 2133's 24 bytes, and the
     * length is checked before the family. */
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 any6 = sin6("::", 0);
    struct sockaddr_in any4 = sin4("0.0.0.0", 0);
    CHECK("bind6_v4_addr_len16", bind(s6, SA(any4), sizeof(any4)));
    CHECK("bind6_len23", bind(s6, SA(any6), 23));
    CHECK("bind6_len24", bind(s6, SA(any6), 24));
    close(s6);

    /* flags */
    CHECK("recv_oob_tcp", recv(c, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT));
    CHECK("recv_oob_udp", recv(u, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT));
    t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("recv_oob_unconnected", recv(t, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT));
    close(t);

    close(u);
    close(c);
    close(a);
}

/* Ephemeral ports run out (run.sh narrows the range to 16 ports for this
 * run only): connect gives EADDRNOTAVAIL, as Linux. */
static void t_ports(void)
{
    SECTION("ports");
    int s[40], got = 0, err = 0;
    for (int i = 0; i < 40; i++) {
        s[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = sin4(PEER_IP, P_HOLD);
        errno = 0;
        if (connect(s[i], SA(to), sizeof(to)) == 0) {
            got++;
        } else if (!err) {
            err = errno;
        }
    }
    out("connect_until_exhausted", "%s after %d connects", ename(err), got);
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sin4(DEV_IP, 0);
    CHECK("bind_port0_exhausted", bind(b, SA(any), sizeof(any)));
    close(b);
    for (int i = 0; i < 40; i++) {
        close(s[i]);
    }
}

/* ---- inet_* and if_* ------------------------------------------------------- */

static void t_inet(void)
{
    SECTION("inet");
    struct in_addr ia;
    struct in6_addr i6;
    char buf[INET6_ADDRSTRLEN];
    CHECK("pton4_ok", inet_pton(AF_INET, "10.1.2.3", &ia));
    CHECK("pton4_bad", inet_pton(AF_INET, "10.1.2", &ia));
    CHECK("pton4_octal_rejected", inet_pton(AF_INET, "010.1.2.3", &ia));
    CHECK("pton6_ok", inet_pton(AF_INET6, "fe80::1", &i6));
    CHECK("pton6_mapped", inet_pton(AF_INET6, "::ffff:1.2.3.4", &i6));
    CHECK("pton6_bad", inet_pton(AF_INET6, "fe80:::1", &i6));
    CHECK("pton_bad_family", inet_pton(99, "1.2.3.4", &ia));
    inet_pton(AF_INET, "192.168.1.20", &ia);
    errno = 0;
    const char *p = inet_ntop(AF_INET, &ia, buf, sizeof(buf));
    out("ntop4", "%s", p ? p : ename(errno));
    errno = 0;
    p = inet_ntop(AF_INET, &ia, buf, 5);
    out("ntop4_short", "%s", p ? p : ename(errno));
    inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", &i6);
    p = inet_ntop(AF_INET6, &i6, buf, sizeof(buf));
    out("ntop6", "%s", p ? p : ename(errno));
    errno = 0;
    p = inet_ntop(99, &i6, buf, sizeof(buf));
    out("ntop_bad_family", "%s", p ? p : ename(errno));
    out("addr_ok", "%08x", (unsigned)ntohl(inet_addr("1.2.3.4")));
    out("addr_bad", "%08x", (unsigned)inet_addr("1.2.3.400"));
    out("addr_short_form", "%08x", (unsigned)ntohl(inet_addr("127.1")));
    int r = inet_aton("10.0.0.1", &ia);
    out("aton_ok", "%d %08x", r, (unsigned)ntohl(ia.s_addr));
    out("aton_bad", "%d", inet_aton("10.0.0.x", &ia));
    ia.s_addr = htonl(0xc0a80101);
    out("ntoa", "%s", inet_ntoa(ia));
    out("htons", "%04x", htons(0x1234));

    unsigned idx = if_nametoindex(IFNAME);
    out("nametoindex", "%s", idx > 0 ? "positive" : "0");
    errno = 0;
    unsigned none = if_nametoindex("nosuch9");
    out("nametoindex_unknown", "%u %s", none, ename(errno));
    char name[IF_NAMESIZE] = "";
    errno = 0;
    p = if_indextoname(idx, name);
    out("indextoname", "%s", p ? p : ename(errno));
    errno = 0;
    p = if_indextoname(4000, name);
    out("indextoname_unknown", "%s", p ? p : ename(errno));
}

/* ---- TCP with the peer ---------------------------------------------------- */

static void t_tcp_peer(void)
{
    SECTION("tcp");
    char buf[256];
    int s;
    struct sockaddr_in echo = sin4(PEER_IP, P_ECHO);
    CHECKFD("socket", socket(AF_INET, SOCK_STREAM, 0), s);
    show_name("getsockname_fresh", s, 0);
    CHECK("connect", connect(s, SA(echo), sizeof(echo)));
    CHECK("connect_again", connect(s, SA(echo), sizeof(echo)));
    struct sockaddr_in elsewhere = sin4(PEER_IP, P_LEN);
    CHECK("sendto_connected_tcp_other_addr", sendto(s, "", 0, 0, SA(elsewhere), sizeof(elsewhere)));
    CHECK("recv_peek_dontwait_empty", recv(s, buf, 4, MSG_PEEK | MSG_DONTWAIT));
    show_int_opt("so_error_connected", s, SOL_SOCKET, SO_ERROR);
    show_name("getpeername", s, 1);
    show_name("getsockname", s, 0);
    CHECK("send", send(s, "hello", 5, 0));
    CHECKDATA("recv", read_n(s, buf, 5), buf);
    CHECK("send_peek", send(s, "peekaboo", 8, 0));
    wait_ev(s, POLLIN, 2000);
    msleep(50);
    int nread = -1;
    CHECK("fionread", ioctl(s, FIONREAD, &nread) == 0 ? nread : -1);
    CHECKDATA("recv_peek", recv(s, buf, 4, MSG_PEEK), buf);
    CHECKDATA("recv_after_peek", recv(s, buf, 8, 0), buf);
    CHECK("recv_dontwait_empty", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    CHECK("send_part1", send(s, "abc", 3, 0));
    msleep(30);
    CHECK("send_part2", send(s, "defg", 4, 0));
    CHECKDATA("recv_waitall", recv(s, buf, 7, MSG_WAITALL), buf);
    CHECK("write", write(s, "wr", 2));
    CHECKDATA("read", read(s, buf, 2), buf);
    struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    CHECK("writev", writev(s, iov, 3));
    wait_ev(s, POLLIN, 2000);
    msleep(30);
    char v1[2], v2[8];
    memset(v2, 0, sizeof(v2));
    struct iovec riov[2] = {{v1, 2}, {v2, sizeof(v2)}};
    errno = 0;
    ssize_t r = readv(s, riov, 2);
    snprintf(buf, sizeof(buf), "'%.2s' '%s'", v1, v2);
    res("readv", r, errno, buf);
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    struct iovec siov[2] = {{"msg", 3}, {"hdr", 3}};
    mh.msg_iov = siov;
    mh.msg_iovlen = 2;
    CHECK("sendmsg", sendmsg(s, &mh, 0));
    wait_ev(s, POLLIN, 2000);
    msleep(30);
    char m1[4] = "", m2[8] = "";
    struct iovec rmiov[2] = {{m1, 3}, {m2, 7}};
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = rmiov;
    mh.msg_iovlen = 2;
    errno = 0;
    r = recvmsg(s, &mh, 0);
    snprintf(buf, sizeof(buf), "'%s' '%s' flags=%#x namelen=%u", m1, m2, mh.msg_flags, mh.msg_namelen);
    res("recvmsg", r, errno, buf);
    int ev = wait_ev(s, POLLIN | POLLOUT, 0);
    out("poll_idle", "%#x", ev);
    CHECK("shutdown_wr", shutdown(s, SHUT_WR));
    CHECK("send_after_shut_wr", send(s, "x", 1, MSG_NOSIGNAL));
    signal(SIGPIPE, on_sigpipe);
    sigpipes = 0;
    CHECK("send_after_shut_wr_sigpipe", send(s, "x", 1, 0));
    out("sigpipe_count", "%d", (int)sigpipes);
    sigpipes = 0;
    CHECK("write_after_shut_wr_sigpipe", write(s, "x", 1));
    out("sigpipe_count_write", "%d", (int)sigpipes);
    signal(SIGPIPE, SIG_IGN);
    out("poll_after_peer_fin", "%#x", wait_ev(s, POLLIN | POLLRDHUP, 2000));
    CHECK("recv_eof", recv(s, buf, sizeof(buf), 0));
    CHECK("recv_eof_again", recv(s, buf, sizeof(buf), 0));
    CHECK("close", close(s));

    /* Refused, reset, closed by the peer. */
    struct sockaddr_in none = sin4(PEER_IP, P_NONE);
    s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("connect_refused", connect(s, SA(none), sizeof(none)));
    show_int_opt("so_error_after_refused", s, SOL_SOCKET, SO_ERROR);
    CHECK("connect_after_refused", connect(s, SA(none), sizeof(none)));
    close(s);

    s = tcp_to(PEER_IP, P_RESET);
    out("poll_reset", "%#x", wait_ev(s, POLLIN, 2000) & POLLIN);
    msleep(50);
    CHECK("recv_reset", recv(s, buf, sizeof(buf), 0));
    CHECK("recv_after_reset", recv(s, buf, sizeof(buf), 0));
    CHECK("send_after_reset", send(s, "x", 1, MSG_NOSIGNAL));
    show_int_opt("so_error_after_reset", s, SOL_SOCKET, SO_ERROR);
    close(s);

    s = tcp_to(PEER_IP, P_HELLO);
    CHECKDATA("recv_hello", read_n(s, buf, 6), buf);
    wait_ev(s, POLLIN, 2000);
    CHECK("recv_hello_eof", recv(s, buf, sizeof(buf), 0));
    out("poll_hello_eof", "%#x", wait_ev(s, POLLIN | POLLOUT | POLLRDHUP, 0));
    close(s);

    /* Half-close: SHUT_RD reads EOF at once. */
    s = tcp_to(PEER_IP, P_ECHO);
    CHECK("shutdown_rd", shutdown(s, SHUT_RD));
    CHECK("recv_after_shut_rd", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    CHECK("send_after_shut_rd", send(s, "still", 5, 0));
    CHECK("shutdown_rdwr", shutdown(s, SHUT_RDWR));
    close(s);
}

/* ---- blocking modes and timeouts ------------------------------------------ */

static void t_modes(void)
{
    SECTION("mode");
    char buf[64];
    int s = tcp_to(PEER_IP, P_ECHO);
    int fl = fcntl(s, F_GETFL);
    out("getfl_default", "nonblock=%d accmode_rdwr=%d", !!(fl & O_NONBLOCK), (fl & O_ACCMODE) == O_RDWR);
    CHECK("setfl_nonblock", fcntl(s, F_SETFL, fl | O_NONBLOCK));
    fl = fcntl(s, F_GETFL);
    out("getfl_nonblock", "nonblock=%d", !!(fl & O_NONBLOCK));
    CHECK("recv_nonblock_empty", recv(s, buf, sizeof(buf), 0));
    CHECK("read_nonblock_empty", read(s, buf, sizeof(buf)));
    CHECK("accept_on_connected_nonblock", accept(s, NULL, NULL));
    CHECK("setfl_block", fcntl(s, F_SETFL, fl & ~O_NONBLOCK));
    int on = 1;
    CHECK("fionbio_on", ioctl(s, FIONBIO, &on));
    out("getfl_after_fionbio", "nonblock=%d", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
    CHECK("recv_fionbio_empty", recv(s, buf, sizeof(buf), 0));
    on = 0;
    CHECK("fionbio_off", ioctl(s, FIONBIO, &on));
    struct timeval tv = {0, 200000};
    CHECK("rcvtimeo_set", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
    struct timeval got = {9, 9};
    socklen_t gl = sizeof(got);
    errno = 0;
    int r = getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &gl);
    snprintf(buf, sizeof(buf), "%ld.%06ld len=%u", (long)got.tv_sec, (long)got.tv_usec, gl);
    res("rcvtimeo_get", r, errno, buf);
    CHECK("rcvtimeo_short_len", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, 4));
    struct timeval badtv = {0, 2000000};
    CHECK("rcvtimeo_bad_usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &badtv, sizeof(badtv)));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK("recv_timeout", recv(s, buf, sizeof(buf), 0));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    out("recv_timeout_waited", "%s", ms >= 150 && ms < 1000 ? "about 200ms" : "wrong");
    CHECK("sndtimeo_set", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
    CHECK("send_with_sndtimeo", send(s, "t", 1, 0));
    CHECK("recv_with_rcvtimeo_data", read_n(s, buf, 1));
    close(s);

    /* A peer that never reads: the send buffer fills. */
    s = tcp_to(PEER_IP, P_HOLD);
    static char big[65536];
    long total = 0;
    errno = 0;
    /* Fill until the window closes and stays closed. */
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 2000; i++) {
            ssize_t n = send(s, big, sizeof(big), MSG_DONTWAIT);
            if (n < 0) {
                break;
            }
            total += n;
        }
        msleep(150);
    }
    errno = EAGAIN;
    out("fill_dontwait", "%s %s", total > 0 ? "sent_some" : "none", ename(errno));
    out("poll_full", "%#x", wait_ev(s, POLLOUT, 0));
    struct timeval st = {0, 200000};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &st, sizeof(st));
    CHECK("send_full_sndtimeo", send(s, big, sizeof(big), 0));
    close(s);
}

/* ---- non-blocking connect -------------------------------------------------- */

static void t_connect(void)
{
    SECTION("connect");
    struct sockaddr_in echo = sin4(PEER_IP, P_ECHO), none = sin4(PEER_IP, P_NONE),
                       nowhere = sin4(NOWHERE_IP, P_ECHO);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("nb_connect", connect(s, SA(echo), sizeof(echo)));
    fd_set wr;
    FD_ZERO(&wr);
    FD_SET(s, &wr);
    struct timeval tv = {2, 0};
    CHECK("nb_select_writable", select(s + 1, NULL, &wr, NULL, &tv));
    out("nb_select_isset", "%d", FD_ISSET(s, &wr) != 0);
    show_int_opt("nb_so_error", s, SOL_SOCKET, SO_ERROR);
    CHECK("nb_connect_again", connect(s, SA(echo), sizeof(echo)));
    show_name("nb_getpeername", s, 1);
    close(s);

    s = socket(AF_INET, SOCK_STREAM, 0);
    fcntl(s, F_SETFL, O_NONBLOCK);
    CHECK("nb_refused", connect(s, SA(none), sizeof(none)));
    out("nb_refused_poll", "%#x", wait_ev(s, POLLOUT, 2000));
    show_int_opt("nb_refused_so_error", s, SOL_SOCKET, SO_ERROR);
    show_int_opt("nb_refused_so_error_again", s, SOL_SOCKET, SO_ERROR);
    out("nb_refused_poll_after", "%#x", wait_ev(s, POLLOUT, 0));
    close(s);

    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("nb_nowhere", connect(s, SA(nowhere), sizeof(nowhere)));
    CHECK("nb_nowhere_again", connect(s, SA(nowhere), sizeof(nowhere)));
    out("nb_nowhere_poll", "%#x", wait_ev(s, POLLOUT, 100));
    show_int_opt("nb_nowhere_so_error", s, SOL_SOCKET, SO_ERROR);
    CHECK("nb_nowhere_send", send(s, "x", 1, MSG_NOSIGNAL));
    CHECK("nb_nowhere_recv", recv(s, (char[4]){0}, 4, 0));
    close(s);

    s = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval st = {0, 200000};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &st, sizeof(st));
    CHECK("blocking_connect_sndtimeo", connect(s, SA(nowhere), sizeof(nowhere)));
    close(s);

    /* Off-link and dropped by the gateway: SYN retries run out. */
    struct sockaddr_in offlink = sin4("10.99.99.99", P_ECHO);
    s = socket(AF_INET, SOCK_STREAM, 0);
    show_int_opt("syncnt_default", s, IPPROTO_TCP, TCP_SYNCNT);
    CHECK("syncnt_set", set_int(s, IPPROTO_TCP, TCP_SYNCNT, 1));
    show_int_opt("syncnt_get", s, IPPROTO_TCP, TCP_SYNCNT);
    CHECK("syncnt_zero", set_int(s, IPPROTO_TCP, TCP_SYNCNT, 0));
    CHECK("connect_timedout", connect(s, SA(offlink), sizeof(offlink)));
    show_int_opt("so_error_after_timedout", s, SOL_SOCKET, SO_ERROR);
    close(s);

    /* connect to the device's own listener, and ephemeral ports. */
    int port;
    int l = listener(&port);
    s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in self = sin4(DEV_IP, port);
    CHECK("self_connect", connect(s, SA(self), sizeof(self)));
    struct sockaddr_in me;
    socklen_t ml = sizeof(me);
    getsockname(s, SA(me), &ml);
    out("ephemeral_port_nonzero", "%d", ntohs(me.sin_port) != 0);
    int a = accept(l, NULL, NULL);
    out("ephemeral_port_distinct", "%d", ntohs(me.sin_port) != port);
    close(a);
    close(s);
    close(l);
}

/* ---- listen / accept -------------------------------------------------------- */

static void *accept_thread(void *arg)
{
    int l = *(int *)arg;
    errno = 0;
    long r = accept(l, NULL, NULL);
    long e = r < 0 ? errno : 0;
    return (void *)(r < 0 ? -e : 1);
}

static void t_listen(void)
{
    SECTION("listen");
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sin4("0.0.0.0", 0);
    CHECK("bind_any_port0", bind(l, SA(any), sizeof(any)));
    CHECK("bind_twice", bind(l, SA(any), sizeof(any)));
    struct sockaddr_in me;
    socklen_t ml = sizeof(me);
    getsockname(l, SA(me), &ml);
    int port = ntohs(me.sin_port);
    out("bound_port_nonzero", "%d", port != 0);
    show_int_opt("acceptconn_before", l, SOL_SOCKET, SO_ACCEPTCONN);
    CHECK("listen", listen(l, 4));
    show_int_opt("acceptconn_after", l, SOL_SOCKET, SO_ACCEPTCONN);
    CHECK("listen_again", listen(l, 8));
    fcntl(l, F_SETFL, O_NONBLOCK);
    CHECK("accept_nb_empty", accept(l, NULL, NULL));
    out("poll_listener_empty", "%#x", wait_ev(l, POLLIN | POLLOUT, 0));
    struct sockaddr_in dst = sin4(DEV_IP, port);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("connect_to_listener", connect(c, SA(dst), sizeof(dst)));
    out("poll_listener_pending", "%#x", wait_ev(l, POLLIN | POLLOUT, 2000));
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof(peer));
    socklen_t pl = sizeof(peer);
    int a;
    CHECKFD("accept", accept(l, SA(peer), &pl), a);
    out("accept_peer", "%s", addr_str(SA(peer), pl));
    out("accepted_nonblock_flag", "%d", !!(fcntl(a, F_GETFL) & O_NONBLOCK));
    show_name("accepted_sockname", a, 0);
    CHECK("accepted_send", send(a, "hi", 2, 0));
    char buf[8] = "";
    CHECKDATA("client_recv", read_n(c, buf, 2), buf);
    close(a);
    close(c);
    /* accept with a short address buffer */
    c = tcp_to(DEV_IP, port);
    wait_ev(l, POLLIN, 2000);
    pl = 4;
    memset(&peer, 0, sizeof(peer));
    a = accept(l, SA(peer), &pl);
    out("accept_short_addrlen", "%s len=%u", a >= 0 ? "fd" : ename(errno), pl);
    close(a);
    close(c);
    CHECK("accept_null_addrlen", accept(l, SA(peer), NULL));
    c = tcp_to(DEV_IP, port);
    wait_ev(l, POLLIN, 2000);
    CHECKFD("accept4", accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), a);
    out("accept4_flags", "nonblock=%d cloexec=%d", !!(fcntl(a, F_GETFL) & O_NONBLOCK),
        !!(fcntl(a, F_GETFD) & FD_CLOEXEC));
    CHECK("accept4_recv_nonblock", recv(a, buf, sizeof(buf), 0));
    close(a);
    close(c);
    CHECK("accept4_bad_flags", accept4(l, NULL, NULL, 0x1234));

    /* Address reuse. */
    int l2 = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in same = sin4("0.0.0.0", port);
    CHECK("bind_in_use", bind(l2, SA(same), sizeof(same)));
    set_int(l2, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK("bind_in_use_reuseaddr_listening", bind(l2, SA(same), sizeof(same)));
    close(l2);
    close(l);
    /* A closed listener's port is free again (with SO_REUSEADDR). */
    l2 = socket(AF_INET, SOCK_STREAM, 0);
    set_int(l2, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK("bind_after_close_reuseaddr", bind(l2, SA(same), sizeof(same)));
    close(l2);
    int u1 = udp_sock(), u2 = udp_sock();
    struct sockaddr_in up = sin4(DEV_IP, 7777);
    CHECK("udp_bind", bind(u1, SA(up), sizeof(up)));
    CHECK("udp_bind_in_use", bind(u2, SA(up), sizeof(up)));
    close(u1);
    close(u2);

    /* Backlog: connections complete before accept. */
    l = listener(&port);
    int cs[3];
    for (int i = 0; i < 3; i++) {
        cs[i] = tcp_to(DEV_IP, port);
    }
    int accepted = 0;
    fcntl(l, F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        wait_ev(l, POLLIN, 2000);
        int x = accept(l, NULL, NULL);
        if (x >= 0) {
            accepted++;
            close(x);
        }
    }
    out("backlog_three", "connected=%d accepted=%d", (cs[0] >= 0) + (cs[1] >= 0) + (cs[2] >= 0), accepted);
    for (int i = 0; i < 3; i++) {
        close(cs[i]);
    }
    /* shutdown from another thread wakes a blocked accept. */
    fcntl(l, F_SETFL, 0);
    pthread_t th;
    pthread_create(&th, NULL, accept_thread, &l);
    msleep(100);
    CHECK("shutdown_listener", shutdown(l, SHUT_RDWR));
    void *ret;
    pthread_join(th, &ret);
    long rv = (long)ret;
    out("accept_woken", "%s", rv == 1 ? "fd" : ename((int)-rv));
    close(l);

    l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("listen_backlog_negative", listen(l, -5));
    show_int_opt("so_error_listener", l, SOL_SOCKET, SO_ERROR);
    CHECK("connect_on_listener", connect(l, SA(dst), sizeof(dst)));
    close(l);
    l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("listen_unbound", listen(l, 1));
    ml = sizeof(me);
    getsockname(l, SA(me), &ml);
    out("listen_unbound_port", "%d", ntohs(me.sin_port) != 0);
    close(l);
}

/* ---- threads ---------------------------------------------------------- */

struct rx {
    int fd;
    long r;
    int e;
    char buf[16];
};

static void *recv_thread(void *arg)
{
    struct rx *x = arg;
    errno = 0;
    x->r = recv(x->fd, x->buf, sizeof(x->buf) - 1, 0);
    x->e = errno;
    return NULL;
}

static void t_threads(void)
{
    SECTION("thread");
    enum { N = 32 };
    int c[N], a[N];
    struct rx x[N];
    pthread_t th[N];
    int ok = 0;
    for (int i = 0; i < N; i++) {
        ok += local_pair(&c[i], &a[i]) == 0;
        memset(&x[i], 0, sizeof(x[i]));
        x[i].fd = c[i];
        pthread_create(&th[i], NULL, recv_thread, &x[i]);
    }
    out("pairs", "%d", ok);
    msleep(100);
    for (int i = N - 1; i >= 0; i--) {
        char m[8];
        snprintf(m, sizeof(m), "m%d", i);
        send(a[i], m, strlen(m), 0);
    }
    int good = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        char m[8];
        snprintf(m, sizeof(m), "m%d", i);
        good += x[i].r == (long)strlen(m) && strcmp(x[i].buf, m) == 0;
    }
    out("blocked_receivers_all_woken", "%d", good);
    /* shutdown(SHUT_RD) from another thread wakes a blocked recv with 0. */
    memset(&x[0], 0, sizeof(x[0]));
    x[0].fd = c[0];
    pthread_create(&th[0], NULL, recv_thread, &x[0]);
    msleep(100);
    CHECK("shutdown_rd_other_thread", shutdown(c[0], SHUT_RD));
    pthread_join(th[0], NULL);
    res("recv_woken_by_shutdown", x[0].r, x[0].e, NULL);
    memset(&x[1], 0, sizeof(x[1]));
    x[1].fd = c[1];
    pthread_create(&th[1], NULL, recv_thread, &x[1]);
    msleep(100);
    CHECK("shutdown_rdwr_other_thread", shutdown(c[1], SHUT_RDWR));
    pthread_join(th[1], NULL);
    res("recv_woken_by_shutdown_rdwr", x[1].r, x[1].e, NULL);
    /* Peer close wakes a blocked recv with EOF. */
    memset(&x[2], 0, sizeof(x[2]));
    x[2].fd = c[2];
    pthread_create(&th[2], NULL, recv_thread, &x[2]);
    msleep(100);
    close(a[2]);
    a[2] = -1;
    pthread_join(th[2], NULL);
    res("recv_woken_by_peer_close", x[2].r, x[2].e, NULL);
    for (int i = 0; i < N; i++) {
        close(c[i]);
        if (a[i] >= 0) {
            close(a[i]);
        }
    }
}

/* ---- select/poll with host descriptors -------------------------------------------- */

struct kick {
    int fd;
    int ms;
};

static void *kick_thread(void *arg)
{
    struct kick *k = arg;
    msleep(k->ms);
    uint64_t one = 1;
    if (write(k->fd, &one, sizeof(one)) < 0) {
        abort();
    }
    return NULL;
}

static void t_mix(void)
{
    SECTION("mix");
    int pfd[2], s_ux;
    struct sockaddr_in p4 = sin4(DEV_IP, 0);
    if (pipe(pfd)) {
        abort();
    }
    int c, a;
    local_pair(&c, &a);
    struct pollfd p[2] = {{.fd = pfd[0], .events = POLLIN}, {.fd = c, .events = POLLIN}};
    CHECK("poll_none_ready", poll(p, 2, 50));
    if (write(pfd[1], "p", 1) != 1) {
        abort();
    }
    errno = 0;
    int r = poll(p, 2, 1000);
    char extra[48];
    snprintf(extra, sizeof(extra), "pipe=%#x sock=%#x", p[0].revents, p[1].revents);
    res("poll_pipe_ready", r, errno, extra);
    char ch;
    if (read(pfd[0], &ch, 1) != 1) {
        abort();
    }
    send(a, "s", 1, 0);
    errno = 0;
    r = poll(p, 2, 1000);
    snprintf(extra, sizeof(extra), "pipe=%#x sock=%#x", p[0].revents, p[1].revents);
    res("poll_sock_ready", r, errno, extra);
    if (write(pfd[1], "p", 1) != 1) {
        abort();
    }
    errno = 0;
    r = poll(p, 2, 1000);
    snprintf(extra, sizeof(extra), "pipe=%#x sock=%#x", p[0].revents, p[1].revents);
    res("poll_both_ready", r, errno, extra);
    read(pfd[0], &ch, 1);
    recv(c, &ch, 1, 0);

    fd_set rd, wr;
    struct timeval tv;
    int mx = (c > pfd[0] ? c : pfd[0]) + 1;
    FD_ZERO(&rd);
    FD_SET(pfd[0], &rd);
    FD_SET(c, &rd);
    tv.tv_sec = 0;
    tv.tv_usec = 50000;
    CHECK("select_none_ready", select(mx, &rd, NULL, NULL, &tv));
    out("select_none_sets", "pipe=%d sock=%d", FD_ISSET(pfd[0], &rd) != 0, FD_ISSET(c, &rd) != 0);
    send(a, "s", 1, 0);
    FD_ZERO(&rd);
    FD_SET(pfd[0], &rd);
    FD_SET(c, &rd);
    FD_ZERO(&wr);
    FD_SET(c, &wr);
    FD_SET(pfd[1], &wr);
    mx = c > pfd[1] ? c : pfd[1];
    mx = (mx > pfd[0] ? mx : pfd[0]) + 1;
    tv.tv_sec = 1;
    tv.tv_usec = 0;
    wait_ev(c, POLLIN, 1000);
    CHECK("select_sock_rw", select(mx, &rd, &wr, NULL, &tv));
    out("select_sock_rw_sets", "rd_pipe=%d rd_sock=%d wr_sock=%d wr_pipe=%d", FD_ISSET(pfd[0], &rd) != 0,
        FD_ISSET(c, &rd) != 0, FD_ISSET(c, &wr) != 0, FD_ISSET(pfd[1], &wr) != 0);
    recv(c, &ch, 1, 0);

    /* Another thread wakes a select blocked on a socket through an eventfd. */
    int efd = eventfd(0, 0);
    struct kick k = {efd, 100};
    pthread_t th;
    pthread_create(&th, NULL, kick_thread, &k);
    FD_ZERO(&rd);
    FD_SET(efd, &rd);
    FD_SET(c, &rd);
    mx = (c > efd ? c : efd) + 1;
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    CHECK("select_woken_by_eventfd", select(mx, &rd, NULL, NULL, &tv));
    out("select_woken_sets", "efd=%d sock=%d", FD_ISSET(efd, &rd) != 0, FD_ISSET(c, &rd) != 0);
    out("select_timeout_updated", "%d", tv.tv_sec < 5);
    pthread_join(th, NULL);
    /* ... and through a pipe, with poll. */
    k.fd = pfd[1];
    pthread_create(&th, NULL, kick_thread, &k);
    struct pollfd q[2] = {{.fd = c, .events = POLLIN}, {.fd = pfd[0], .events = POLLIN}};
    errno = 0;
    r = poll(q, 2, 5000);
    snprintf(extra, sizeof(extra), "sock=%#x pipe=%#x", q[0].revents, q[1].revents);
    res("poll_woken_by_pipe", r, errno, extra);
    pthread_join(th, NULL);
    uint64_t drain;
    read(pfd[0], &drain, sizeof(drain));
    /* A socket wakes a poll that also watches a pipe. */
    struct kick ks = {a, 100};
    pthread_create(&th, NULL, kick_thread, &ks);
    errno = 0;
    r = poll(q, 2, 5000);
    snprintf(extra, sizeof(extra), "sock=%#x pipe=%#x", q[0].revents, q[1].revents);
    res("poll_woken_by_socket", r, errno, extra);
    pthread_join(th, NULL);
    read_n(c, (char *)&drain, 8);
    /* Host descriptors keep libc's behaviour. */
    CHECK("host_write", write(pfd[1], "ab", 2));
    char two[3] = "";
    CHECKDATA("host_read", read(pfd[0], two, 2), two);
    CHECK("host_fcntl_setfl", fcntl(pfd[0], F_SETFL, O_NONBLOCK));
    CHECK("host_read_nonblock", read(pfd[0], two, 2));
    int nb = 0;
    CHECK("host_ioctl_fionread", ioctl(pfd[0], FIONREAD, &nb));
    CHECK("host_close", close(efd));
    CHECK("host_close_again", close(efd));
    struct pollfd hp = {.fd = pfd[1], .events = POLLOUT};
    CHECK("host_poll_only", poll(&hp, 1, 0));
    close(pfd[0]);
    close(pfd[1]);

    /* Host sockets through the same names behave as the kernel's. */
    int sv[2];
    CHECK("unix_socket", (s_ux = socket(AF_UNIX, SOCK_DGRAM, 0)) >= 0 ? close(s_ux) : -1);
    CHECK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK("unix_send", send(sv[0], "ux", 2, 0));
    char ub[4] = "";
    CHECKDATA("unix_recv", recv(sv[1], ub, sizeof(ub), 0), ub);
    show_int_opt("unix_so_type", sv[0], SOL_SOCKET, SO_TYPE);
    CHECK("unix_recv_dontwait_empty", recv(sv[1], ub, sizeof(ub), MSG_DONTWAIT));
    CHECK("unix_bind_inet_addr", bind(sv[0], SA(p4), sizeof(p4)));
    CHECK("unix_listen", listen(sv[0], 1));
    struct pollfd up[2] = {{.fd = sv[1], .events = POLLIN}, {.fd = c, .events = POLLIN}};
    send(a, "s", 1, 0);
    msleep(50);
    errno = 0;
    r = poll(up, 2, 1000);
    snprintf(extra, sizeof(extra), "unix=%#x sock=%#x", up[0].revents, up[1].revents);
    res("poll_unix_and_ours", r, errno, extra);
    recv(c, ub, 1, 0);
    CHECK("unix_shutdown_wr", shutdown(sv[0], SHUT_WR));
    CHECK("unix_recv_eof", recv(sv[1], ub, sizeof(ub), 0));
    struct sockaddr_storage uss;
    socklen_t ul = sizeof(uss);
    CHECK("unix_getsockname", getsockname(sv[0], SA(uss), &ul));
    CHECK("unix_close", close(sv[0]));
    CHECK("unix_closesocket_like", close(sv[1]));
    close(c);
    close(a);
}

/* ---- UDP -------------------------------------------------------------------- */

static void t_udp(void)
{
    SECTION("udp");
    char buf[128];
    int s = udp_sock();
    struct sockaddr_in echo = sin4(PEER_IP, P_ECHO), lenp = sin4(PEER_IP, P_LEN);
    CHECK("sendto", sendto(s, "ping", 4, 0, SA(echo), sizeof(echo)));
    show_name("sockname_after_sendto", s, 0);
    wait_ev(s, POLLIN, 2000);
    struct sockaddr_in from;
    memset(&from, 0, sizeof(from));
    socklen_t fl = sizeof(from);
    memset(buf, 0, sizeof(buf));
    errno = 0;
    long r = recvfrom(s, buf, sizeof(buf), 0, SA(from), &fl);
    char extra[200];
    snprintf(extra, sizeof(extra), "'%.16s' from %s", buf, addr_str(SA(from), fl));
    res("recvfrom", r, errno, extra);
    CHECK("sendto_peek", sendto(s, "0123456789", 10, 0, SA(echo), sizeof(echo)));
    wait_ev(s, POLLIN, 2000);
    int nr = -1;
    ioctl(s, FIONREAD, &nr);
    out("fionread", "%d", nr);
    CHECKDATA("recv_peek", recv(s, buf, 4, MSG_PEEK), buf);
    CHECKDATA("recv_trunc_flag", recv(s, buf, 4, MSG_PEEK | MSG_TRUNC), buf);
    CHECKDATA("recv_truncated", recv(s, buf, 4, 0), buf);
    CHECK("recv_rest_discarded", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    sendto(s, "abcdefgh", 8, 0, SA(echo), sizeof(echo));
    wait_ev(s, POLLIN, 2000);
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    char small[3];
    struct iovec iov = {small, 3};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_name = &from;
    mh.msg_namelen = sizeof(from);
    errno = 0;
    r = recvmsg(s, &mh, 0);
    snprintf(extra, sizeof(extra), "'%.3s' flags=%#x namelen=%u", small, mh.msg_flags, mh.msg_namelen);
    res("recvmsg_trunc", r, errno, extra);
    sendto(s, "xy", 2, 0, SA(echo), sizeof(echo));
    wait_ev(s, POLLIN, 2000);
    fl = 4;
    errno = 0;
    r = recvfrom(s, buf, sizeof(buf), 0, SA(from), &fl);
    snprintf(extra, sizeof(extra), "fromlen=%u", fl);
    res("recvfrom_short_fromlen", r, errno, extra);
    CHECK("sendto_empty", sendto(s, "", 0, 0, SA(echo), sizeof(echo)));
    wait_ev(s, POLLIN, 2000);
    CHECK("recv_empty", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    static char big[70000];
    CHECK("sendto_too_big", sendto(s, big, sizeof(big), 0, SA(echo), sizeof(echo)));
    CHECK("sendto_len_port", sendto(s, big, 1000, 0, SA(lenp), sizeof(lenp)));
    CHECKDATA("recv_len_port", (wait_ev(s, POLLIN, 2000), recv(s, buf, sizeof(buf), 0)), buf);
    struct sockaddr_in bcast = sin4("192.168.77.255", P_LEN);
    CHECK("broadcast_without_option", sendto(s, "b", 1, 0, SA(bcast), sizeof(bcast)));
    show_int_opt("broadcast_get_default", s, SOL_SOCKET, SO_BROADCAST);
    CHECK("broadcast_enable", set_int(s, SOL_SOCKET, SO_BROADCAST, 1));
    show_int_opt("broadcast_get", s, SOL_SOCKET, SO_BROADCAST);
    CHECK("broadcast_send", sendto(s, "b", 1, 0, SA(bcast), sizeof(bcast)));
    struct sockaddr_in lbc = sin4("255.255.255.255", P_LEN);
    CHECK("broadcast_limited_send", sendto(s, "bb", 2, 0, SA(lbc), sizeof(lbc)));
    close(s);

    s = udp_sock();
    show_name("sockname_unbound", s, 0);
    CHECK("recv_waitall_dontwait", recv(s, buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT));
    close(s);

    /* connected UDP */
    s = udp_sock();
    CHECK("connect", connect(s, SA(echo), sizeof(echo)));
    show_name("getpeername", s, 1);
    CHECK("send", send(s, "conn", 4, 0));
    CHECKDATA("recv", (wait_ev(s, POLLIN, 2000), recv(s, buf, sizeof(buf), 0)), buf);
    CHECK("sendto_connected_udp_other", sendto(s, "abc", 3, 0, SA(lenp), sizeof(lenp)));
    CHECKDATA("recv_from_other_filtered", (wait_ev(s, POLLIN, 300), recv(s, buf, sizeof(buf), MSG_DONTWAIT)), buf);
    CHECK("connect_again_other", connect(s, SA(lenp), sizeof(lenp)));
    CHECK("send_other", send(s, "four", 4, 0));
    CHECKDATA("recv_other", (wait_ev(s, POLLIN, 2000), recv(s, buf, sizeof(buf), 0)), buf);
    struct sockaddr unspec;
    memset(&unspec, 0, sizeof(unspec));
    unspec.sa_family = AF_UNSPEC;
    CHECK("connect_unspec", connect(s, &unspec, sizeof(unspec)));
    show_name("getpeername_after_unspec", s, 1);
    CHECK("send_after_unspec", send(s, "x", 1, 0));
    close(s);

    /* ICMP port unreachable reaches a connected socket. */
    s = udp_sock();
    struct sockaddr_in none = sin4(PEER_IP, P_NONE);
    connect(s, SA(none), sizeof(none));
    CHECK("send_refused_port", send(s, "x", 1, 0));
    out("poll_refused", "%#x", wait_ev(s, POLLIN, 1000));
    CHECK("recv_refused", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    CHECK("recv_refused_again", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    close(s);
    /* Blocking receive with a timeout. */
    s = udp_sock();
    struct sockaddr_in any = sin4("0.0.0.0", 0);
    bind(s, SA(any), sizeof(any));
    struct timeval tv = {0, 100000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    CHECK("recv_timeout", recv(s, buf, sizeof(buf), 0));
    CHECK("recv_dontwait", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
    close(s);
}

/* ---- options ------------------------------------------------------------------ */

static void t_options(void)
{
    SECTION("opt");
    int t = socket(AF_INET, SOCK_STREAM, 0), u = udp_sock();
    show_int_opt("type_tcp", t, SOL_SOCKET, SO_TYPE);
    show_int_opt("type_udp", u, SOL_SOCKET, SO_TYPE);
    show_int_opt("error_fresh", t, SOL_SOCKET, SO_ERROR);
    show_int_opt("reuseaddr_default", t, SOL_SOCKET, SO_REUSEADDR);
    CHECK("reuseaddr_set", set_int(t, SOL_SOCKET, SO_REUSEADDR, 5));
    show_int_opt("reuseaddr_get", t, SOL_SOCKET, SO_REUSEADDR);
    show_int_opt("keepalive_default", t, SOL_SOCKET, SO_KEEPALIVE);
    CHECK("keepalive_set", set_int(t, SOL_SOCKET, SO_KEEPALIVE, 1));
    show_int_opt("keepalive_get", t, SOL_SOCKET, SO_KEEPALIVE);
    CHECK("keepidle_set", set_int(t, IPPROTO_TCP, TCP_KEEPIDLE, 30));
    show_int_opt("keepidle_get", t, IPPROTO_TCP, TCP_KEEPIDLE);
    CHECK("keepidle_zero", set_int(t, IPPROTO_TCP, TCP_KEEPIDLE, 0));
    CHECK("keepintvl_set", set_int(t, IPPROTO_TCP, TCP_KEEPINTVL, 5));
    show_int_opt("keepintvl_get", t, IPPROTO_TCP, TCP_KEEPINTVL);
    CHECK("keepcnt_set", set_int(t, IPPROTO_TCP, TCP_KEEPCNT, 4));
    show_int_opt("keepcnt_get", t, IPPROTO_TCP, TCP_KEEPCNT);
    CHECK("keepcnt_too_big", set_int(t, IPPROTO_TCP, TCP_KEEPCNT, 500));
    show_int_opt("nodelay_default", t, IPPROTO_TCP, TCP_NODELAY);
    CHECK("nodelay_set", set_int(t, IPPROTO_TCP, TCP_NODELAY, 1));
    show_int_opt("nodelay_get", t, IPPROTO_TCP, TCP_NODELAY);
    CHECK("nodelay_on_udp", set_int(u, IPPROTO_TCP, TCP_NODELAY, 1));
    CHECK("rcvbuf_set", set_int(t, SOL_SOCKET, SO_RCVBUF, 65536));
    show_int_opt("rcvbuf_get", t, SOL_SOCKET, SO_RCVBUF);
    CHECK("sndbuf_set", set_int(t, SOL_SOCKET, SO_SNDBUF, 65536));
    show_int_opt("sndbuf_get", t, SOL_SOCKET, SO_SNDBUF);
    struct linger lg = {9, 9};
    socklen_t ll = sizeof(lg);
    errno = 0;
    int r = getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &ll);
    char extra[64];
    snprintf(extra, sizeof(extra), "onoff=%d linger=%d len=%u", lg.l_onoff, lg.l_linger, ll);
    res("linger_default", r, errno, extra);
    lg.l_onoff = 1;
    lg.l_linger = 7;
    CHECK("linger_set", setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
    CHECK("linger_set_short", setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, 4));
    memset(&lg, 0, sizeof(lg));
    ll = sizeof(lg);
    errno = 0;
    r = getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &ll);
    snprintf(extra, sizeof(extra), "onoff=%d linger=%d len=%u", lg.l_onoff, lg.l_linger, ll);
    res("linger_get", r, errno, extra);
    show_int_opt("ttl_default", u, IPPROTO_IP, IP_TTL);
    CHECK("ttl_set", set_int(u, IPPROTO_IP, IP_TTL, 7));
    show_int_opt("ttl_get", u, IPPROTO_IP, IP_TTL);
    CHECK("ttl_zero", set_int(u, IPPROTO_IP, IP_TTL, 0));
    CHECK("ttl_256", set_int(u, IPPROTO_IP, IP_TTL, 256));
    CHECK("ttl_reset", set_int(u, IPPROTO_IP, IP_TTL, -1));
    show_int_opt("ttl_after_reset", u, IPPROTO_IP, IP_TTL);
    show_int_opt("tos_default", u, IPPROTO_IP, IP_TOS);
    CHECK("tos_set", set_int(u, IPPROTO_IP, IP_TOS, 0x10));
    show_int_opt("tos_get", u, IPPROTO_IP, IP_TOS);
    unsigned char cttl = 9;
    CHECK("ttl_set_char", setsockopt(u, IPPROTO_IP, IP_TTL, &cttl, 1));
    show_int_opt("ttl_get_after_char", u, IPPROTO_IP, IP_TTL);
    show_int_opt("mcast_ttl_default", u, IPPROTO_IP, IP_MULTICAST_TTL);
    CHECK("mcast_ttl_set", set_int(u, IPPROTO_IP, IP_MULTICAST_TTL, 4));
    show_int_opt("mcast_ttl_get", u, IPPROTO_IP, IP_MULTICAST_TTL);
    show_int_opt("mcast_loop_default", u, IPPROTO_IP, IP_MULTICAST_LOOP);
    CHECK("mcast_loop_set", set_int(u, IPPROTO_IP, IP_MULTICAST_LOOP, 0));
    show_int_opt("mcast_loop_get", u, IPPROTO_IP, IP_MULTICAST_LOOP);
    struct in_addr mif;
    inet_pton(AF_INET, DEV_IP, &mif);
    CHECK("mcast_if_set", setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof(mif)));
    struct in_addr gotif = {0};
    ll = sizeof(gotif);
    errno = 0;
    r = getsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &gotif, &ll);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &gotif, ip, sizeof(ip));
    res("mcast_if_get", r, errno, ip);
    struct ip_mreq mr;
    inet_pton(AF_INET, "239.1.2.3", &mr.imr_multiaddr);
    mr.imr_interface.s_addr = htonl(INADDR_ANY);
    CHECK("add_membership", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)));
    CHECK("add_membership_again", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)));
    CHECK("add_membership_short", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, 4));
    CHECK("drop_membership", setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)));
    CHECK("drop_membership_again", setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)));
    struct ip_mreq notmc = mr;
    inet_pton(AF_INET, "10.1.1.1", &notmc.imr_multiaddr);
    CHECK("add_membership_unicast", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &notmc, sizeof(notmc)));
    CHECK("bindtodevice", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, IFNAME, strlen(IFNAME) + 1));
    char dev[IF_NAMESIZE] = "";
    ll = sizeof(dev);
    errno = 0;
    r = getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, dev, &ll);
    res("bindtodevice_get", r, errno, dev);
    ll = strlen(IFNAME) + 1; /* holds the name, but Linux wants IFNAMSIZ */
    CHECK("bindtodevice_get_short", getsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, dev, &ll));
    CHECK("bindtodevice_unknown", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "nosuch9", 8));
    CHECK("bindtodevice_clear", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "", 1));
    struct sockaddr_in echo = sin4(PEER_IP, P_ECHO);
    setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, IFNAME, strlen(IFNAME) + 1);
    CHECK("bound_device_sendto", sendto(u, "d", 1, 0, SA(echo), sizeof(echo)));
    char b[4];
    CHECKDATA("bound_device_recv", (wait_ev(u, POLLIN, 2000), recv(u, b, sizeof(b), 0)), b);
    close(t);
    close(u);

    /* Multicast to a group this socket joined comes back while
     * IP_MULTICAST_LOOP is on. */
    u = udp_sock();
    struct sockaddr_in mca = sin4("0.0.0.0", 7788), grp = sin4("239.1.2.4", 7788);
    set_int(u, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK("mcast_bind", bind(u, SA(mca), sizeof(mca)));
    inet_pton(AF_INET, "239.1.2.4", &mr.imr_multiaddr);
    inet_pton(AF_INET, DEV_IP, &mr.imr_interface);
    CHECK("mcast_join_on_addr", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)));
    setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof(mif));
    CHECK("mcast_send_loop", sendto(u, "mc1", 3, 0, SA(grp), sizeof(grp)));
    memset(b, 0, sizeof(b));
    CHECKDATA("mcast_recv_loop", (wait_ev(u, POLLIN, 1000), recv(u, b, sizeof(b), MSG_DONTWAIT)), b);
    set_int(u, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    CHECK("mcast_send_noloop", sendto(u, "mc2", 3, 0, SA(grp), sizeof(grp)));
    CHECKDATA("mcast_recv_noloop", (wait_ev(u, POLLIN, 300), recv(u, b, sizeof(b), MSG_DONTWAIT)), b);
    close(u);

    /* Nagle on by default: two small writes on a fresh connection. */
    t = tcp_to(PEER_IP, P_ECHO);
    show_int_opt("nodelay_connected_default", t, IPPROTO_TCP, TCP_NODELAY);
    close(t);
    /* SO_LINGER with a time: close waits for the FIN's ACK, up to the time. */
    struct linger one = {1, 1};
    t = tcp_to(PEER_IP, P_ECHO);
    send(t, "bye", 3, 0);
    setsockopt(t, SOL_SOCKET, SO_LINGER, &one, sizeof(one));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK("linger1_close_acked", close(t));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    out("linger1_close_acked_fast", "%d", ms < 500);
    t = tcp_to(PEER_IP, P_HOLD);
    static char fill[65536];
    for (int round = 0; round < 4; round++) {
        while (send(t, fill, sizeof(fill), MSG_DONTWAIT) > 0) {
        }
        msleep(150);
    }
    setsockopt(t, SOL_SOCKET, SO_LINGER, &one, sizeof(one));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK("linger1_close_window_shut", close(t));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    out("linger1_close_waited", "%s", ms >= 900 && ms < 1600 ? "about 1s" : "wrong");
    /* SO_LINGER 0: close sends a reset. */
    int c, a;
    local_pair(&c, &a);
    struct linger zero = {1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &zero, sizeof(zero));
    close(c);
    wait_ev(a, POLLIN, 2000);
    char x[4];
    CHECK("linger0_peer_sees_reset", recv(a, x, sizeof(x), 0));
    close(a);
}

/* ---- IPv6 ------------------------------------------------------------------- */

static void t_ipv6(void)
{
    SECTION("v6");
    char buf[64];
    int s;
    CHECKFD("socket_tcp", socket(AF_INET6, SOCK_STREAM, 0), s);
    show_int_opt("v6only_default", s, IPPROTO_IPV6, IPV6_V6ONLY);
    struct sockaddr_in6 any = sin6("::", 0);
    CHECK("bind_any", bind(s, SA(any), sizeof(any)));
    CHECK("listen", listen(s, 4));
    socklen_t n = sizeof(any);
    getsockname(s, SA(any), &n);
    int port = ntohs(any.sin6_port);
    show_name("sockname_any", s, 0);
    int c4 = tcp_to(DEV_IP, port);
    out("v4_client_to_dual", "%s", c4 >= 0 ? "connected" : ename(errno));
    struct sockaddr_in6 peer;
    memset(&peer, 0, sizeof(peer));
    socklen_t pl = sizeof(peer);
    int a = accept(s, SA(peer), &pl);
    out("accept_v4_mapped", "%s", a >= 0 ? addr_str(SA(peer), pl) : ename(errno));
    show_name("accepted_sockname_mapped", a, 0);
    close(a);
    close(c4);
    close(s);

    s = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK("v6only_set", set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1));
    show_int_opt("v6only_get", s, IPPROTO_IPV6, IPV6_V6ONLY);
    any = sin6("::", 0);
    bind(s, SA(any), sizeof(any));
    listen(s, 4);
    n = sizeof(any);
    getsockname(s, SA(any), &n);
    c4 = tcp_to(DEV_IP, ntohs(any.sin6_port));
    out("v4_client_to_v6only", "%s", c4 >= 0 ? "connected" : ename(errno));
    CHECK("v6only_after_bind", set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 0));
    close(c4);
    close(s);

    /* To the peer over link-local addresses. */
    s = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 pe = sin6(PEER_LL, P_ECHO);
    CHECK("connect_ll", connect(s, SA(pe), sizeof(pe)));
    CHECK("send_ll", send(s, "six", 3, 0));
    CHECKDATA("recv_ll", read_n(s, buf, 3), buf);
    show_name("peername_ll", s, 1);
    show_name("sockname_ll", s, 0);
    close(s);
    struct sockaddr_in6 nos = pe;
    nos.sin6_scope_id = 0;
    s = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK("connect_ll_no_scope", connect(s, SA(nos), sizeof(nos)));
    close(s);
    s = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 mapped = sin6("::ffff:" PEER_IP, P_ECHO);
    CHECK("connect_v4_mapped", connect(s, SA(mapped), sizeof(mapped)));
    show_name("peername_v4_mapped", s, 1);
    CHECK("send_v4_mapped", send(s, "map", 3, 0));
    CHECKDATA("recv_v4_mapped", read_n(s, buf, 3), buf);
    close(s);
    s = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK("short_addr", connect(s, SA(pe), sizeof(struct sockaddr_in)));
    struct sockaddr_in v4 = sin4(PEER_IP, P_ECHO);
    CHECK("v4_addr_on_v6", connect(s, SA(v4), sizeof(struct sockaddr_in6)));
    close(s);

    s = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK("udp_sendto_ll", sendto(s, "u6", 2, 0, SA(pe), sizeof(pe)));
    struct sockaddr_in6 from;
    socklen_t fl = sizeof(from);
    memset(buf, 0, sizeof(buf));
    wait_ev(s, POLLIN, 2000);
    errno = 0;
    long r = recvfrom(s, buf, sizeof(buf), 0, SA(from), &fl);
    char extra[200];
    snprintf(extra, sizeof(extra), "'%s' %s scope_ok=%d", buf, addr_str(SA(from), fl),
             from.sin6_scope_id == if_nametoindex(IFNAME));
    res("udp_recvfrom_ll", r, errno, extra);
    struct ipv6_mreq m6;
    inet_pton(AF_INET6, "ff02::1:3", &m6.ipv6mr_multiaddr);
    m6.ipv6mr_interface = if_nametoindex(IFNAME);
    CHECK("join_group", setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof(m6)));
    CHECK("join_group_again", setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof(m6)));
    CHECK("leave_group", setsockopt(s, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &m6, sizeof(m6)));
    CHECK("leave_group_again", setsockopt(s, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &m6, sizeof(m6)));
    struct sockaddr_in6 mv4 = sin6("::ffff:" PEER_IP, P_ECHO);
    CHECK("udp_sendto_v4_mapped", sendto(s, "m4", 2, 0, SA(mv4), sizeof(mv4)));
    wait_ev(s, POLLIN, 2000);
    fl = sizeof(from);
    memset(buf, 0, sizeof(buf));
    errno = 0;
    r = recvfrom(s, buf, sizeof(buf), 0, SA(from), &fl);
    snprintf(extra, sizeof(extra), "'%s' %s", buf, addr_str(SA(from), fl));
    res("udp_recvfrom_v4_mapped", r, errno, extra);
    close(s);
}

/* ---- ICMP echo ---------------------------------------------------------------- */

static uint16_t csum(const void *p, int n)
{
    const uint16_t *w = p;
    uint32_t sum = 0;
    for (; n > 1; n -= 2) {
        sum += *w++;
    }
    if (n) {
        sum += *(const uint8_t *)w;
    }
    sum = (sum >> 16) + (sum & 0xffff);
    sum += sum >> 16;
    return (uint16_t)~sum;
}

static void t_icmp(void)
{
    SECTION("icmp");
    struct sockaddr_in peer = sin4(PEER_IP, 0);
    struct icmphdr h;
    memset(&h, 0, sizeof(h));
    h.type = ICMP_ECHO;
    h.un.echo.sequence = htons(1);
    char pkt[sizeof(h) + 8];
    int s;
    CHECKFD("dgram_socket", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), s);
    memcpy(pkt, &h, sizeof(h));
    memcpy(pkt + sizeof(h), "pingdata", 8);
    CHECK("dgram_send", sendto(s, pkt, sizeof(pkt), 0, SA(peer), sizeof(peer)));
    char in[128];
    memset(in, 0, sizeof(in));
    wait_ev(s, POLLIN, 2000);
    errno = 0;
    long r = recv(s, in, sizeof(in), 0);
    struct icmphdr *rh = (void *)in;
    char extra[64];
    snprintf(extra, sizeof(extra), "type=%d seq=%d data='%.8s'", rh->type, ntohs(rh->un.echo.sequence),
             in + sizeof(h));
    res("dgram_reply", r, errno, extra);
    close(s);
    CHECKFD("raw_socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), s);
    if (s >= 0) {
        h.un.echo.id = htons(0x4242);
        h.un.echo.sequence = htons(2);
        memcpy(pkt, &h, sizeof(h));
        ((struct icmphdr *)pkt)->checksum = csum(pkt, sizeof(pkt));
        CHECK("raw_send", sendto(s, pkt, sizeof(pkt), 0, SA(peer), sizeof(peer)));
        int found = 0;
        for (int i = 0; i < 5 && !found; i++) {
            if (wait_ev(s, POLLIN, 1000) <= 0) {
                break;
            }
            r = recv(s, in, sizeof(in), 0);
            int ihl = (in[0] & 0xf) * 4;
            rh = (void *)(in + ihl);
            if (r >= ihl + 8 && rh->type == ICMP_ECHOREPLY && ntohs(rh->un.echo.id) == 0x4242) {
                found = 1;
                snprintf(extra, sizeof(extra), "ip_version=%d type=%d seq=%d len=%ld", (in[0] >> 4) & 0xf,
                         rh->type, ntohs(rh->un.echo.sequence), r);
            }
        }
        out("raw_reply", "%s", found ? extra : "none");
        close(s);
    }
    struct sockaddr_in6 p6 = sin6(PEER_LL, 0);
    CHECKFD("dgram6_socket", socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6), s);
    unsigned char e6[16] = {128, 0, 0, 0, 0, 0, 0, 3, 'p', 'i', 'n', 'g', '6', '6', '6', '6'};
    CHECK("dgram6_send", sendto(s, e6, sizeof(e6), 0, SA(p6), sizeof(p6)));
    memset(in, 0, sizeof(in));
    wait_ev(s, POLLIN, 2000);
    errno = 0;
    r = recv(s, in, sizeof(in), 0);
    snprintf(extra, sizeof(extra), "type=%d seq=%d data='%.8s'", (unsigned char)in[0],
             ((unsigned char)in[6] << 8) | (unsigned char)in[7], in + 8);
    res("dgram6_reply", r, errno, extra);
    close(s);
    CHECKFD("raw6_socket", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), s);
    if (s >= 0) {
        unsigned char q6[16] = {128, 0, 0, 0, 0x42, 0x43, 0, 4, 'r', 'a', 'w', '6', '6', '6', '6', '6'};
        CHECK("raw6_send", sendto(s, q6, sizeof(q6), 0, SA(p6), sizeof(p6)));
        int found = 0;
        for (int i = 0; i < 8 && !found; i++) {
            if (wait_ev(s, POLLIN, 1000) <= 0) {
                break;
            }
            r = recv(s, in, sizeof(in), 0);
            if (r >= 8 && (unsigned char)in[0] == 129 && in[4] == 0x42 && in[5] == 0x43) {
                found = 1;
                snprintf(extra, sizeof(extra), "type=%d seq=%d len=%ld", (unsigned char)in[0], in[7], r);
            }
        }
        out("raw6_reply", "%s", found ? extra : "none");
        close(s);
    }
    CHECK("raw_udp_proto_v4", (s = socket(AF_INET, SOCK_RAW, 0)) >= 0 ? (close(s), 0) : -1);
}

/* ---- on the wire: run.sh checks the capture for these ------------------------ */

/* 127.0.0.1 and ::1 answer inside the stack (the kernel's lo; lwIP's
 * LWIP_NETIF_LOOPBACK), the rest of 127/8 too; none of it reaches the
 * wire. */
static const char *addr_only(const struct sockaddr *sa)
{
    static char text[INET6_ADDRSTRLEN];
    const void *a = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                              : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    return inet_ntop(sa->sa_family, a, text, sizeof(text)) ? text : "?";
}

static void t_loopback(void)
{
    SECTION("loopback");
    char buf[32];
    struct sockaddr_storage from;
    socklen_t fl;

    /* UDP to itself on 127.0.0.1, and from a socket bound to 127.0.0.2. */
    int u = udp_sock(), v = udp_sock();
    struct sockaddr_in lo = sin4("127.0.0.1", 0), lo2 = sin4("127.0.0.2", 0);
    CHECK("udp_bind", bind(u, SA(lo), sizeof(lo)));
    fl = sizeof(lo);
    getsockname(u, SA(lo), &fl);
    CHECK("udp_bind_127_0_0_2", bind(v, SA(lo2), sizeof(lo2)));
    CHECK("udp_sendto_self", sendto(u, "lo1", 3, 0, SA(lo), sizeof(lo)));
    CHECK("udp_sendto_from_127_0_0_2", sendto(v, "lo2", 3, 0, SA(lo), sizeof(lo)));
    for (int i = 0; i < 2; i++) {
        memset(buf, 0, sizeof(buf));
        fl = sizeof(from);
        wait_ev(u, POLLIN, 1000);
        errno = 0;
        long r = recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT, SA(from), &fl);
        char extra[80];
        snprintf(extra, sizeof(extra), "'%.3s' from %s", buf, r >= 0 ? addr_only(SA(from)) : "-");
        res(i == 0 ? "udp_recv_1" : "udp_recv_2", r, errno, extra);
    }
    struct sockaddr_in dev = sin4(DEV_IP, 0);
    CHECK("udp_connect_to_device_ip", connect(v, SA(dev), sizeof(dev)));
    close(u);
    close(v);

    /* TCP over 127.0.0.1 and ::1: connect, accept, names, data; refused
     * where nobody listens. */
    const char *addrs[2] = {"127.0.0.1", "::1"};
    for (int i = 0; i < 2; i++) {
        int fam = i ? AF_INET6 : AF_INET;
        struct sockaddr_storage la;
        socklen_t ln = i ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        if (i) {
            *(struct sockaddr_in6 *)&la = sin6(addrs[i], 0);
        } else {
            *(struct sockaddr_in *)&la = sin4(addrs[i], 0);
        }
        int l = socket(fam, SOCK_STREAM, 0);
        char name[48];
        snprintf(name, sizeof(name), "tcp%d_listen", i ? 6 : 4);
        CHECK(name, bind(l, SA(la), ln) || listen(l, 4));
        getsockname(l, SA(la), &ln);
        int c = socket(fam, SOCK_STREAM, 0);
        snprintf(name, sizeof(name), "tcp%d_connect", i ? 6 : 4);
        CHECK(name, connect(c, SA(la), ln));
        int a = accept(l, SA(from), &(socklen_t){sizeof(from)});
        snprintf(name, sizeof(name), "tcp%d_accept_peer", i ? 6 : 4);
        out(name, "%s", a >= 0 ? addr_only(SA(from)) : "-");
        snprintf(name, sizeof(name), "tcp%d_send", i ? 6 : 4);
        CHECK(name, send(c, "hello", 5, 0));
        memset(buf, 0, sizeof(buf));
        snprintf(name, sizeof(name), "tcp%d_recv", i ? 6 : 4);
        CHECKDATA(name, (wait_ev(a, POLLIN, 1000), recv(a, buf, sizeof(buf), MSG_DONTWAIT)), buf);
        close(a);
        close(c);
        close(l);
        /* The listener is gone: its port now refuses. */
        c = socket(fam, SOCK_STREAM, 0);
        snprintf(name, sizeof(name), "tcp%d_refused", i ? 6 : 4);
        CHECK(name, connect(c, SA(la), ln));
        close(c);
    }
}

static void t_wire(void)
{
    SECTION("wire");
    /* TTL and TOS of an ordinary datagram. */
    int u = udp_sock();
    struct sockaddr_in lenp = sin4(PEER_IP, P_LEN), bcast = sin4("192.168.77.255", P_LEN);
    set_int(u, IPPROTO_IP, IP_TTL, 7);
    set_int(u, IPPROTO_IP, IP_TOS, 0x10);
    CHECK("ttl_tos_send", sendto(u, "ttl", 3, 0, SA(lenp), sizeof(lenp)));
    set_int(u, IPPROTO_IP, IP_TTL, 64);
    set_int(u, IPPROTO_IP, IP_TOS, 0);
    set_int(u, SOL_SOCKET, SO_BROADCAST, 1);
    CHECK("broadcast_send", sendto(u, "bcast", 5, 0, SA(bcast), sizeof(bcast)));
    /* IGMP reports for a join and a leave. */
    struct ip_mreq mr;
    inet_pton(AF_INET, "239.1.2.3", &mr.imr_multiaddr);
    mr.imr_interface.s_addr = htonl(INADDR_ANY);
    CHECK("igmp_join", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)));
    msleep(300);
    CHECK("igmp_leave", setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)));
    close(u);
    /* MLD report for an IPv6 join. */
    u = socket(AF_INET6, SOCK_DGRAM, 0);
    struct ipv6_mreq m6;
    inet_pton(AF_INET6, "ff02::1:3", &m6.ipv6mr_multiaddr);
    m6.ipv6mr_interface = if_nametoindex(IFNAME);
    CHECK("mld_join", setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof(m6)));
    msleep(300);
    close(u);
    /* Nagle: eleven 1-byte writes in a row leave in a few segments; with
     * TCP_NODELAY each leaves at once. */
    for (int nodelay = 0; nodelay <= 1; nodelay++) {
        int c = tcp_to(PEER_IP, nodelay ? 7008 : 7007);
        set_int(c, IPPROTO_TCP, TCP_NODELAY, nodelay);
        int sent = 0;
        for (int i = 0; i < 11; i++) {
            sent += send(c, "n", 1, 0) == 1;
            if (nodelay) {
                msleep(2); /* let each one leave before the next */
            }
        }
        char nb[16];
        out(nodelay ? "nodelay_sent" : "nagle_sent", "%d", sent);
        out(nodelay ? "nodelay_echoed" : "nagle_echoed", "%d", read_n(c, nb, 11));
        close(c);
    }
    /* Keepalive probes: idle 1 s, interval 1 s, to a peer that never sends. */
    int t = tcp_to(PEER_IP, P_HOLD);
    CHECK("keepalive_on", set_int(t, SOL_SOCKET, SO_KEEPALIVE, 1));
    CHECK("keepidle_1", set_int(t, IPPROTO_TCP, TCP_KEEPIDLE, 1));
    CHECK("keepintvl_1", set_int(t, IPPROTO_TCP, TCP_KEEPINTVL, 1));
    CHECK("keepcnt_3", set_int(t, IPPROTO_TCP, TCP_KEEPCNT, 3));
    msleep(3600);
    out("keepalive_still_open", "%#x", wait_ev(t, POLLIN | POLLOUT, 0));
    close(t);
}

/* ---- fcntl: the file status flags Linux keeps on a socket ---------------- */

static void show_fl(const char *name, int s)
{
    errno = 0;
    int fl = fcntl(s, F_GETFL);
    char extra[32];
    snprintf(extra, sizeof(extra), "fl=%#x", fl);
    res(name, fl < 0 ? -1 : 0, errno, fl < 0 ? NULL : extra);
}

/* F_SETOWN/F_GETOWN, and O_ASYNC's SIGIO to the owner as data arrives. */
static volatile sig_atomic_t sigio_count;

static void count_sigio(int sig)
{
    (void)sig;
    sigio_count++;
}

/* Sends one byte from a, reads it on c, and tells whether SIGIO came. */
static const char *sigio_after_data(int a, int c)
{
    char b;
    sigio_count = 0;
    send(a, "s", 1, 0);
    read_n(c, &b, 1);
    for (int i = 0; i < 50 && sigio_count == 0; i++) {
        msleep(20);
    }
    msleep(20);
    return sigio_count > 0 ? "sigio" : "none";
}

static void t_owner(void)
{
    int c, a;
    local_pair(&c, &a);
    CHECK("own_getown_fresh", fcntl(c, F_GETOWN));
    CHECK("own_setown_self", fcntl(c, F_SETOWN, getpid()));
    out("own_getown_self", "%s", fcntl(c, F_GETOWN) == getpid() ? "self" : "other");
    CHECK("own_setown_nosuch", fcntl(c, F_SETOWN, 0x3ffffff0));
    CHECK("own_setown_int_min", fcntl(c, F_SETOWN, INT_MIN));
    out("own_getown_after_refused", "%s", fcntl(c, F_GETOWN) == getpid() ? "self" : "other");
    CHECK("own_setown_pgrp", fcntl(c, F_SETOWN, -getpgrp()));
    out("own_getown_pgrp", "%s", fcntl(c, F_GETOWN) == -getpgrp() ? "minus_pgrp" : "other");
    CHECK("own_setown_self_again", fcntl(c, F_SETOWN, getpid()));
    /* SA_ONSTACK: the handler may run on a Go thread of the gonetif run. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = count_sigio;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGIO, &sa, &old);
    out("own_data_without_async", "%s", sigio_after_data(a, c));
    CHECK("own_setfl_async", fcntl(c, F_SETFL, O_ASYNC));
    out("own_data_with_async", "%s", sigio_after_data(a, c));
    CHECK("own_setown_none", fcntl(c, F_SETOWN, 0));
    out("own_data_after_setown_none", "%s", sigio_after_data(a, c));
    close(c);
    close(a);
    sigaction(SIGIO, &old, NULL);
}

static void t_fcntl(void)
{
    SECTION("fl");
    static const struct {
        const char *name;
        int flags;
    } sets[] = {
        {"append", O_APPEND},
        {"async", O_ASYNC},
        {"noatime", O_NOATIME},
        {"direct", O_DIRECT},
        {"nonblock_append", O_NONBLOCK | O_APPEND},
        {"ignored_bits", O_CREAT | O_TRUNC | O_EXCL | O_WRONLY | O_CLOEXEC | O_SYNC},
        {"all_but_direct", ~O_DIRECT},
        {"zero", 0},
    };
    const char *kinds[] = {"tcp", "udp", "tcp6"};
    char name[64];
    for (int k = 0; k < 3; k++) {
        int s = k == 0 ? socket(AF_INET, SOCK_STREAM, 0)
                : k == 1 ? udp_sock()
                         : socket(AF_INET6, SOCK_STREAM, 0);
        snprintf(name, sizeof(name), "%s_getfl_fresh", kinds[k]);
        show_fl(name, s);
        for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
            snprintf(name, sizeof(name), "%s_setfl_%s", kinds[k], sets[i].name);
            CHECK(name, fcntl(s, F_SETFL, sets[i].flags));
            snprintf(name, sizeof(name), "%s_getfl_after_%s", kinds[k], sets[i].name);
            show_fl(name, s);
        }
        close(s);
    }
    /* The kept flags stay through FIONBIO and the data path. */
    int c, a;
    local_pair(&c, &a);
    CHECK("pair_setfl_append_async", fcntl(c, F_SETFL, O_APPEND | O_ASYNC));
    int on = 1;
    ioctl(c, FIONBIO, &on);
    show_fl("pair_getfl_after_fionbio", c);
    CHECK("pair_send_with_append", send(c, "ap", 2, 0));
    char buf[8];
    CHECKDATA("pair_recv_with_append", read_n(a, buf, 2), buf);
    show_fl("pair_getfl_after_send", c);
    CHECK("pair_setfl_direct_keeps", fcntl(c, F_SETFL, O_DIRECT | O_APPEND));
    show_fl("pair_getfl_after_direct", c);
    close(c);
    close(a);
    t_owner();
}

/* ---- IPv6 UDP: the destination families a dual-stack socket takes ------- */

static void show_recvfrom6(const char *name, int s)
{
    char buf[16];
    struct sockaddr_storage from;
    memset(&from, 0, sizeof(from));
    memset(buf, 0, sizeof(buf));
    socklen_t fl = sizeof(from);
    wait_ev(s, POLLIN, 1000);
    errno = 0;
    long r = recvfrom(s, buf, sizeof(buf) - 1, MSG_DONTWAIT, SA(from), &fl);
    char extra[160];
    snprintf(extra, sizeof(extra), "'%s' %s", buf, r >= 0 ? addr_str(SA(from), fl) : "");
    res(name, r, errno, r >= 0 ? extra : NULL);
}

static void t_v6udp(void)
{
    SECTION("v6udp");
    struct sockaddr_in v4 = sin4(PEER_IP, P_ECHO);
    struct sockaddr_in6 mapped = sin6("::ffff:" PEER_IP, P_ECHO), ll = sin6(PEER_LL, P_ECHO);
    struct sockaddr_storage unspec;
    memset(&unspec, 0, sizeof(unspec));
    unspec.ss_family = AF_UNSPEC;
    struct sockaddr_storage bogus;
    memset(&bogus, 0, sizeof(bogus));
    bogus.ss_family = 12345;
    for (int v6only = 0; v6only <= 1; v6only++) {
        char name[64];
        const char *p = v6only ? "v6only" : "dual";
        int s = socket(AF_INET6, SOCK_DGRAM, 0);
        set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, v6only);
#define NAMED(suffix) (snprintf(name, sizeof(name), "%s_%s", p, suffix), name)
        CHECK(NAMED("sendto_sockaddr_in"), sendto(s, "a4", 2, 0, SA(v4), sizeof(v4)));
        show_recvfrom6(NAMED("recvfrom_after_sockaddr_in"), s);
        CHECK(NAMED("sendto_sockaddr_in_len8"), sendto(s, "a4", 2, 0, SA(v4), 8));
        CHECK(NAMED("sendto_sockaddr_in_len28"), sendto(s, "b4", 2, 0, SA(v4), sizeof(struct sockaddr_in6)));
        show_recvfrom6(NAMED("recvfrom_after_len28"), s);
        CHECK(NAMED("sendto_v4_mapped"), sendto(s, "m4", 2, 0, SA(mapped), sizeof(mapped)));
        show_recvfrom6(NAMED("recvfrom_after_v4_mapped"), s);
        CHECK(NAMED("sendto_unspec_unconnected"), sendto(s, "u0", 2, 0, SA(unspec), sizeof(struct sockaddr_in6)));
        CHECK(NAMED("sendto_unspec_len2"), sendto(s, "u0", 2, 0, SA(unspec), 2));
        CHECK(NAMED("sendto_len1"), sendto(s, "u0", 2, 0, SA(unspec), 1));
        CHECK(NAMED("sendto_bogus_family"), sendto(s, "bf", 2, 0, SA(bogus), sizeof(struct sockaddr_in6)));
        CHECK(NAMED("sendto_v6_len20"), sendto(s, "bf", 2, 0, SA(ll), 20));
        CHECK(NAMED("sendto_ll"), sendto(s, "l6", 2, 0, SA(ll), sizeof(ll)));
        show_recvfrom6(NAMED("recvfrom_after_ll"), s);
        close(s);

        /* Connected to the peer's link-local address: AF_UNSPEC means "no
         * address", so the datagram goes to the connected peer. */
        s = socket(AF_INET6, SOCK_DGRAM, 0);
        set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, v6only);
        CHECK(NAMED("connect_ll"), connect(s, SA(ll), sizeof(ll)));
        CHECK(NAMED("connected_sendto_unspec"), sendto(s, "cu", 2, 0, SA(unspec), sizeof(struct sockaddr_in6)));
        show_recvfrom6(NAMED("connected_recvfrom_after_unspec"), s);
        CHECK(NAMED("connected_sendto_sockaddr_in"), sendto(s, "c4", 2, 0, SA(v4), sizeof(v4)));
        show_recvfrom6(NAMED("connected_recvfrom_after_sockaddr_in"), s);
        close(s);

        /* connect with a sockaddr_in and with a v4-mapped address. */
        s = socket(AF_INET6, SOCK_DGRAM, 0);
        set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, v6only);
        CHECK(NAMED("connect_sockaddr_in"), connect(s, SA(v4), sizeof(v4)));
        CHECK(NAMED("connect_v4_mapped"), connect(s, SA(mapped), sizeof(mapped)));
        show_name(NAMED("peername_after_connects"), s, 1);
        close(s);
#undef NAMED
    }
    /* TCP over IPv6 takes no sockaddr_in, and no v4-mapped peer under
     * IPV6_V6ONLY. */
    int t = socket(AF_INET6, SOCK_STREAM, 0);
    set_int(t, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    CHECK("tcp_v6only_connect_v4_mapped", connect(t, SA(mapped), sizeof(mapped)));
    CHECK("tcp_v6only_connect_sockaddr_in", connect(t, SA(v4), sizeof(v4)));
    close(t);
    t = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK("tcp_dual_connect_sockaddr_in", connect(t, SA(v4), sizeof(v4)));
    close(t);
    /* A v4 socket given a v6 destination. */
    int u = udp_sock();
    CHECK("v4_sendto_sockaddr_in6", sendto(u, "x", 1, 0, SA(mapped), sizeof(mapped)));
    CHECK("v4_sendto_bogus_family", sendto(u, "x", 1, 0, SA(bogus), sizeof(struct sockaddr_in)));
    close(u);
}

/* ---- socket options: each option gonetif answers, on every socket kind --- */

static void t_optsweep(void)
{
    SECTION("optall");
    static const struct {
        const char *name;
        int level, opt;
    } opts[] = {
        {"so_type", SOL_SOCKET, SO_TYPE},
        {"so_protocol", SOL_SOCKET, SO_PROTOCOL},
        {"so_domain", SOL_SOCKET, SO_DOMAIN},
        {"so_error", SOL_SOCKET, SO_ERROR},
        {"so_reuseaddr", SOL_SOCKET, SO_REUSEADDR},
        {"so_reuseport", SOL_SOCKET, SO_REUSEPORT},
        {"so_keepalive", SOL_SOCKET, SO_KEEPALIVE},
        {"so_broadcast", SOL_SOCKET, SO_BROADCAST},
        {"so_acceptconn", SOL_SOCKET, SO_ACCEPTCONN},
        {"so_linger", SOL_SOCKET, SO_LINGER},
        {"so_rcvtimeo", SOL_SOCKET, SO_RCVTIMEO},
        {"so_sndtimeo", SOL_SOCKET, SO_SNDTIMEO},
        {"so_bindtodevice", SOL_SOCKET, SO_BINDTODEVICE},
        {"so_unknown", SOL_SOCKET, 999},
        {"tcp_nodelay", IPPROTO_TCP, TCP_NODELAY},
        {"tcp_keepidle", IPPROTO_TCP, TCP_KEEPIDLE},
        {"tcp_keepintvl", IPPROTO_TCP, TCP_KEEPINTVL},
        {"tcp_keepcnt", IPPROTO_TCP, TCP_KEEPCNT},
        {"tcp_syncnt", IPPROTO_TCP, TCP_SYNCNT},
        {"tcp_user_timeout", IPPROTO_TCP, TCP_USER_TIMEOUT},
        {"tcp_unknown", IPPROTO_TCP, 999},
        {"ip_ttl", IPPROTO_IP, IP_TTL},
        {"ip_tos", IPPROTO_IP, IP_TOS},
        {"ip_multicast_ttl", IPPROTO_IP, IP_MULTICAST_TTL},
        {"ip_multicast_loop", IPPROTO_IP, IP_MULTICAST_LOOP},
        {"ip_multicast_if", IPPROTO_IP, IP_MULTICAST_IF},
        {"ip_add_membership", IPPROTO_IP, IP_ADD_MEMBERSHIP},
        {"ip_unknown", IPPROTO_IP, 999},
        {"ipv6_v6only", IPPROTO_IPV6, IPV6_V6ONLY},
        {"ipv6_unicast_hops", IPPROTO_IPV6, IPV6_UNICAST_HOPS},
        {"ipv6_multicast_hops", IPPROTO_IPV6, IPV6_MULTICAST_HOPS},
        {"ipv6_multicast_loop", IPPROTO_IPV6, IPV6_MULTICAST_LOOP},
        {"ipv6_join_group", IPPROTO_IPV6, IPV6_JOIN_GROUP},
        {"ipv6_unknown", IPPROTO_IPV6, 999},
        {"level_udp", IPPROTO_UDP, 1},
        {"level_unknown", 999, 1},
    };
    static const struct {
        const char *name;
        int family, type;
    } kinds[] = {
        {"tcp4", AF_INET, SOCK_STREAM},
        {"udp4", AF_INET, SOCK_DGRAM},
        {"tcp6", AF_INET6, SOCK_STREAM},
        {"udp6", AF_INET6, SOCK_DGRAM},
    };
    char name[64];
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        int s = socket(kinds[k].family, kinds[k].type, 0);
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
            snprintf(name, sizeof(name), "get_%s_%s", kinds[k].name, opts[i].name);
            show_int_opt(name, s, opts[i].level, opts[i].opt);
        }
        /* Setting an option at a level the socket does not have. */
        snprintf(name, sizeof(name), "set_%s_tcp_nodelay", kinds[k].name);
        CHECK(name, set_int(s, IPPROTO_TCP, TCP_NODELAY, 1));
        snprintf(name, sizeof(name), "set_%s_ipv6_v6only", kinds[k].name);
        CHECK(name, set_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1));
        snprintf(name, sizeof(name), "set_%s_ipv6_unicast_hops", kinds[k].name);
        CHECK(name, set_int(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9));
        snprintf(name, sizeof(name), "set_%s_ip_ttl", kinds[k].name);
        CHECK(name, set_int(s, IPPROTO_IP, IP_TTL, 9));
        snprintf(name, sizeof(name), "get_%s_ip_ttl_after_set", kinds[k].name);
        show_int_opt(name, s, IPPROTO_IP, IP_TTL);
        struct in_addr mif;
        inet_pton(AF_INET, DEV_IP, &mif);
        snprintf(name, sizeof(name), "set_%s_ip_multicast_if", kinds[k].name);
        CHECK(name, setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof(mif)));
        snprintf(name, sizeof(name), "get_%s_ip_multicast_if_after_set", kinds[k].name);
        show_int_opt(name, s, IPPROTO_IP, IP_MULTICAST_IF);
        snprintf(name, sizeof(name), "set_%s_udp_cork", kinds[k].name);
        CHECK(name, set_int(s, IPPROTO_UDP, UDP_CORK, 1));
        snprintf(name, sizeof(name), "get_%s_udp_cork_after_set", kinds[k].name);
        show_int_opt(name, s, IPPROTO_UDP, UDP_CORK);
        snprintf(name, sizeof(name), "set_%s_ip_unknown", kinds[k].name);
        CHECK(name, set_int(s, IPPROTO_IP, 999, 1));
        snprintf(name, sizeof(name), "set_%s_level_unknown", kinds[k].name);
        CHECK(name, set_int(s, 999, 1, 1));
        snprintf(name, sizeof(name), "set_%s_so_unknown", kinds[k].name);
        CHECK(name, set_int(s, SOL_SOCKET, 999, 1));
        close(s);
    }
    /* Set and read back, with values inside and at the edges of each range. */
    static const struct {
        const char *name;
        int level, opt, v;
    } sets[] = {
        {"so_reuseaddr_2", SOL_SOCKET, SO_REUSEADDR, 2},
        {"so_reuseport_1", SOL_SOCKET, SO_REUSEPORT, 1},
        {"so_keepalive_7", SOL_SOCKET, SO_KEEPALIVE, 7},
        {"so_broadcast_1", SOL_SOCKET, SO_BROADCAST, 1},
        {"tcp_nodelay_3", IPPROTO_TCP, TCP_NODELAY, 3},
        {"tcp_keepidle_32767", IPPROTO_TCP, TCP_KEEPIDLE, 32767},
        {"tcp_keepidle_32768", IPPROTO_TCP, TCP_KEEPIDLE, 32768},
        {"tcp_keepintvl_32768", IPPROTO_TCP, TCP_KEEPINTVL, 32768},
        {"tcp_keepcnt_127", IPPROTO_TCP, TCP_KEEPCNT, 127},
        {"tcp_keepcnt_0", IPPROTO_TCP, TCP_KEEPCNT, 0},
        {"tcp_syncnt_127", IPPROTO_TCP, TCP_SYNCNT, 127},
        {"tcp_syncnt_128", IPPROTO_TCP, TCP_SYNCNT, 128},
        {"tcp_user_timeout_1000", IPPROTO_TCP, TCP_USER_TIMEOUT, 1000},
        {"tcp_user_timeout_minus1", IPPROTO_TCP, TCP_USER_TIMEOUT, -1},
        {"ip_ttl_255", IPPROTO_IP, IP_TTL, 255},
        {"ip_ttl_minus2", IPPROTO_IP, IP_TTL, -2},
        {"ip_tos_0x21", IPPROTO_IP, IP_TOS, 0x21},
        {"ip_tos_0x1ff", IPPROTO_IP, IP_TOS, 0x1ff},
        {"ip_multicast_ttl_255", IPPROTO_IP, IP_MULTICAST_TTL, 255},
        {"ip_multicast_ttl_minus1", IPPROTO_IP, IP_MULTICAST_TTL, -1},
        {"ip_multicast_ttl_256", IPPROTO_IP, IP_MULTICAST_TTL, 256},
        {"ip_multicast_loop_5", IPPROTO_IP, IP_MULTICAST_LOOP, 5},
        {"ipv6_unicast_hops_255", IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255},
        {"ipv6_unicast_hops_256", IPPROTO_IPV6, IPV6_UNICAST_HOPS, 256},
        {"ipv6_unicast_hops_minus1", IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1},
        {"ipv6_multicast_hops_minus1", IPPROTO_IPV6, IPV6_MULTICAST_HOPS, -1},
        {"ipv6_multicast_hops_256", IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 256},
        {"ipv6_multicast_loop_2", IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 2},
        {"ipv6_v6only_9", IPPROTO_IPV6, IPV6_V6ONLY, 9},
    };
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        int s = socket(kinds[k].family, kinds[k].type, 0);
        for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
            snprintf(name, sizeof(name), "set_%s_%s", kinds[k].name, sets[i].name);
            CHECK(name, set_int(s, sets[i].level, sets[i].opt, sets[i].v));
            snprintf(name, sizeof(name), "get_%s_%s", kinds[k].name, sets[i].name);
            show_int_opt(name, s, sets[i].level, sets[i].opt);
        }
        close(s);
    }
    /* The same on a listener, a connected client and an accepted socket. */
    int port, c, a;
    int l = listener(&port);
    local_pair(&c, &a);
    const int more[] = {l, c, a};
    const char *mn[] = {"listener", "connected", "accepted"};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
            snprintf(name, sizeof(name), "get_%s_%s", mn[k], opts[i].name);
            show_int_opt(name, more[k], opts[i].level, opts[i].opt);
        }
    }
    close(l);
    close(c);
    close(a);
}

/* ---- calls in states they do not belong to ------------------------------ */

static void t_states(void)
{
    SECTION("state");
    char buf[16];
    struct sockaddr_in echo = sin4(PEER_IP, P_ECHO), any = sin4("0.0.0.0", 0);
    /* shutdown on sockets that were never connected, each mode. */
    static const int hows[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
    static const char *hn[] = {"rd", "wr", "rdwr"};
    char name[64];
    for (int h = 0; h < 3; h++) {
        int t = socket(AF_INET, SOCK_STREAM, 0);
        snprintf(name, sizeof(name), "tcp_fresh_shutdown_%s", hn[h]);
        CHECK(name, shutdown(t, hows[h]));
        snprintf(name, sizeof(name), "tcp_fresh_shutdown_%s_send", hn[h]);
        CHECK(name, send(t, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT));
        snprintf(name, sizeof(name), "tcp_fresh_shutdown_%s_recv", hn[h]);
        CHECK(name, recv(t, buf, sizeof(buf), MSG_DONTWAIT));
        snprintf(name, sizeof(name), "tcp_fresh_shutdown_%s_poll", hn[h]);
        out(name, "%#x", wait_ev(t, POLLIN | POLLOUT, 0));
        close(t);
        int u = udp_sock();
        bind(u, SA(any), sizeof(any));
        snprintf(name, sizeof(name), "udp_bound_shutdown_%s", hn[h]);
        CHECK(name, shutdown(u, hows[h]));
        snprintf(name, sizeof(name), "udp_bound_shutdown_%s_sendto", hn[h]);
        CHECK(name, sendto(u, "s", 1, 0, SA(echo), sizeof(echo)));
        snprintf(name, sizeof(name), "udp_bound_shutdown_%s_recv", hn[h]);
        CHECKDATA(name, (msleep(300), recv(u, buf, sizeof(buf), MSG_DONTWAIT)), buf);
        close(u);
        /* a listener */
        int port;
        int l = listener(&port);
        snprintf(name, sizeof(name), "listener_shutdown_%s", hn[h]);
        CHECK(name, shutdown(l, hows[h]));
        show_int_opt((snprintf(name, sizeof(name), "listener_shutdown_%s_acceptconn", hn[h]), name), l, SOL_SOCKET,
                     SO_ACCEPTCONN);
        snprintf(name, sizeof(name), "listener_shutdown_%s_accept", hn[h]);
        fcntl(l, F_SETFL, O_NONBLOCK); /* a listener shut for writing still listens */
        CHECK(name, accept(l, NULL, NULL));
        snprintf(name, sizeof(name), "listener_shutdown_%s_recv", hn[h]);
        CHECK(name, recv(l, buf, sizeof(buf), MSG_DONTWAIT));
        snprintf(name, sizeof(name), "listener_shutdown_%s_listen_again", hn[h]);
        CHECK(name, listen(l, 4));
        show_int_opt((snprintf(name, sizeof(name), "listener_shutdown_%s_acceptconn_again", hn[h]), name), l,
                     SOL_SOCKET, SO_ACCEPTCONN);
        snprintf(name, sizeof(name), "listener_shutdown_%s_recv_again", hn[h]);
        CHECK(name, recv(l, buf, sizeof(buf), MSG_DONTWAIT));
        close(l);
    }
    /* A UDP socket shut for reading still takes datagrams. */
    int u = udp_sock();
    connect(u, SA(echo), sizeof(echo));
    CHECK("udp_connected_shutdown_rd", shutdown(u, SHUT_RD));
    out("udp_connected_shut_rd_poll", "%#x", wait_ev(u, POLLIN | POLLOUT, 0));
    CHECK("udp_connected_shut_rd_recv_empty", recv(u, buf, sizeof(buf), MSG_DONTWAIT));
    struct timeval tv = {0, 500000};
    setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK("udp_connected_shut_rd_recv_blocking", recv(u, buf, sizeof(buf), 0));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    out("udp_connected_shut_rd_recv_blocking_waited", "%s", ms < 250 ? "no" : "yes");
    CHECK("udp_connected_shut_rd_send", send(u, "q", 1, 0));
    msleep(300);
    CHECKDATA("udp_connected_shut_rd_recv_after", recv(u, buf, sizeof(buf), MSG_DONTWAIT), buf);
    CHECK("udp_connected_shut_rd_then_wr", shutdown(u, SHUT_WR));
    out("udp_connected_shut_rdwr_poll", "%#x", wait_ev(u, POLLIN | POLLOUT, 0));
    close(u);
    u = udp_sock();
    CHECK("udp_connected_shutdown_wr", (connect(u, SA(echo), sizeof(echo)), shutdown(u, SHUT_WR)));
    CHECK("udp_connected_send_after_shut_wr", send(u, "x", 1, MSG_NOSIGNAL));
    CHECK("udp_connected_shutdown_bad_how", shutdown(u, -1));
    close(u);

    /* connect on a listener, listen on a connected socket, bind twice. */
    int port;
    int l = listener(&port);
    CHECK("listener_connect_peer", connect(l, SA(echo), sizeof(echo)));
    struct sockaddr_in unspec;
    memset(&unspec, 0, sizeof(unspec));
    unspec.sin_family = AF_UNSPEC;
    CHECK("listener_connect_unspec", connect(l, SA(unspec), sizeof(unspec)));
    show_int_opt("listener_acceptconn_after_unspec", l, SOL_SOCKET, SO_ACCEPTCONN);
    fcntl(l, F_SETFL, O_NONBLOCK);
    CHECK("listener_accept_after_unspec", accept(l, NULL, NULL));
    CHECK("listener_listen_after_unspec", listen(l, 4));
    show_int_opt("listener_acceptconn_relisten", l, SOL_SOCKET, SO_ACCEPTCONN);
    close(l);
    int c = tcp_to(PEER_IP, P_ECHO);
    CHECK("connected_listen", listen(c, 4));
    CHECK("connected_bind", bind(c, SA(any), sizeof(any)));
    CHECK("connected_connect_again", connect(c, SA(echo), sizeof(echo)));
    struct sockaddr_in elsewhere = sin4(PEER_IP, P_LEN);
    CHECK("connected_sendto_addr", sendto(c, "ab", 2, 0, SA(elsewhere), sizeof(elsewhere)));
    CHECKDATA("connected_recv_after_sendto_addr", read_n(c, buf, 2), buf);
    struct sockaddr_in6 v6 = sin6(PEER_LL, P_LEN);
    CHECK("connected_sendto_v6_addr", sendto(c, "cd", 2, 0, SA(v6), sizeof(v6)));
    CHECKDATA("connected_recv_after_sendto_v6", read_n(c, buf, 2), buf);
    CHECK("connected_sendto_short_addr", sendto(c, "ef", 2, 0, SA(elsewhere), 4));
    CHECKDATA("connected_recv_after_short_addr", read_n(c, buf, 2), buf);
    close(c);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("unconnected_sendto_addr", sendto(t, "x", 1, MSG_NOSIGNAL, SA(echo), sizeof(echo)));
    CHECK("bind_once", bind(t, SA(any), sizeof(any)));
    CHECK("bind_again_other_port", bind(t, SA(echo), sizeof(echo)));
    close(t);
    u = udp_sock();
    CHECK("udp_bind_once", bind(u, SA(any), sizeof(any)));
    CHECK("udp_bind_twice", bind(u, SA(any), sizeof(any)));
    CHECK("udp_listen_bound", listen(u, 1));
    close(u);
    u = udp_sock();
    sendto(u, "z", 1, 0, SA(echo), sizeof(echo));
    CHECK("udp_bind_after_autobind", bind(u, SA(any), sizeof(any)));
    close(u);

    /* Data calls on a listener. */
    l = listener(&port);
    CHECK("listener_send", send(l, "x", 1, MSG_NOSIGNAL));
    CHECK("listener_sendto", sendto(l, "x", 1, MSG_NOSIGNAL, SA(echo), sizeof(echo)));
    CHECK("listener_recv", recv(l, buf, sizeof(buf), MSG_DONTWAIT));
    CHECK("listener_read", (fcntl(l, F_SETFL, O_NONBLOCK), read(l, buf, sizeof(buf))));
    show_name("listener_peername", l, 1);
    close(l);

    /* connect(AF_UNSPEC) on a connected stream drops the connection; the
     * socket may connect again. */
    c = tcp_to(PEER_IP, P_ECHO);
    CHECK("connected_connect_unspec", connect(c, SA(unspec), sizeof(unspec)));
    show_name("connected_peername_after_unspec", c, 1);
    out("connected_poll_after_unspec", "%#x", wait_ev(c, POLLIN | POLLOUT, 0));
    CHECK("connected_send_after_unspec", send(c, "x", 1, MSG_NOSIGNAL));
    CHECK("connected_recv_after_unspec", recv(c, buf, sizeof(buf), MSG_DONTWAIT));
    CHECK("connected_connect_after_unspec", connect(c, SA(echo), sizeof(echo)));
    CHECK("connected_send_after_reconnect", send(c, "re", 2, MSG_NOSIGNAL));
    CHECKDATA("connected_recv_after_reconnect", read_n(c, buf, 2), buf);
    close(c);
    t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("fresh_connect_unspec", connect(t, SA(unspec), sizeof(unspec)));
    close(t);
}

/* ---- ioctl requests a socket answers on Linux --------------------------- */

static void t_ioctls(void)
{
    SECTION("ioctl");
    int c, a;
    local_pair(&c, &a);
    int u = udp_sock();
    int port;
    int l = listener(&port);
    static const struct {
        const char *name;
        unsigned long req;
    } reqs[] = {
        {"fionread", FIONREAD}, {"siocinq", SIOCINQ}, {"siocoutq", SIOCOUTQ}, {"siocatmark", SIOCATMARK},
        {"fioasync_on", FIOASYNC}, {"fioclex", FIOCLEX}, {"fionclex", FIONCLEX},
    };
    const int fds[] = {c, u, l};
    const char *kinds[] = {"tcp", "udp", "listener"};
    char name[64];
    send(a, "abc", 3, 0);
    wait_ev(c, POLLIN, 1000);
    msleep(20);
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
            int v = 1;
            errno = 0;
            int r = ioctl(fds[k], reqs[i].req, &v);
            char extra[32];
            snprintf(extra, sizeof(extra), "v=%d", v);
            snprintf(name, sizeof(name), "%s_%s", kinds[k], reqs[i].name);
            res(name, r, errno, r == 0 ? extra : NULL);
        }
        snprintf(name, sizeof(name), "%s_getfl_after_fioasync", kinds[k]);
        show_fl(name, fds[k]);
        snprintf(name, sizeof(name), "%s_getfd_after_fionclex", kinds[k]);
        CHECK(name, fcntl(fds[k], F_GETFD));
    }
    /* SIOCOUTQ counts what the peer has not acknowledged: some while a
     * peer that does not read has its window full, none once it read it
     * all. The amounts depend on buffer sizes: only the sign is compared. */
    static char chunk[16384];
    int on = 1, v = -1, sent = 0;
    ioctl(c, FIONBIO, &on);
    for (int i = 0, refused = 0; i < 4000 && refused < 5; i++) {
        ssize_t r = send(c, chunk, sizeof(chunk), 0);
        if (r > 0) {
            sent += (int)r;
            refused = 0;
        } else {
            refused++;
            msleep(20);
        }
    }
    errno = 0;
    int r = ioctl(c, SIOCOUTQ, &v);
    res("tcp_siocoutq_unread", r, errno, r == 0 ? (v > 0 && v <= sent ? "some" : "none or too many") : NULL);
    char *sink = malloc(65536);
    for (int got = 0, rounds = 0; sink && got < sent && rounds < 4000; rounds++) {
        if (wait_ev(a, POLLIN, 2000) <= 0) {
            break;
        }
        ssize_t n = recv(a, sink, 65536, 0);
        if (n <= 0) {
            break;
        }
        got += (int)n;
    }
    free(sink);
    for (int i = 0; i < 100; i++) {
        v = -1;
        if (ioctl(c, SIOCOUTQ, &v) != 0 || v == 0) {
            break;
        }
        msleep(10);
    }
    errno = 0;
    r = ioctl(c, SIOCOUTQ, &v);
    res("tcp_siocoutq_all_read", r, errno, r == 0 ? (v == 0 ? "none" : "some") : NULL);
    close(c);
    close(a);
    close(u);
    close(l);
}

/* ---- MSG_* flags on TCP and UDP ------------------------------------------ */

static void t_msgflags(void)
{
    SECTION("msg");
    static const struct {
        const char *name;
        int flags;
    } sends[] = {
        {"dontwait", MSG_DONTWAIT},
        {"nosignal", MSG_NOSIGNAL},
        {"more", MSG_MORE},
        {"eor", MSG_EOR},
        {"dontroute", MSG_DONTROUTE},
        {"confirm", MSG_CONFIRM},
        {"waitall", MSG_WAITALL},
        {"peek", MSG_PEEK},
        {"trunc", MSG_TRUNC},
        {"unknown_bit", 0x1000000},
    };
    static const struct {
        const char *name;
        int flags;
    } recvs[] = {
        {"none", 0},
        {"peek", MSG_PEEK},
        {"trunc", MSG_TRUNC},
        {"waitall", MSG_WAITALL},
        {"cmsg_cloexec", MSG_CMSG_CLOEXEC},
        {"errqueue", MSG_ERRQUEUE},
        {"nosignal", MSG_NOSIGNAL},
        {"more", MSG_MORE},
        {"unknown_bit", 0x1000000},
    };
    char name[64], buf[16];
    struct sockaddr_in echo = sin4(PEER_IP, P_ECHO);
    int c, a;
    local_pair(&c, &a);
    int u = udp_sock();
    connect(u, SA(echo), sizeof(echo));
    for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); i++) {
        snprintf(name, sizeof(name), "tcp_send_%s", sends[i].name);
        CHECK(name, send(c, "ab", 2, sends[i].flags));
        snprintf(name, sizeof(name), "tcp_send_%s_arrived", sends[i].name);
        CHECKDATA(name, read_n(a, buf, 2), buf);
        snprintf(name, sizeof(name), "udp_send_%s", sends[i].name);
        CHECK(name, send(u, "cd", 2, sends[i].flags));
        if (sends[i].flags == MSG_MORE) {
            /* Linux holds a MSG_MORE datagram until a send without it. */
            CHECK("udp_send_after_more", send(u, "ef", 2, 0));
        }
        snprintf(name, sizeof(name), "udp_send_%s_echoed", sends[i].name);
        CHECKDATA(name, (wait_ev(u, POLLIN, 1000), recv(u, buf, sizeof(buf), MSG_DONTWAIT)), buf);
    }
    for (size_t i = 0; i < sizeof(recvs) / sizeof(recvs[0]); i++) {
        send(a, "0123", 4, 0);
        wait_ev(c, POLLIN, 1000);
        msleep(20);
        snprintf(name, sizeof(name), "tcp_recv_%s", recvs[i].name);
        CHECKDATA(name, recv(c, buf, 2, recvs[i].flags | MSG_DONTWAIT), buf);
        snprintf(name, sizeof(name), "tcp_recv_%s_rest", recvs[i].name);
        CHECKDATA(name, recv(c, buf, sizeof(buf), MSG_DONTWAIT), buf);
        send(u, "4567", 4, 0);
        wait_ev(u, POLLIN, 1000);
        snprintf(name, sizeof(name), "udp_recv_%s", recvs[i].name);
        CHECKDATA(name, recv(u, buf, 2, recvs[i].flags | MSG_DONTWAIT), buf);
        snprintf(name, sizeof(name), "udp_recv_%s_rest", recvs[i].name);
        CHECKDATA(name, recv(u, buf, sizeof(buf), MSG_DONTWAIT), buf);
    }
    /* recvmsg reports what it did in msg_flags. */
    send(a, "wxyz", 4, 0);
    wait_ev(c, POLLIN, 1000);
    msleep(20);
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    struct iovec iov = {buf, 2};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    errno = 0;
    long r = recvmsg(c, &mh, MSG_DONTWAIT | MSG_PEEK);
    char extra[32];
    snprintf(extra, sizeof(extra), "flags=%#x", mh.msg_flags);
    res("tcp_recvmsg_peek_flags", r, errno, extra);
    recv(c, buf, sizeof(buf), MSG_DONTWAIT);
    /* MSG_TRUNC through recvmsg with two buffers: taken, not copied. */
    send(a, "klmnop", 6, 0);
    wait_ev(c, POLLIN, 1000);
    msleep(20);
    char p1[3] = "..", p2[3] = "..";
    struct iovec two[2] = {{p1, 2}, {p2, 2}};
    mh.msg_iov = two;
    mh.msg_iovlen = 2;
    errno = 0;
    r = recvmsg(c, &mh, MSG_DONTWAIT | MSG_TRUNC);
    snprintf(extra, sizeof(extra), "'%s' '%s' flags=%#x", p1, p2, mh.msg_flags);
    res("tcp_recvmsg_trunc_iov2", r, errno, extra);
    CHECKDATA("tcp_recvmsg_trunc_iov2_rest", recv(c, buf, sizeof(buf), MSG_DONTWAIT), buf);
    /* MSG_MORE through sendmsg, then a plain send ends the datagram. */
    struct iovec part = {"gh", 2};
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &part;
    mh.msg_iovlen = 1;
    CHECK("udp_sendmsg_more", sendmsg(u, &mh, MSG_MORE));
    CHECK("udp_sendmsg_more_end", send(u, "ij", 2, 0));
    CHECKDATA("udp_sendmsg_more_echoed", (wait_ev(u, POLLIN, 1000), recv(u, buf, sizeof(buf), MSG_DONTWAIT)), buf);
    close(c);
    close(a);
    close(u);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (setup() != 0) {
        fprintf(stderr, "set-up failed: the peer is not reachable\n");
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "ports") == 0) {
        t_ports();
        return 0;
    }
    t_bad_input();
    t_misuse();
    t_inet();
    t_tcp_peer();
    t_modes();
    t_connect();
    t_listen();
    t_threads();
    t_mix();
    t_udp();
    t_options();
    t_ipv6();
    t_icmp();
    t_loopback();
    t_fcntl();
    t_v6udp();
    t_optsweep();
    t_states();
    t_ioctls();
    t_msgflags();
    t_wire();
    fprintf(stderr, "%d cases\n", ncases);
    return 0;
}
