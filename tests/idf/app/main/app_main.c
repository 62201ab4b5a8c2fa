/*
 * gonetif's own IDF linux-target app: FreeRTOS tasks using gonetif through
 * IDF's APIs. DHCP (GOT_IP event) and IPv6 (link-local, SLAAC) via
 * example_connect and dnsmasq, getaddrinfo through dnsmasq's DNS, UDP both
 * ways with the wait latency, select over a socket and a pipe, a TCP server
 * for a host client, and the tick share a lower-priority task keeps while a
 * higher-priority one is blocked in recv/accept/select/poll, and tasks
 * switched out by the tick in the middle of socket calls. Every result is
 * one line "RESULT <name> ..." that tests/idf/run.sh checks; "APP DONE" at
 * the end, "APP FAIL <why>" on any error.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "lwip/sockets.h"
#include "protocol_examples_common.h"

#define PEER "192.168.5.1"
#define ECHO_PORT 3333
#define SERVER_PORT 3335
#define HOLD_MS 2000

/* gonetif's port setting (capi/port/port.h): the native wait slice. */
int gonetif_port_configure(int spin_us);
/* stack_idf.c: how often gonetif's IP event task has woken. */
uint32_t gonetif_idf_event_task_wakeups(void);

static int failures;

static void fail(const char *what)
{
    printf("APP FAIL %s (errno %d %s)\n", what, errno, strerror(errno));
    fflush(stdout);
    failures++;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- tick share --------------------------------------------------------- */

static volatile int ticker_on;
static volatile uint32_t ticker_count;

static void ticker_task(void *arg)
{
    for (;;) {
        if (ticker_on) {
            ticker_count++;
        }
        vTaskDelay(1);
    }
}

struct blocker {
    const char *what;
    int (*block)(void); /* blocks about HOLD_MS; 0 on the expected outcome */
    TaskHandle_t parent;
    int rc;
};

static void blocker_task(void *arg)
{
    struct blocker *b = arg;
    b->rc = b->block();
    xTaskNotifyGive(b->parent);
    vTaskDelete(NULL);
}

static int udp_socket(int port, int timeout_ms)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        return -1;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
}

static int block_recv(void)
{
    int s = udp_socket(0, HOLD_MS);
    char b[16];
    int r = recv(s, b, sizeof(b), 0);
    int err = errno;
    close(s);
    return r == -1 && err == EAGAIN ? 0 : -1;
}

static int block_accept(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct timeval tv = {HOLD_MS / 1000, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1)) {
        return -1;
    }
    int c = accept(s, NULL, NULL);
    int err = errno;
    close(s);
    return c == -1 && err == EAGAIN ? 0 : -1;
}

static int block_select(void)
{
    int s = udp_socket(0, 0), p[2];
    if (s < 0 || pipe(p)) {
        return -1;
    }
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    FD_SET(p[0], &rd);
    struct timeval tv = {HOLD_MS / 1000, 0};
    int r = select((s > p[0] ? s : p[0]) + 1, &rd, NULL, NULL, &tv);
    close(s);
    close(p[0]);
    close(p[1]);
    return r == 0 ? 0 : -1;
}

static int block_poll(void)
{
    int s = udp_socket(0, 0);
    struct pollfd pf = {.fd = s, .events = POLLIN};
    int r = poll(&pf, 1, HOLD_MS);
    close(s);
    return r == 0 ? 0 : -1;
}

static void tick_share(const char *what, int (*block)(void))
{
    struct blocker b = {.what = what, .block = block, .parent = xTaskGetCurrentTaskHandle()};
    ticker_count = 0;
    ticker_on = 1;
    TickType_t t0 = xTaskGetTickCount();
    xTaskCreate(blocker_task, "blocker", 8192, &b, 6, NULL);
    ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(HOLD_MS * 3));
    TickType_t elapsed = xTaskGetTickCount() - t0;
    ticker_on = 0;
    unsigned share = elapsed ? (unsigned)(ticker_count * 100 / elapsed) : 0;
    printf("RESULT tick_share %s %u of %u ticks = %u%%%s\n", what, (unsigned)ticker_count, (unsigned)elapsed, share,
           b.rc ? " (wrong outcome)" : "");
    if (b.rc) {
        fail(what);
    }
}

/* ---- UDP both ways, wait latency ----------------------------------------- */

static void udp_rtt(const char *label, int n)
{
    int s = udp_socket(0, 1000);
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(ECHO_PORT)};
    inet_pton(AF_INET, PEER, &peer.sin_addr);
    int64_t *rtt = calloc(n, sizeof(*rtt));
    int got = 0;
    for (int i = 0; i < n; i++) {
        char msg[32], back[64];
        int len = snprintf(msg, sizeof(msg), "ping %d", i);
        int64_t t0 = now_us();
        if (sendto(s, msg, len, 0, (struct sockaddr *)&peer, sizeof(peer)) != len) {
            fail("udp sendto");
            break;
        }
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        int r = recvfrom(s, back, sizeof(back), 0, (struct sockaddr *)&from, &fl);
        if (r == len && !memcmp(back, msg, len) && from.sin_addr.s_addr == peer.sin_addr.s_addr) {
            rtt[got++] = now_us() - t0;
        }
    }
    close(s);
    if (got < n * 9 / 10) {
        fail("udp echoes missing");
    } else {
        qsort(rtt, got, sizeof(*rtt), cmp_i64);
        printf("RESULT udp_rtt %s %d/%d median %lld us p90 %lld us\n", label, got, n, (long long)rtt[got / 2],
               (long long)rtt[got * 9 / 10]);
    }
    free(rtt);
}

