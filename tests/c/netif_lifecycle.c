/*
 * Interface life-cycle checks on real TAPs, driven by the integration
 * scripts:
 *
 *   netif_lifecycle raw              tapio_output/esp_netif_transmit of raw
 *                                    frames (EtherType 0x88b5) on tap0
 *   netif_lifecycle reopen N         N times: bring tap0 up, destroy it,
 *                                    open it again at once
 *   netif_lifecycle linger PORT      tap0 and tap1 up; a TCP connection over
 *                                    tap1 to 192.168.6.1:PORT; after "GO" on
 *                                    stdin (the peer is silent by then) send
 *                                    and close it, then time the destroy of
 *                                    tap0 and of tap1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "lwip/tapif.h"
#include "tapio.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static esp_netif_t *bring_up(void *drv, int index, const char *ip)
{
    esp_netif_ip_info_t info = {.ip = {.addr = ipaddr_addr(ip)}, .netmask = {.addr = ipaddr_addr("255.255.255.0")}};
    char key[16];
    snprintf(key, sizeof(key), "TAP%d", index);
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &info, .if_key = key, .if_desc = "tap", .route_prio = 100 - index};
    esp_netif_driver_ifconfig_t driver = {.handle = drv, .transmit = tapio_output};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    esp_netif_t *n = esp_netif_new(&cfg);
    if (!n || esp_netif_attach(n, drv) != ESP_OK || !esp_netif_is_netif_up(n)) {
        esp_netif_destroy(n);
        return NULL;
    }
    return n;
}

static void *open_tap(const char *name)
{
    tapio_config_t c = {.tap_name = name};
    return tapio_create_with(&c);
}

/* A broadcast frame of the local experimental EtherType carrying tag. */
static size_t raw_frame(uint8_t *f, const char *tag)
{
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    static const uint8_t src[6] = {0x02, 0x12, 0x34, 0x56, 0x78, 0xab};
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    memcpy(f + 14, tag, strlen(tag));
    return 60;
}

static int do_raw(void)
{
    uint8_t f[60];
    void *drv = open_tap("tap0");
    if (!drv) {
        return 1;
    }
    int fails = 0;
    fails += tapio_output(drv, f, raw_frame(f, "raw-before-attach")) != ESP_OK;
    esp_netif_t *n = bring_up(drv, 0, "192.168.5.100");
    if (!n) {
        return 1;
    }
    fails += tapio_output(drv, f, raw_frame(f, "raw-after-attach")) != ESP_OK;
    fails += esp_netif_transmit(n, f, raw_frame(f, "raw-via-transmit")) != ESP_OK;
    fails += tapio_output(drv, f, 5) != ESP_ERR_INVALID_ARG;        /* shorter than a header */
    fails += tapio_output(drv, f, 1 << 20) != ESP_ERR_INVALID_ARG;  /* longer than any frame */
    esp_netif_destroy(n);
    /* The handle outlives its interface: an error, not a write to a TAP
     * that is gone. */
    fails += tapio_output(drv, f, raw_frame(f, "raw-after-destroy")) != ESP_ERR_INVALID_ARG;
    printf("SENT fails=%d\n", fails);
    fflush(stdout);
    return fails != 0;
}

static int do_reopen(int rounds)
{
    int ok = 0;
    for (int i = 0; i < rounds; i++) {
        void *drv = open_tap("tap0");
        if (!drv) {
            printf("round %d: tap0 busy\n", i);
            continue;
        }
        esp_netif_t *n = bring_up(drv, 0, "192.168.5.100");
        if (!n) {
            printf("round %d: bring-up failed\n", i);
            continue;
        }
        esp_netif_destroy(n);
        ok++;
    }
    printf("REOPENED %d of %d\n", ok, rounds);
    return ok == rounds ? 0 : 1;
}

static int do_linger(int port)
{
    esp_netif_t *a = bring_up(open_tap("tap0"), 0, "192.168.5.100");
    esp_netif_t *b = bring_up(open_tap("tap1"), 1, "192.168.6.100");
    if (!a || !b) {
        return 1;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = inet_addr("192.168.6.1");
    for (int i = 0; i < 50 && connect(s, (struct sockaddr *)&to, sizeof(to)) != 0; i++) {
        close(s); /* the link may still be settling */
        usleep(100000);
        s = socket(AF_INET, SOCK_STREAM, 0);
    }
    printf("CONNECTED\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof(line), stdin)) {
        return 1;
    }
    static char data[256 << 10];
    fcntl(s, F_SETFL, O_NONBLOCK);
    ssize_t sent = send(s, data, sizeof(data), MSG_NOSIGNAL);
    close(s);
    double t0 = now_ms();
    esp_netif_destroy(a);
    double t1 = now_ms();
    esp_netif_destroy(b);
    double t2 = now_ms();
    printf("SENT %zd\nDESTROY_OTHER_MS %.0f\nDESTROY_SILENT_MS %.0f\n", sent, t1 - t0, t2 - t1);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || esp_netif_init() != ESP_OK) {
        fprintf(stderr, "usage: netif_lifecycle raw | reopen N | linger PORT\n");
        return 2;
    }
    if (!strcmp(argv[1], "raw")) {
        return do_raw();
    }
    if (!strcmp(argv[1], "reopen") && argc > 2) {
        return do_reopen(atoi(argv[2]));
    }
    if (!strcmp(argv[1], "linger") && argc > 2) {
        return do_linger(atoi(argv[2]));
    }
    return 2;
}
