/*
 * gnt_app: a small IDF-style device for the integration tests. It brings
 * up one or more tapif interfaces, prints READY, then performs one action.
 * The same calls an IDF app makes; the action decides the traffic.
 *
 *   gnt_app [--if TAP,IP/PREFIX[,GW] | --dhcp TAP]... ACTION ARGS...
 *     (--dhcp: a DHCP client; prints GOT_IP a.b.c.d on the got-IP event,
 *      waits up to 15 s for it)
 *     serve-tcp PORT N          accept N connections, echo each until EOF
 *     serve-udp PORT N          echo N datagrams back to their senders
 *     serve-http PORT N         answer N HTTP requests with "hello from gnt_app"
 *     tcp-echo HOST PORT MSG... connect, send MSG, print the reply (per triple)
 *     udp-echo HOST PORT MSG    send MSG in a datagram, print the reply
 *     udp-send HOST PORT MSG    send MSG in a datagram and exit at once
 *     tcp-bulk HOST PORT BYTES  connect to an echo server, send BYTES of a
 *                               pattern while reading the echo back, check it
 *     sleep SECONDS             stay up (the host pings us)
 * Without --if, one interface tap0 192.168.5.100/24 gw 192.168.5.1 (env
 * GONETIF_* applies as usual).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "lwip/tapif.h"
#include "tapio.h"

static const char *TAG = "gnt_app";

static int die(const char *what)
{
    fprintf(stderr, "FAIL %s: errno %d (%s)\n", what, errno, strerror(errno));
    return 1;
}

#define GOT_IP_ID 0x1234

static pthread_mutex_t got_ip_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t got_ip_cond = PTHREAD_COND_INITIALIZER;
static int got_ip_count;

static void on_got_ip(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    const ip_event_got_ip_t *ev = data;
    printf("GOT_IP " IPSTR "\n", IP2STR(&ev->ip_info.ip));
    fflush(stdout);
    pthread_mutex_lock(&got_ip_mu);
    got_ip_count++;
    pthread_cond_broadcast(&got_ip_cond);
    pthread_mutex_unlock(&got_ip_mu);
}

/* Waits, bounded, until n got-IP events have come. */
static int wait_got_ip(int n, int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&got_ip_mu);
    int rc = 0;
    while (got_ip_count < n && rc == 0) {
        rc = pthread_cond_timedwait(&got_ip_cond, &got_ip_mu, &until);
    }
    int ok = got_ip_count >= n;
    pthread_mutex_unlock(&got_ip_mu);
    return ok;
}

static esp_netif_t *bring_up(int index, const char *tap, const char *ip, int prefix, const char *gw)
{
    tapio_config_t tcfg = {.tap_name = tap};
    void *drv = tapio_create_with(&tcfg);
    if (!drv) {
        return NULL;
    }
    uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
    esp_netif_ip_info_t info = {.ip = {.addr = ip ? ipaddr_addr(ip) : 0}, .netmask = {.addr = ip ? mask : 0},
                                .gw = {.addr = gw ? ipaddr_addr(gw) : 0}};
    char key[16];
    snprintf(key, sizeof(key), "TAP%d", index);
    int dhcp = ip == NULL;
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_AUTOUP | (dhcp ? ESP_NETIF_DHCP_CLIENT : 0),
        .ip_info = &info,
        .get_ip_event = dhcp ? GOT_IP_ID : 0,
        .if_key = key,
        .if_desc = "tap",
        .route_prio = 100 - index,
    };
    esp_netif_driver_ifconfig_t driver = {.handle = drv, .transmit = tapio_output};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    esp_netif_t *n = esp_netif_new(&cfg);
    if (!n || esp_netif_attach(n, drv) != ESP_OK || !esp_netif_is_netif_up(n)) {
        return NULL;
    }
    if (dhcp) {
        esp_netif_action_connected(n, NULL, 0, NULL);
    }
    return n;
}

/* A TCP listener on every address at port; prints LISTENING (what the
 * scripts wait for) once it listens. -1 on failure. */
static int listen_tcp(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 4)) {
        int err = errno;
        if (ls >= 0) {
            close(ls);
        }
        errno = err; /* for die() */
        return -1;
    }
    printf("LISTENING\n");
    fflush(stdout);
    return ls;
}