/* ---- select over a socket and a pipe -------------------------------------- */

static int pipe_w;

static void pipe_writer(void *arg)
{
    vTaskDelay(pdMS_TO_TICKS(200));
    if (write(pipe_w, "x", 1) != 1) {
        printf("APP FAIL pipe write\n");
    }
    vTaskDelete(NULL);
}

static void select_socket_and_pipe(void)
{
    int s = udp_socket(0, 1000), p[2];
    if (s < 0 || pipe(p)) {
        fail("select set-up");
        return;
    }
    pipe_w = p[1];
    xTaskCreate(pipe_writer, "pipe_writer", 4096, NULL, 5, NULL);
    int maxfd = (s > p[0] ? s : p[0]) + 1;
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    FD_SET(p[0], &rd);
    struct timeval tv = {5, 0};
    int r = select(maxfd, &rd, NULL, NULL, &tv);
    int pipe_first = r == 1 && FD_ISSET(p[0], &rd) && !FD_ISSET(s, &rd);
    char c;
    if (read(p[0], &c, 1) != 1) {
        pipe_first = 0;
    }
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(ECHO_PORT)};
    inet_pton(AF_INET, PEER, &peer.sin_addr);
    sendto(s, "select", 6, 0, (struct sockaddr *)&peer, sizeof(peer));
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    FD_SET(p[0], &rd);
    tv.tv_sec = 5;
    r = select(maxfd, &rd, NULL, NULL, &tv);
    int socket_second = r == 1 && FD_ISSET(s, &rd) && !FD_ISSET(p[0], &rd);
    printf("RESULT select pipe %s socket %s\n", pipe_first ? "ok" : "bad", socket_second ? "ok" : "bad");
    if (!pipe_first || !socket_second) {
        fail("select over socket and pipe");
    }
    close(s);
    close(p[0]);
    close(p[1]);
}

/* ---- preemption inside gonetif calls -------------------------------------
 * Two equal-priority tasks make socket calls back to back (FreeRTOS slices
 * between them every tick, so ticks land mid-call), while a higher-priority
 * task wakes every tick and makes one call too. A task switched out while it
 * runs Go code must never leave the others waiting on it forever. */

#define CHURN_TASKS 2
#define CHURN_MAX_OPS 5000000

static volatile int churn_stop;
static volatile unsigned churn_ops[CHURN_TASKS], hi_ops;
static TaskHandle_t stress_parent;

static void churn_task(void *arg)
{
    int i = (int)(intptr_t)arg;
    struct sockaddr_in a;
    for (unsigned n = 0; n < CHURN_MAX_OPS && !churn_stop; n++) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        socklen_t al = sizeof(a);
        if (s < 0 || getsockname(s, (struct sockaddr *)&a, &al) != 0 || close(s) != 0) {
            printf("APP FAIL churn socket calls (errno %d)\n", errno);
            break;
        }
        churn_ops[i]++;
    }
    xTaskNotifyGive(stress_parent);
    vTaskDelete(NULL);
}

static void hi_task(void *arg)
{
    int s = udp_socket(0, 0);
    struct sockaddr_in a;
    while (!churn_stop) {
        socklen_t al = sizeof(a);
        if (getsockname(s, (struct sockaddr *)&a, &al) == 0) {
            hi_ops++;
        }
        vTaskDelay(1);
    }
    close(s);
    xTaskNotifyGive(stress_parent);
    vTaskDelete(NULL);
}

static void preempt_stress(void)
{
    stress_parent = xTaskGetCurrentTaskHandle();
    churn_stop = 0;
    /* Above the tasks it starts, so that it can start them all and stop
     * them on time while they never block. */
    UBaseType_t own = uxTaskPriorityGet(NULL);
    vTaskPrioritySet(NULL, 10);
    for (int i = 0; i < CHURN_TASKS; i++) {
        xTaskCreate(churn_task, "churn", 8192, (void *)(intptr_t)i, 3, NULL);
    }
    xTaskCreate(hi_task, "hi", 8192, NULL, 8, NULL);
    TickType_t t0 = xTaskGetTickCount();
    vTaskDelay(pdMS_TO_TICKS(3000));
    churn_stop = 1;
    int ended = 0;
    for (int i = 0; i < CHURN_TASKS + 1; i++) {
        ended += ulTaskNotifyTake(pdFALSE, pdMS_TO_TICKS(5000)) != 0;
    }
    TickType_t ticks = xTaskGetTickCount() - t0;
    vTaskPrioritySet(NULL, own);
    unsigned churn = 0;
    for (int i = 0; i < CHURN_TASKS; i++) {
        churn += churn_ops[i];
    }
    printf("RESULT preempt churn %u calls in %u ticks, high-priority task %u calls, %d of %d tasks ended\n",
           churn * 3, (unsigned)ticks, hi_ops, ended, CHURN_TASKS + 1);
    fflush(stdout);
    if (ended != CHURN_TASKS + 1 || churn_ops[0] == 0 || churn_ops[1] == 0 || hi_ops < ticks / 4) {
        fail("preemption stress");
    }
}

