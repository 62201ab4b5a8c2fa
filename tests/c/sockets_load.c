/*
 * Socket load through the C API, no privileges needed: the interface has
 * a driver that drops every frame, so all traffic is local to the stack.
 *   1. 1000 TCP connections open at once, data both ways over poll().
 *   2. 100 000 socket()/close() cycles: descriptors, threads and memory
 *      stay flat.
 * Each part must finish within 60 s.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp_netif.h"
#include "lwip/sockets.h"
#include "lwip/tapif.h"

#define N 1000
#define CYCLES 100000
#define DEV_IP "10.77.0.2"

static int failed;
#define EXPECT(cond, ...)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
            failed = 1;                                                                                                \
        }                                                                                                              \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) {
        return -1;
    }
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

/* "Threads:" and "VmRSS:" (KiB) from /proc/self/status. */
static long status_field(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, k) == 0) {
            v = strtol(line + k, NULL, 10);
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return v;
}

struct null_driver {
    esp_netif_driver_base_t base;
};

static esp_err_t drop(void *h, void *buffer, size_t len)
{
    return ESP_OK;
}

static esp_err_t null_attach(esp_netif_t *netif, esp_netif_iodriver_handle h)
{
    struct null_driver *d = h;
    d->base.netif = netif;
    esp_netif_driver_ifconfig_t cfg = {.handle = d, .transmit = drop};
    esp_err_t err = esp_netif_set_driver_config(netif, &cfg);
    if (err == ESP_OK) {
        esp_netif_action_start(netif, NULL, 0, NULL);
    }
    return err;
}

static int bring_up(void)
{
    static struct null_driver drv = {.base = {.post_attach = null_attach}};
    esp_netif_ip_info_t info = {.ip = {.addr = ipaddr_addr(DEV_IP)}, .netmask = {.addr = ipaddr_addr("255.255.255.0")}};
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &info, .if_key = "LOAD", .if_desc = "load", .route_prio = 10};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .stack = &stack};
    if (esp_netif_init() != ESP_OK) {
        return -1;
    }
    esp_netif_t *n = esp_netif_new(&cfg);
    return n && esp_netif_attach(n, &drv) == ESP_OK ? 0 : -1;
}

