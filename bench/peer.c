/*
 * bench/peer.c — the kernel side of every benchmark: one single-threaded
 * epoll server on the host end of the link, with one port per mode
 * (see common.h): sink, source, echo, crr (echo one byte and close), a
 * UDP counter and a UDP echo. It exits on its own after -T seconds (default 900).
 *
 *   peer [-a BIND_ADDR] [-p BASE_PORT] [-T MAX_SECONDS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define MAX_FDS 70000

enum kind { K_NONE, K_LISTEN, K_SINK, K_SOURCE, K_ECHO, K_CRR, K_UDP, K_UDP_ECHO };

struct slot {
    enum kind kind;
    int mode; /* listeners: the kind their connections get */
    struct cks *sum;
};

static struct slot slots[MAX_FDS];
static int ep;
static uint8_t *pat;
static uint8_t buf[CHUNK_MAX];

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void watch(int fd, enum kind kind, int mode)
{
    if (fd >= MAX_FDS) {
        close(fd);
        return;
    }
    slots[fd].kind = kind;
    slots[fd].mode = mode;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        die("epoll_ctl");
    }
}

static void drop(int fd)
{
    free(slots[fd].sum);
    slots[fd].sum = NULL;
    slots[fd].kind = K_NONE;
    close(fd);
}

static void set_blocking(int fd, int secs)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = secs};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Writes all of buf, waiting up to 2 s for room each time. */
static int write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = write(fd, b, len);
        if (n > 0) {
            b += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (poll(&pf, 1, 2000) <= 0) {
                return -1;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return -1;
        }
    }
    return 0;
}

static int read_full(int fd, void *p, size_t len)
{
    uint8_t *b = p;
    while (len) {
        ssize_t n = read(fd, b, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int listener(const char *addr, int port, int type)
{
    int fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        die("socket");
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        die("bind");
    }
    if (type == SOCK_STREAM && listen(fd, 4096) < 0) {
        die("listen");
    }
    if (type == SOCK_DGRAM) {
        int sz = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    }
    return fd;
}

static void on_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        watch(fd, (enum kind)slots[lfd].mode, 0);
    }
}

static void on_sink(int fd)
{
    struct slot *s = &slots[fd];
    if (!s->sum && !(s->sum = calloc(1, sizeof *s->sum))) {
        die("calloc");
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            cks_feed(s->sum, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            uint64_t res[3];
            cks_final(s->sum, res);
            write_all(fd, res, sizeof res);
        }
        drop(fd);
        return;
    }
}

/* Streams the pattern for the requested time, blocking this loop (one
 * bulk test runs at a time), then its own byte count (8 bytes) as the last
 * bytes of the stream, and closes. */
static void on_source(int fd)
{
    uint32_t ms;
    set_blocking(fd, 5);
    if (read_full(fd, &ms, sizeof ms) < 0) {
        drop(fd);
        return;
    }
    if (ms > 60000) {
        ms = 60000;
    }
    double end = now_s() + ms / 1000.0;
    uint64_t sent = 0;
    unsigned i = 0;
    for (;;) {
        if ((i++ & 3) == 0 && now_s() >= end) {
            break;
        }
        ssize_t n = write(fd, pat + sent % PAT_PERIOD, CHUNK_MAX);
        if (n > 0) {
            sent += (uint64_t)n;
        } else if (!(n < 0 && errno == EINTR)) {
            drop(fd);
            return;
        }
    }
    write_all(fd, &sent, sizeof sent);
    drop(fd);
}

static void on_echo(int fd, int close_after)
{
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            if (write_all(fd, buf, (size_t)n) < 0 || close_after) {
                drop(fd);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        drop(fd);
        return;
    }
}

static void on_udp(int fd)
{
    static uint64_t token, count;
    for (;;) {
        struct udp_msg m;
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, &m, sizeof m, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            return;
        }
        if (n != UDP_SIZE || m.magic != UDP_MAGIC) {
            continue;
        }
        if (m.type == 'D') {
            count += m.token == token;
        } else if (m.type == 'S' || m.type == 'Q') {
            if (m.type == 'S' && m.token != token) {
                token = m.token;
                count = 0;
            }
            m.type = m.type == 'S' ? 'A' : 'R';
            m.seq = count;
            sendto(fd, &m, sizeof m, 0, (struct sockaddr *)&from, fl);
        }
    }
}

static void on_udp_echo(int fd)
{
    for (;;) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            return;
        }
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
}

int main(int argc, char **argv)
{
    const char *addr = "0.0.0.0";
    int base = BENCH_BASE_PORT, max_s = 900, opt;
    signal(SIGPIPE, SIG_IGN);
    while ((opt = getopt(argc, argv, "a:p:T:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': base = atoi(optarg); break;
        case 'T': max_s = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-a ADDR] [-p BASE_PORT] [-T MAX_SECONDS]\n", argv[0]);
            return 2;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    pat = pattern_new();
    ep = epoll_create1(0);
    if (ep < 0) {
        die("epoll_create1");
    }
    watch(listener(addr, base + PORT_SINK, SOCK_STREAM), K_LISTEN, K_SINK);
    watch(listener(addr, base + PORT_SOURCE, SOCK_STREAM), K_LISTEN, K_SOURCE);
    watch(listener(addr, base + PORT_ECHO, SOCK_STREAM), K_LISTEN, K_ECHO);
    watch(listener(addr, base + PORT_CRR, SOCK_STREAM), K_LISTEN, K_CRR);
    watch(listener(addr, base + PORT_UDP, SOCK_DGRAM), K_UDP, 0);
    watch(listener(addr, base + PORT_UDP_ECHO, SOCK_DGRAM), K_UDP_ECHO, 0);
    printf("peer ready on %s ports %d-%d\n", addr, base, base + PORT_UDP_ECHO);
    fflush(stdout);

    double end = now_s() + max_s;
    struct epoll_event evs[256];
    while (now_s() < end) {
        int n = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            switch (slots[fd].kind) {
            case K_LISTEN: on_accept(fd); break;
            case K_SINK: on_sink(fd); break;
            case K_SOURCE: on_source(fd); break;
            case K_ECHO: on_echo(fd, 0); break;
            case K_CRR: on_echo(fd, 1); break;
            case K_UDP: on_udp(fd); break;
            case K_UDP_ECHO: on_udp_echo(fd); break;
            case K_NONE: break;
            }
        }
    }
    return 0;
}