static int serve_tcp(int port, int n)
{
    int ls = listen_tcp(port);
    if (ls < 0) {
        return die("listen");
    }
    for (int i = 0; i < n; i++) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int c = accept(ls, (struct sockaddr *)&peer, &plen);
        if (c < 0) {
            return die("accept");
        }
        char ip[INET_ADDRSTRLEN];
        printf("ACCEPTED %s\n", inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip)));
        fflush(stdout);
        char buf[4096];
        ssize_t r;
        size_t total = 0;
        while ((r = recv(c, buf, sizeof(buf), 0)) > 0) {
            if (send(c, buf, (size_t)r, 0) != r) {
                return die("send");
            }
            total += (size_t)r;
        }
        if (r < 0) {
            return die("recv");
        }
        printf("ECHOED %zu\n", total);
        fflush(stdout);
        close(c);
    }
    close(ls);
    return 0;
}

static int serve_udp(int port, int n)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a))) {
        return die("bind");
    }
    printf("LISTENING\n");
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        char buf[2048];
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        ssize_t r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
        if (r < 0 || sendto(s, buf, (size_t)r, 0, (struct sockaddr *)&peer, plen) != r) {
            return die("udp echo");
        }
        printf("ECHOED %zd\n", r);
        fflush(stdout);
    }
    close(s);
    return 0;
}

/* A minimal HTTP/1.0-style responder: reads the request head, answers
 * 200 with a fixed body and closes, which is all curl needs. */
static int serve_http(int port, int n)
{
    int ls = listen_tcp(port);
    if (ls < 0) {
        return die("listen");
    }
    static const char body[] = "hello from gnt_app\n";
    for (int i = 0; i < n; i++) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            return die("accept");
        }
        char req[4096];
        size_t got = 0;
        while (got < sizeof(req) - 1) {
            ssize_t r = recv(c, req + got, sizeof(req) - 1 - got, 0);
            if (r <= 0) {
                break;
            }
            got += (size_t)r;
            req[got] = 0;
            if (strstr(req, "\r\n\r\n")) {
                break;
            }
        }
        req[got] = 0;
        char *eol = strstr(req, "\r\n");
        if (eol) {
            *eol = 0;
        }
        printf("REQUEST %s\n", req);
        fflush(stdout);
        char resp[256];
        int len = snprintf(resp, sizeof(resp),
                           "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                           "Connection: close\r\n\r\n%s",
                           sizeof(body) - 1, body);
        if (send(c, resp, (size_t)len, 0) != len) {
            return die("send");
        }
        close(c);
    }
    close(ls);
    return 0;
}

/* The bulk pattern: position-dependent, so a lost, duplicated or
 * reordered chunk shows. */
static uint8_t bulk_byte(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 10));
}

struct bulk_sender {
    int s;
    size_t bytes;
    int failed;
};

static void *bulk_send(void *arg)
{
    struct bulk_sender *b = arg;
    uint8_t buf[16384];
    for (size_t off = 0; off < b->bytes;) {
        size_t n = b->bytes - off < sizeof(buf) ? b->bytes - off : sizeof(buf);
        for (size_t k = 0; k < n; k++) {
            buf[k] = bulk_byte(off + k);
        }
        ssize_t w = send(b->s, buf, n, 0);
        if (w <= 0) {
            b->failed = errno ? errno : EIO;
            return NULL;
        }
        off += (size_t)w;
    }
    shutdown(b->s, SHUT_WR);
    return NULL;
}

static int bulk_client(const char *host, int port, size_t bytes)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {.tv_sec = 10};
    if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) || connect(s, (struct sockaddr *)&a, sizeof(a))) {
        return die("bulk connect");
    }
    struct bulk_sender b = {.s = s, .bytes = bytes};
    pthread_t t;
    if (pthread_create(&t, NULL, bulk_send, &b)) {
        return die("pthread_create");
    }
    uint8_t buf[16384];
    size_t got = 0;
    int bad = 0;
    for (;;) {
        ssize_t r = recv(s, buf, sizeof(buf), 0);
        if (r < 0) {
            pthread_join(t, NULL);
            return die("bulk recv");
        }
        if (r == 0) {
            break;
        }
        for (ssize_t k = 0; k < r && !bad; k++) {
            if (buf[k] != bulk_byte(got + (size_t)k)) {
                fprintf(stderr, "FAIL bulk: byte %zu differs\n", got + (size_t)k);
                bad = 1;
            }
        }
        got += (size_t)r;
    }
    pthread_join(t, NULL);
    close(s);
    if (b.failed || bad || got != bytes) {
        fprintf(stderr, "FAIL bulk: sent %s, %zu of %zu bytes back%s\n", b.failed ? strerror(b.failed) : "all", got,
                bytes, bad ? ", corrupted" : "");
        return 1;
    }
    printf("BULK OK %zu\n", got);
    return 0;
}

