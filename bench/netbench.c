/*
 * bench/netbench.c — one benchmark client, compiled three ways from this
 * source: against gonetif's headers and archive (BENCH_GONETIF), against
 * Debian's lwIP with bench/lwip_tapif.c (BENCH_LWIP), or against the
 * host's libc (kernel). The body uses the plain BSD socket names in all
 * three, as an IDF application does; the peer is bench/peer.c.
 *
 *   netbench -a PEER_IP [-p BASE_PORT] [-i TAP -l LOCAL_IP -m NETMASK]
 *            [-t send,recv,w64,rr,rr1k,rr100,crr,udp,udprr,rss] [-n RUNS]
 *            [-d SECONDS]
 *            [-c CONNS,CONNS...]
 *
 * Output, one line per measurement (bench/run turns them into a table):
 *   R <test> <run> <value> <unit>    a verified result
 *   F <test> <run> <reason>          a failed run
 *   I <key> <value>                  information (retransmit-free details)
 * Exit status 0 when every run passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#if defined(BENCH_LWIP)
#include "lwip_bsd.h"
#define STACK_NAME "lwip"
#elif defined(BENCH_GONETIF)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp_netif.h"
#include "lwip/tapif.h"
#include "tapio.h"
#define STACK_NAME "gonetif"
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#define STACK_NAME "kernel"
#endif

#include "common.h"

static const char *peer_ip;
static int base_port = BENCH_BASE_PORT;
static double secs = 2.0;
static uint8_t *pat;
static uint8_t rbuf[CHUNK_MAX];
static int failures;

/* ---- bringing the stack up ------------------------------------------- */

#if defined(BENCH_GONETIF)
static int stack_up(const char *tap, const char *ip, const char *mask)
{
    if (esp_netif_init() != ESP_OK) {
        return -1;
    }
    tapio_config_t tcfg = {.tap_name = tap};
    esp_netif_driver_ifconfig_t driver = {
        .handle = tapio_create_with(&tcfg),
        .transmit = tapio_output,
    };
    if (!driver.handle) {
        return -1;
    }
    esp_netif_ip_info_t info = {
        .ip = {.addr = ipaddr_addr(ip)},
        .netmask = {.addr = ipaddr_addr(mask)},
        .gw = {.addr = ipaddr_addr(peer_ip)},
    };
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_AUTOUP,
        .ip_info = &info,
        .if_key = "TAP",
        .if_desc = "tap",
        .route_prio = 100,
    };
    struct esp_netif_netstack_config stack = {
        .lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input},
    };
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    esp_netif_t *nif = esp_netif_new(&cfg);
    if (!nif || esp_netif_attach(nif, driver.handle) != ESP_OK) {
        return -1;
    }
    return 0;
}
#elif defined(BENCH_LWIP)
static int stack_up(const char *tap, const char *ip, const char *mask)
{
    return bench_lwip_up(tap, ip, mask, peer_ip);
}
#else
static int stack_up(const char *tap, const char *ip, const char *mask)
{
    (void)tap, (void)ip, (void)mask;
    return 0;
}
#endif