/* ---- TCP server for a host client ------------------------------------------ */

static void tcp_server(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(SERVER_PORT)};
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 2)) {
        fail("tcp listen");
        return;
    }
    struct timeval tv = {20, 0};
    setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    printf("RESULT tcp_listening %d\n", SERVER_PORT);
    fflush(stdout);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    int c = accept(ls, (struct sockaddr *)&from, &fl);
    if (c < 0) {
        fail("tcp accept");
        close(ls);
        return;
    }
    char buf[8192], who[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &from.sin_addr, who, sizeof(who));
    long total = 0;
    int r;
    while ((r = recv(c, buf, sizeof(buf), 0)) > 0) {
        for (int off = 0; off < r;) {
            int w = send(c, buf + off, r - off, 0);
            if (w <= 0) {
                fail("tcp echo send");
                r = -1;
                break;
            }
            off += w;
        }
        if (r < 0) {
            break;
        }
        total += r;
    }
    printf("RESULT tcp_server peer %s echoed %ld bytes\n", who, total);
    close(c);
    close(ls);
}

/* ---- addresses and names ------------------------------------------------------ */

static void report_addresses(void)
{
    esp_netif_t *n = get_example_netif();
    esp_netif_ip_info_t ip;
    esp_netif_get_ip_info(n, &ip);
    printf("RESULT dhcp " IPSTR " gw " IPSTR "\n", IP2STR(&ip.ip), IP2STR(&ip.gw));
    esp_ip6_addr_t ll, global;
    if (esp_netif_get_ip6_linklocal(n, &ll) == ESP_OK) {
        printf("RESULT ip6_linklocal " IPV6STR "\n", IPV62STR(ll));
    } else {
        fail("no link-local address");
    }
    /* SLAAC: the router advertisement may take a few seconds. */
    for (int i = 0; i < 100; i++) {
        if (esp_netif_get_ip6_global(n, &global) == ESP_OK) {
            printf("RESULT ip6_global " IPV6STR "\n", IPV62STR(global));
            return;
        }
        vTaskDelay(pdMS_TO_TICKS(100));
    }
    fail("no SLAAC address within 10 s");
}

static void resolve(void)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int64_t t0 = now_us();
    int rc = getaddrinfo("peer.gonetif.test", "3333", &hints, &res);
    if (rc != 0 || !res) {
        printf("APP FAIL getaddrinfo: %d %s\n", rc, gai_strerror(rc));
        failures++;
        return;
    }
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, text, sizeof(text));
    printf("RESULT dns peer.gonetif.test %s in %lld us\n", text, (long long)(now_us() - t0));
    freeaddrinfo(res);
}

static int got_ip_events;

static void on_got_ip(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    got_ip_events++;
}

void app_main(void)
{
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, 0x1234, on_got_ip, NULL));
    esp_err_t connected = example_connect();
    if (connected != ESP_OK) {
        printf("APP FAIL example_connect: %s\n", esp_err_to_name(connected));
        fail("example_connect");
        exit(1);
    }
    vTaskDelay(pdMS_TO_TICKS(50)); /* our handler runs after example_connect's */
    printf("RESULT got_ip_events %d\n", got_ip_events);
    /* Idle for a second: the IP event task's wake-ups (one per tick if it polls). */
    uint32_t w0 = gonetif_idf_event_task_wakeups();
    TickType_t t0 = xTaskGetTickCount();
    vTaskDelay(pdMS_TO_TICKS(1000));
    printf("RESULT event_task_idle %u wake-ups in %u ticks\n", (unsigned)(gonetif_idf_event_task_wakeups() - w0),
           (unsigned)(xTaskGetTickCount() - t0));
    report_addresses();
    resolve();
    udp_rtt("spin-default", 200);
    int spin = gonetif_port_configure(0);
    udp_rtt("spin-0", 50);
    gonetif_port_configure(spin);
    select_socket_and_pipe();
    xTaskCreate(ticker_task, "ticker", 4096, NULL, 1, NULL);
    tick_share("recv", block_recv);
    tick_share("accept", block_accept);
    tick_share("select", block_select);
    tick_share("poll", block_poll);
    preempt_stress();
    tcp_server();
    printf(failures ? "APP FAIL %d failures\n" : "APP DONE\n", failures);
    fflush(stdout);
    exit(failures ? 1 : 0);
}