/* One datagram, then exit: what reaches the peer is the exit drain's work. */
static int udp_send(const char *host, int port, const char *msg)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        return die("socket");
    }
    if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a)) != (ssize_t)strlen(msg)) {
        return die("sendto");
    }
    printf("SENT %s\n", msg);
    fflush(stdout);
    return 0;
}

static int echo_client(int type, const char *host, int port, const char *msg)
{
    int s = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {.tv_sec = 5};
    if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
        return die("socket");
    }
    if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
        return die("connect");
    }
    if (send(s, msg, strlen(msg), 0) != (ssize_t)strlen(msg)) {
        return die("send");
    }
    /* A stream is read to its end (the peer closes after answering); a
     * datagram is one reply. */
    char buf[2048];
    size_t got = 0;
    if (type == SOCK_STREAM) {
        shutdown(s, SHUT_WR);
    }
    for (;;) {
        ssize_t r = recv(s, buf + got, sizeof(buf) - 1 - got, 0);
        if (r < 0) {
            return die("recv");
        }
        got += (size_t)r;
        if (r == 0 || type == SOCK_DGRAM || got == sizeof(buf) - 1) {
            break;
        }
    }
    if (!got) {
        return die("empty reply");
    }
    buf[got] = 0;
    printf("REPLY %s\n", buf);
    close(s);
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1, nifs = 0;
    if (esp_netif_init() != ESP_OK) {
        return 1;
    }
    int ndhcp = 0;
    for (; i + 1 < argc && !strcmp(argv[i], "--dhcp"); i += 2) {
        if (ndhcp++ == 0 && (esp_event_loop_create_default() != ESP_OK ||
                             esp_event_handler_register(IP_EVENT, GOT_IP_ID, on_got_ip, NULL) != ESP_OK)) {
            return die("event loop");
        }
        if (!bring_up(nifs++, argv[i + 1], NULL, 0, NULL)) {
            return die("interface");
        }
    }
    if (ndhcp && !wait_got_ip(ndhcp, 15)) {
        fprintf(stderr, "FAIL no DHCP lease in 15 s\n");
        return 1;
    }
    for (; i + 1 < argc && !strcmp(argv[i], "--if"); i += 2) {
        char spec[128], *tap, *ip, *gw, *slash;
        snprintf(spec, sizeof(spec), "%s", argv[i + 1]);
        tap = strtok(spec, ",");
        ip = strtok(NULL, ",");
        gw = strtok(NULL, ",");
        if (!tap || !ip || !(slash = strchr(ip, '/'))) {
            fprintf(stderr, "bad --if %s\n", argv[i + 1]);
            return 2;
        }
        *slash = 0;
        if (!bring_up(nifs++, tap, ip, atoi(slash + 1), gw)) {
            return die("interface");
        }
    }
    if (nifs == 0 && !bring_up(0, NULL, "192.168.5.100", 24, "192.168.5.1")) {
        return die("interface");
    }
    ESP_LOGI(TAG, "%d interface(s) up", nifs ? nifs : 1);
    printf("READY\n");
    fflush(stdout);
    if (i >= argc) {
        return 2;
    }
    const char *action = argv[i];
    if (!strcmp(action, "serve-tcp") && i + 2 < argc) {
        return serve_tcp(atoi(argv[i + 1]), atoi(argv[i + 2]));
    }
    if (!strcmp(action, "serve-udp") && i + 2 < argc) {
        return serve_udp(atoi(argv[i + 1]), atoi(argv[i + 2]));
    }
    if (!strcmp(action, "serve-http") && i + 2 < argc) {
        return serve_http(atoi(argv[i + 1]), atoi(argv[i + 2]));
    }
    if (!strcmp(action, "tcp-echo") && i + 3 < argc) {
        for (i++; i + 2 < argc; i += 3) {
            if (echo_client(SOCK_STREAM, argv[i], atoi(argv[i + 1]), argv[i + 2])) {
                return 1;
            }
        }
        return 0;
    }
    if (!strcmp(action, "tcp-bulk") && i + 3 < argc) {
        return bulk_client(argv[i + 1], atoi(argv[i + 2]), (size_t)strtoull(argv[i + 3], NULL, 10));
    }
    if (!strcmp(action, "udp-echo") && i + 3 < argc) {
        return echo_client(SOCK_DGRAM, argv[i + 1], atoi(argv[i + 2]), argv[i + 3]);
    }
    if (!strcmp(action, "udp-send") && i + 3 < argc) {
        return udp_send(argv[i + 1], atoi(argv[i + 2]), argv[i + 3]);
    }
    if (!strcmp(action, "sleep") && i + 1 < argc) {
        sleep((unsigned)atoi(argv[i + 1]));
        return 0;
    }
    fprintf(stderr, "unknown action %s\n", action);
    return 2;
}