/* ---- helpers ------------------------------------------------------------ */

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = atol(line + 6);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static int tcp_connect(int port_off, int nodelay)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(base_port + port_off)};
    inet_pton(AF_INET, peer_ip, &sa.sin_addr);
    if (nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len) {
        ssize_t n = send(fd, b, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int recv_full(int fd, void *p, size_t len)
{
    uint8_t *b = p;
    while (len) {
        ssize_t n = recv(fd, b, len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static void result(const char *test, int run, double v, const char *unit)
{
    printf("R %s %d %.6g %s\n", test, run, v, unit);
    fflush(stdout);
}

static void failed(const char *test, int run, const char *why)
{
    printf("F %s %d %s (errno %d %s)\n", test, run, why, errno, strerror(errno));
    fflush(stdout);
    failures++;
}

/* ---- tests ---------------------------------------------------------------- */

/* A UDP socket connected to the peer's port base_port + port, receives
 * timing out after 200 ms; -1 (reported) on failure. */
static int udp_to_peer(const char *test, int run, int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(base_port + port)};
    inet_pton(AF_INET, peer_ip, &sa.sin_addr);
    struct timeval tv = {.tv_usec = 200000};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        failed(test, run, "socket");
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* Bulk send with `chunk`-byte writes for `secs`; the peer's count and
 * checksum must match what was sent. MB/s up to the peer's answer. */
static void t_send(const char *name, int run, size_t chunk)
{
    int fd = tcp_connect(PORT_SINK, 0);
    if (fd < 0) {
        failed(name, run, "connect");
        return;
    }
    struct cks sum = {0};
    uint64_t off = 0;
    double t0 = now_s(), end = t0 + secs;
    unsigned i = 0;
    for (;;) {
        if ((i++ & 15) == 0 && now_s() >= end) {
            break;
        }
        const uint8_t *p = pat + off % PAT_PERIOD;
        if (send_all(fd, p, chunk) < 0) {
            failed(name, run, "send");
            close(fd);
            return;
        }
        cks_feed(&sum, p, chunk);
        off += chunk;
    }
    shutdown(fd, SHUT_WR);
    uint64_t got[3], want[3];
    if (recv_full(fd, got, sizeof got) < 0) {
        failed(name, run, "no answer from peer");
        close(fd);
        return;
    }
    double dt = now_s() - t0;
    close(fd);
    cks_final(&sum, want);
    if (memcmp(got, want, sizeof got)) {
        errno = 0;
        fprintf(stderr, "%s: sent %llu bytes, peer counted %llu\n", name, (unsigned long long)want[0],
                (unsigned long long)got[0]);
        failed(name, run, "byte count or checksum differs");
        return;
    }
    result(name, run, off / dt / 1e6, "MB/s");
}

/* Bulk receive: the peer streams the pattern for `secs`, then its byte
 * count as the stream's last 8 bytes. Everything before those 8 bytes is
 * checksummed as it arrives. */
static void t_recv(int run)
{
    int fd = tcp_connect(PORT_SOURCE, 0);
    if (fd < 0) {
        failed("recv", run, "connect");
        return;
    }
    uint32_t ms = (uint32_t)(secs * 1000);
    double t0 = now_s();
    if (send_all(fd, &ms, sizeof ms) < 0) {
        failed("recv", run, "send request");
        close(fd);
        return;
    }
    struct cks sum = {0};
    uint8_t tail[8 + 8];
    size_t ntail = 0;
    for (;;) {
        ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
        if (n >= 8) {
            cks_feed(&sum, tail, ntail);
            cks_feed(&sum, rbuf, (size_t)n - 8);
            memcpy(tail, rbuf + n - 8, 8);
            ntail = 8;
        } else if (n > 0) {
            memcpy(tail + ntail, rbuf, (size_t)n);
            ntail += (size_t)n;
            if (ntail > 8) {
                cks_feed(&sum, tail, ntail - 8);
                memmove(tail, tail + ntail - 8, 8);
                ntail = 8;
            }
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            failed("recv", run, "recv");
            close(fd);
            return;
        }
    }
    double dt = now_s() - t0;
    close(fd);
    uint64_t got[3], want[3], sent = 0;
    cks_final(&sum, got);
    if (ntail == 8) {
        memcpy(&sent, tail, 8);
    }
    cks_pattern(pat, got[0], want);
    if (ntail != 8 || sent != got[0] || memcmp(got, want, sizeof got)) {
        errno = 0;
        fprintf(stderr, "recv: peer sent %llu bytes, got %llu\n", (unsigned long long)sent,
                (unsigned long long)got[0]);
        failed("recv", run, "byte count or checksum differs");
        return;
    }
    result("recv", run, got[0] / dt / 1e6, "MB/s");
}

/* Request/response on one connection, TCP_NODELAY on both ends: `size`
 * bytes there, the same bytes back (1 byte; 1 KiB as a small HTTP-like
 * exchange). Every answer is compared with its request. */
static void t_rr(const char *name, int run, size_t size)
{
    int fd = tcp_connect(PORT_ECHO, 1);
    if (fd < 0) {
        failed(name, run, "connect");
        return;
    }
    uint64_t n = 0;
    double t0 = now_s(), end = t0 + secs, t;
    for (;;) {
        if ((n & 63) == 0 && (t = now_s()) >= end) {
            break;
        }
        const uint8_t *req = pat + (n * 7) % PAT_PERIOD;
        if (send_all(fd, req, size) < 0 || recv_full(fd, rbuf, size) < 0) {
            failed(name, run, "send/recv");
            close(fd);
            return;
        }
        if (memcmp(rbuf, req, size)) {
            errno = 0;
            failed(name, run, "echo differs");
            close(fd);
            return;
        }
        n++;
    }
    close(fd);
    result(name, run, n / (t - t0), "trips/s");
}

/* RR_CONNS connections at once, one thread: a 1-byte request on every
 * connection, then every answer; round trips/s over all of them. */
#define RR_CONNS 100
static void t_rr100(int run)
{
    int fds[RR_CONNS];
    for (int i = 0; i < RR_CONNS; i++) {
        if ((fds[i] = tcp_connect(PORT_ECHO, 1)) < 0) {
            failed("rr100", run, "connect");
            while (i--) {
                close(fds[i]);
            }
            return;
        }
    }
    uint64_t n = 0;
    double t0 = now_s(), end = t0 + secs, t = t0;
    int ok = 1;
    for (uint8_t round = 0; ok && (t = now_s()) < end; round++) {
        for (int i = 0; ok && i < RR_CONNS; i++) {
            uint8_t b = (uint8_t)(round + i);
            ok = send_all(fds[i], &b, 1) == 0;
        }
        for (int i = 0; ok && i < RR_CONNS; i++) {
            uint8_t r;
            ok = recv_full(fds[i], &r, 1) == 0 && r == (uint8_t)(round + i);
        }
        n += RR_CONNS;
    }
    for (int i = 0; i < RR_CONNS; i++) {
        close(fds[i]);
    }
    if (!ok) {
        failed("rr100", run, "send/recv or echo differs");
        return;
    }
    result("rr100", run, n / (t - t0), "trips/s");
}

/* UDP request/response: one 64-byte datagram to the peer's echo port,
 * wait for it to come back (a lost one is sent again after 200 ms). */
static void t_udprr(int run)
{
    int fd = udp_to_peer("udprr", run, PORT_UDP_ECHO);
    if (fd < 0) {
        return;
    }
    uint64_t n = 0, lost = 0;
    uint64_t token = ((uint64_t)getpid() << 20) ^ (uint64_t)run ^ 0xa5a50000;
    double t0 = now_s(), end = t0 + secs, t;
    for (;;) {
        if ((n & 63) == 0 && (t = now_s()) >= end) {
            break;
        }
        struct udp_msg q = {.magic = UDP_MAGIC, .type = 'E', .token = token, .seq = n}, r;
        if (send(fd, &q, sizeof q, 0) != UDP_SIZE) {
            if (++lost > 100) {
                break;
            }
            continue;
        }
        for (;;) {
            ssize_t got = recv(fd, &r, sizeof r, 0);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0) {
                lost++; /* timed out: ask again */
                break;
            }
            if (got == UDP_SIZE && !memcmp(&r, &q, sizeof q)) {
                n++;
                break;
            } /* else a late answer to an earlier try: skip it */
        }
        if (lost > 100) {
            break;
        }
    }
    close(fd);
    if (lost > 100 || n == 0) {
        errno = 0;
        failed("udprr", run, "more than 100 requests lost");
        return;
    }
    printf("I udprr_lost %llu\n", (unsigned long long)lost);
    result("udprr", run, n / (t - t0), "trips/s");
}

/* Connection set-up and tear-down: connect, 1 byte there and back, the
 * peer closes, we see EOF and close (as netperf's TCP_CRR). */
static void t_crr(int run)
{
    uint64_t n = 0;
    double t0 = now_s(), end = t0 + secs, t;
    for (;;) {
        if ((n & 7) == 0 && (t = now_s()) >= end) {
            break;
        }
        int fd = tcp_connect(PORT_CRR, 1);
        if (fd < 0) {
            failed("crr", run, "connect");
            return;
        }
        uint8_t b = (uint8_t)n, r[2];
        int ok = send_all(fd, &b, 1) == 0 && recv_full(fd, r, 1) == 0 && r[0] == b &&
                 recv(fd, r + 1, 1, 0) == 0;
        close(fd);
        if (!ok) {
            failed("crr", run, "echo or EOF");
            return;
        }
        n++;
    }
    result("crr", run, n / (t - t0), "conns/s");
}

/* UDP: 64-byte datagrams as fast as send() takes them; the value is what
 * the peer counted per second (datagrams dropped on the way are lost). */
static int udp_ask(int fd, struct udp_msg *m, uint32_t want)
{
    for (int tries = 0; tries < 50; tries++) {
        if (send(fd, m, sizeof *m, 0) < 0 && errno != ENOBUFS && errno != EAGAIN) {
            return -1;
        }
        struct udp_msg r;
        ssize_t n = recv(fd, &r, sizeof r, 0);
        if (n == UDP_SIZE && r.magic == UDP_MAGIC && r.type == want && r.token == m->token) {
            *m = r;
            return 0;
        }
    }
    return -1;
}

static void t_udp(int run)
{
    int fd = udp_to_peer("udp", run, PORT_UDP);
    if (fd < 0) {
        return;
    }
    struct udp_msg m = {.magic = UDP_MAGIC, .type = 'S', .token = ((uint64_t)getpid() << 20) ^ (uint64_t)run ^ 0x5a5a0000};
    if (udp_ask(fd, &m, 'A') < 0) {
        failed("udp", run, "no answer to start");
        close(fd);
        return;
    }
    uint64_t sent = 0, errs = 0;
    double t0 = now_s(), end = t0 + secs, t;
    for (;;) {
        if ((sent & 63) == 0 && (t = now_s()) >= end) {
            break;
        }
        struct udp_msg d = {.magic = UDP_MAGIC, .type = 'D', .token = m.token, .seq = sent};
        if (send(fd, &d, sizeof d, 0) == UDP_SIZE) {
            sent++;
        } else if (++errs > 1000000) {
            failed("udp", run, "send");
            close(fd);
            return;
        }
    }
    struct timespec settle = {.tv_nsec = 100000000};
    nanosleep(&settle, NULL);
    m.type = 'Q';
    if (udp_ask(fd, &m, 'R') < 0) {
        failed("udp", run, "no answer to query");
        close(fd);
        return;
    }
    close(fd);
    if (m.seq == 0 || m.seq > sent) {
        errno = 0;
        failed("udp", run, "peer count out of range");
        return;
    }
    printf("I udp_sent_per_s %.0f\n", sent / (t - t0));
    result("udp", run, m.seq / (t - t0), "dgrams/s");
}

/* RSS with many open connections, each checked with a 1-byte echo. */
static void t_rss(const char *list)
{
    static int fds[70000];
    int open_n = 0;
    char *copy = strdup(list), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int want = atoi(tok);
        if (want > 65000) {
            want = 65000;
        }
        char name[32];
        snprintf(name, sizeof name, "rss%d", want);
        while (open_n < want) {
            int fd = tcp_connect(PORT_ECHO, 1);
            if (fd < 0) {
                char why[64];
                snprintf(why, sizeof why, "connect number %d", open_n + 1);
                failed(name, 0, why);
                goto out;
            }
            fds[open_n++] = fd;
        }
        for (int i = 0; i < open_n; i++) {
            uint8_t b = (uint8_t)i, r;
            if (send_all(fds[i], &b, 1) < 0 || recv_full(fds[i], &r, 1) < 0 || r != b) {
                failed(name, 0, "echo on an open connection");
                goto out;
            }
        }
        result(name, 0, rss_kb() / 1024.0, "MB");
    }
out:
    for (int i = 0; i < open_n; i++) {
        close(fds[i]);
    }
    free(copy);
    /* Let a user-space stack finish every close handshake before the
     * process (and the stack) goes away: 0.2 ms per connection. */
    double wait = open_n * 0.0002 > 0.2 ? open_n * 0.0002 : 0.2;
    struct timespec ts = {.tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (time_t)wait) * 1e9)};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    const char *tap = "tap0", *ip = NULL, *mask = "255.255.255.0", *tests = "send,recv,w64,rr,rr1k,rr100,crr,udp,udprr";
    const char *conns = "1000,10000";
    int runs = 3, opt;
    while ((opt = getopt(argc, argv, "a:p:i:l:m:t:n:d:c:")) != -1) {
        switch (opt) {
        case 'a': peer_ip = optarg; break;
        case 'p': base_port = atoi(optarg); break;
        case 'i': tap = optarg; break;
        case 'l': ip = optarg; break;
        case 'm': mask = optarg; break;
        case 't': tests = optarg; break;
        case 'n': runs = atoi(optarg); break;
        case 'd': secs = atof(optarg); break;
        case 'c': conns = optarg; break;
        default: goto usage;
        }
    }
    if (!peer_ip) {
    usage:
        fprintf(stderr, "usage: %s -a PEER_IP [-p PORT] [-i TAP -l IP -m MASK] [-t TESTS] [-n RUNS] [-d SECS] [-c N,N]\n",
                argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    pat = pattern_new();
    if (stack_up(tap, ip ? ip : "0.0.0.0", mask) < 0) {
        fprintf(stderr, "%s: stack did not come up\n", STACK_NAME);
        return 1;
    }
    /* First contact (ARP, carrier-on: docs/DESIGN.md D9) stays out of the timed
     * tests: retry a 1-byte echo for up to 10 s. */
    int up = 0;
    for (double end = now_s() + 10; !up && now_s() < end;) {
        int fd = tcp_connect(PORT_ECHO, 1);
        uint8_t b = 42, r = 0;
        up = fd >= 0 && send_all(fd, &b, 1) == 0 && recv_full(fd, &r, 1) == 0 && r == b;
        if (fd >= 0) {
            close(fd);
        }
        if (!up) {
            struct timespec ts = {.tv_nsec = 100000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!up) {
        fprintf(stderr, "%s: peer %s unreachable\n", STACK_NAME, peer_ip);
        return 1;
    }
    printf("I stack %s\n", STACK_NAME);
    result("rss_idle", 0, rss_kb() / 1024.0, "MB");

    char *copy = strdup(tests), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        for (int run = 0; run < runs; run++) {
            if (!strcmp(t, "send")) {
                t_send("send", run, CHUNK_MAX);
            } else if (!strcmp(t, "w64")) {
                t_send("w64", run, 64);
            } else if (!strcmp(t, "recv")) {
                t_recv(run);
            } else if (!strcmp(t, "rr")) {
                t_rr("rr", run, 1);
            } else if (!strcmp(t, "rr1k")) {
                t_rr("rr1k", run, 1024);
            } else if (!strcmp(t, "rr100")) {
                t_rr100(run);
            } else if (!strcmp(t, "udprr")) {
                t_udprr(run);
            } else if (!strcmp(t, "crr")) {
                t_crr(run);
            } else if (!strcmp(t, "udp")) {
                t_udp(run);
            } else if (!strcmp(t, "rss")) {
                if (run == 0) {
                    t_rss(conns);
                }
            } else {
                fprintf(stderr, "unknown test %s\n", t);
                return 2;
            }
        }
    }
    free(copy);
    fflush(stdout);
    /* A user-space stack dies with the process: give the last FIN/ACK
     * exchanges a moment so the peer does not retransmit into the void
     * (those would show up as retransmits of the next test), then skip the
     * stacks' orderly shutdown. */
    struct timespec linger = {.tv_nsec = 150000000};
    nanosleep(&linger, NULL);
    _exit(failures ? 1 : 0);
}