static void connections(void)
{
    double t0 = now_s();
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, DEV_IP, &a.sin_addr);
    socklen_t al = sizeof(a);
    EXPECT(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, N) == 0 &&
               getsockname(l, (struct sockaddr *)&a, &al) == 0,
           "listener: %s", strerror(errno));
    static int cli[N], srv[N];
    static struct pollfd p[2 * N];
    int accepted = 0;
    for (int i = 0; i < N; i++) {
        cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        EXPECT(cli[i] >= 0, "socket %d: %s", i, strerror(errno));
        int r = connect(cli[i], (struct sockaddr *)&a, sizeof(a));
        EXPECT(r == -1 && errno == EINPROGRESS, "connect %d: %d %s", i, r, strerror(errno));
        while (accepted < N && (srv[accepted] = accept(l, NULL, NULL)) >= 0) {
            accepted++;
        }
    }
    while (accepted < N && now_s() - t0 < 50) {
        struct pollfd lp = {.fd = l, .events = POLLIN};
        poll(&lp, 1, 1000);
        while (accepted < N && (srv[accepted] = accept(l, NULL, NULL)) >= 0) {
            accepted++;
        }
    }
    EXPECT(accepted == N, "accepted %d of %d", accepted, N);
    /* All writable (connected) at once, checked with one poll over 1000. */
    for (int i = 0; i < N; i++) {
        p[i].fd = cli[i];
        p[i].events = POLLOUT;
    }
    int ready = 0;
    while (ready < N && now_s() - t0 < 50) {
        ready = poll(p, N, 1000);
    }
    EXPECT(ready == N, "%d of %d connected", ready, N);
    for (int i = 0; i < N; i++) {
        char m[16];
        int k = snprintf(m, sizeof(m), "c%04d", i);
        EXPECT(send(cli[i], m, k, 0) == k, "send %d", i);
    }
    /* Servers echo what arrives, found through poll over 2000 descriptors. */
    int echoed = 0, got = 0;
    static int done_srv[N], done_cli[N];
    while ((echoed < N || got < N) && now_s() - t0 < 55) {
        for (int i = 0; i < N; i++) {
            p[i].fd = done_srv[i] ? -1 : srv[i];
            p[i].events = POLLIN;
            p[N + i].fd = done_cli[i] ? -1 : cli[i];
            p[N + i].events = POLLIN;
        }
        int r = poll(p, 2 * N, 1000);
        if (r <= 0) {
            continue;
        }
        char buf[16];
        for (int i = 0; i < N; i++) {
            if (p[i].revents & POLLIN) {
                ssize_t k = recv(srv[i], buf, sizeof(buf), 0);
                if (k == 5 && send(srv[i], buf, 5, 0) == 5) {
                    done_srv[i] = 1;
                    echoed++;
                }
            }
            if (p[N + i].revents & POLLIN) {
                char want[16];
                snprintf(want, sizeof(want), "c%04d", i);
                ssize_t k = recv(cli[i], buf, sizeof(buf), 0);
                if (k == 5 && memcmp(buf, want, 5) == 0) {
                    done_cli[i] = 1;
                    got++;
                }
            }
        }
    }
    EXPECT(echoed == N && got == N, "echoed %d, received %d of %d", echoed, got, N);
    for (int i = 0; i < N; i++) {
        close(cli[i]);
        close(srv[i]);
    }
    close(l);
    double dt = now_s() - t0;
    printf("connections: %d concurrent, echoed %d, %.2f s\n", N, got, dt);
    EXPECT(dt < 60, "took %.1f s", dt);
}

static void cycles(void)
{
    /* Warm up so pools and tables reach their working size. */
    for (int i = 0; i < 2000; i++) {
        close(socket(AF_INET, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0));
    }
    usleep(100000);
    int fds = count_fds();
    long threads = status_field("Threads:"), rss = status_field("VmRSS:");
    double t0 = now_s();
    int errors = 0;
    for (int i = 0; i < CYCLES; i++) {
        int s = socket(AF_INET, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0);
        if (s < 0 || close(s) != 0) {
            errors++;
        }
    }
    double dt = now_s() - t0;
    usleep(200000);
    int fds2 = count_fds();
    long threads2 = status_field("Threads:"), rss2 = status_field("VmRSS:");
    printf("cycles: %d socket/close in %.2f s; fds %d->%d threads %ld->%ld rss %ld->%ld KiB\n", CYCLES, dt, fds,
           fds2, threads, threads2, rss, rss2);
    EXPECT(errors == 0, "%d failed cycles", errors);
    EXPECT(fds2 == fds, "descriptors %d -> %d", fds, fds2);
    EXPECT(threads2 <= threads + 2, "threads %ld -> %ld", threads, threads2);
    /* Under sanitizers the allocator keeps freed memory: RSS says nothing. */
    if (!getenv("GNT_SANITIZED")) {
        EXPECT(rss2 - rss < 16 * 1024, "RSS grew %ld KiB", rss2 - rss);
    }
    EXPECT(dt < 60, "took %.1f s", dt);
}

int main(void)
{
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < 4 * N) {
        lim.rlim_cur = lim.rlim_max < 4 * N ? lim.rlim_max : 4 * N;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur < 2 * N + 64) {
        printf("SKIP: RLIMIT_NOFILE %lu is below %d\n", (unsigned long)lim.rlim_cur, 2 * N + 64);
        return 77;
    }
    if (bring_up() != 0) {
        printf("FAIL: interface\n");
        return 1;
    }
    connections();
    cycles();
    printf("%s\n", failed ? "FAIL sockets_load" : "PASS sockets_load");
    return failed;
}
