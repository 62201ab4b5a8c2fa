/*
 * IDF's FreeRTOS tick set-up (v5.5/v6.0) reproduced around gonetif: a 1 ms
 * ITIMER_REAL whose SIGALRM handler has no SA_ONSTACK, process-directed
 * SIGUSR1 traffic, and a SIGSEGV handler replaced after start-up, while
 * TCP transfers over a TAP run byte-exact against an echo peer.
 *
 *   signals_test transfer HOST PORT MIB   transfers, then checks the masks
 *   signals_test fault                    a Go nil dereference after the
 *                                         SIGSEGV replacement: Go's panic
 * Ticks landing on Go threads crashed the Go runtime within seconds.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "esp_netif.h"
#include "lwip/tapif.h"
#include "tapio.h"

/* Test hook of the archive: dereferences nil in Go, 1 if Go's panic
 * (recovered) ran, 0 otherwise. */
extern int gonetif_test_go_fault(void);

static volatile sig_atomic_t ticks, resumes;
static volatile int stop_traffic;

/* Like the port's tick: some work on whatever stack the signal found. */
static void on_tick(int sig)
{
    volatile char scratch[256];
    for (unsigned i = 0; i < sizeof(scratch); i++) {
        scratch[i] = (char)i;
    }
    ticks = ticks + 1;
}

static void on_resume(int sig) { resumes = resumes + 1; }

static void c_segv_handler(int sig)
{
    static const char msg[] = "FAIL the host's SIGSEGV handler ran, not Go's\n";
    write(2, msg, sizeof(msg) - 1);
    _exit(99);
}

static void *usr1_traffic(void *arg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* this thread only sends */
    while (!stop_traffic) {
        kill(getpid(), SIGUSR1);
        usleep(500);
    }
    return NULL;
}

static void start_ticks(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_tick; /* sa_flags 0: no SA_ONSTACK, no SA_RESTART */
    sigfillset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_resume;
    sigaction(SIGUSR1, &sa, NULL);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static esp_netif_t *bring_up(void)
{
    void *drv = tapio_create();
    if (!drv) {
        return NULL;
    }
    esp_netif_ip_info_t info = {.ip = {.addr = inet_addr("192.168.5.100")},
                                .netmask = {.addr = inet_addr("255.255.255.0")},
                                .gw = {.addr = inet_addr("192.168.5.1")}};
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &info, .if_key = "TAP0", .if_desc = "tap", .route_prio = 100};
    esp_netif_driver_ifconfig_t driver = {.handle = drv, .transmit = tapio_output};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    esp_netif_t *n = esp_netif_new(&cfg);
    if (!n || esp_netif_attach(n, drv) != ESP_OK) {
        return NULL;
    }
    return n;
}

/* Threads of this process that leave SIGALRM unblocked; *main_open says
 * whether the main thread is one of them. */
static int threads_open_to_alarm(int *main_open, int *total)
{
    int open = 0;
    *main_open = 0;
    *total = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[300], line[256];
        snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f)) {
            unsigned long long blk;
            if (sscanf(line, "SigBlk: %llx", &blk) == 1) {
                (*total)++;
                if (!(blk & (1ull << (SIGALRM - 1)))) {
                    open++;
                    if (atoi(e->d_name) == getpid()) {
                        *main_open = 1;
                    }
                }
            }
        }
        if (f) {
            fclose(f);
        }
    }
    if (d) {
        closedir(d);
    }
    return open;
}

static uint8_t pattern(size_t i, unsigned round) { return (uint8_t)((i * 131 + round * 7 + (i >> 11)) & 0xff); }

/* Sends mib MiB to the echo peer while reading them back; 0 if every byte
 * came back in order. */
static int transfer(const char *host, int port, int mib, unsigned round)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {inet_addr(host)}};
    struct timeval tv = {10, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        fprintf(stderr, "FAIL connect: %s\n", strerror(errno));
        return 1;
    }
    size_t total = (size_t)mib << 20, sent = 0, got = 0;
    uint8_t out[16384], in[16384];
    while (got < total) {
        if (sent < total && sent - got < (1u << 20)) {
            size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
            for (size_t i = 0; i < n; i++) {
                out[i] = pattern(sent + i, round);
            }
            ssize_t w = send(s, out, n, 0);
            if (w < 0 && errno != EINTR) {
                fprintf(stderr, "FAIL send: %s\n", strerror(errno));
                return 1;
            }
            sent += w > 0 ? (size_t)w : 0;
            if (w > 0 && (size_t)w < n) {
                continue;
            }
        }
        ssize_t r = recv(s, in, sizeof(in), sent < total ? MSG_DONTWAIT : 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (r <= 0) {
            fprintf(stderr, "FAIL recv after %zu of %zu bytes: %s\n", got, total, r ? strerror(errno) : "EOF");
            return 1;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (in[i] != pattern(got + i, round)) {
                fprintf(stderr, "FAIL byte %zu differs\n", got + i);
                return 1;
            }
        }
        got += r;
    }
    close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: signals_test transfer HOST PORT MIB | fault\n");
        return 2;
    }
    start_ticks();
    pthread_t traffic;
    pthread_create(&traffic, NULL, usr1_traffic, NULL);
    if (esp_netif_init() != ESP_OK) {
        fprintf(stderr, "FAIL esp_netif_init\n");
        return 1;
    }
    /* As IDF does after start-up; esp_netif_init (above, and again here as
     * an IDF app would call it later) puts Go's handler back. */
    signal(SIGSEGV, c_segv_handler);
    esp_netif_init();
    if (!strcmp(argv[1], "fault")) {
        int recovered = gonetif_test_go_fault();
        stop_traffic = 1;
        pthread_join(traffic, NULL);
        printf("%s\n", recovered ? "PASS Go's panic handled the Go fault" : "FAIL no Go panic");
        return recovered ? 0 : 1;
    }
    if (argc < 5) {
        return 2;
    }
    if (!bring_up()) {
        fprintf(stderr, "FAIL bring-up\n");
        return 1;
    }
    int mib = atoi(argv[4]), rc = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Rounds for about 2 s (the crash came within 1-3 s), at most 50. */
    unsigned rounds = 0;
    do {
        rc = transfer(argv[2], atoi(argv[3]), mib, rounds++);
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while (rc == 0 && rounds < 50 && (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
    stop_traffic = 1;
    pthread_join(traffic, NULL);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    int main_open, total;
    int open = threads_open_to_alarm(&main_open, &total);
    printf("ticks %d in %.2f s, SIGUSR1 %d, threads %d, open to SIGALRM %d (main %d), %u x %d MiB\n",
           (int)ticks, secs, (int)resumes, total, open, main_open, rounds, mib);
    if (rc) {
        return 1;
    }
    /* Only the main thread (whose mask was restored) takes ticks: every
     * thread Go made inherited the block. */
    if (open != 1 || !main_open) {
        printf("FAIL SIGALRM open on %d threads (main %d)\n", open, main_open);
        return 1;
    }
    /* Every tick still arrives (1 ms timer; the kernel coalesces a few). */
    if (ticks < (int)(secs * 1000 * 0.5)) {
        printf("FAIL only %d ticks in %.2f s\n", (int)ticks, secs);
        return 1;
    }
    printf("PASS %u x %d MiB byte-exact under 1 ms SIGALRM\n", rounds, mib);
    return 0;
}
