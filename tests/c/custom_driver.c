/*
 * A driver written in C, the way IDF's own tapio.c is: its handle starts
 * with esp_netif_driver_base_t, post_attach starts the interface, an RX
 * thread feeds esp_netif_receive() and transmit() writes frames. It opens
 * the TAP itself, so every frame crosses between C and gonetif. After
 * bringing the interface up it does one TCP echo exchange:
 *
 *   custom_driver TAP HOST PORT MESSAGE
 */
#define LWIP_HDR_LINUX_SYS_SOCKETS_H /* host socket API for the TAP ioctls */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#undef LWIP_HDR_LINUX_SYS_SOCKETS_H

#include "esp_log.h"
#include "esp_netif.h"
#include "lwip/sockets.h"
#include "lwip/tapif.h"

static const char *TAG = "custom_driver";

struct my_driver {
    esp_netif_driver_base_t base; /* must come first */
    int fd;
    pthread_t rx;
    atomic_int stop;
    atomic_long rx_frames, tx_frames;
};

static void *rx_loop(void *arg)
{
    struct my_driver *d = arg;
    uint8_t frame[1518];
    while (!atomic_load(&d->stop)) {
        struct pollfd p = {.fd = d->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        ssize_t n = read(d->fd, frame, sizeof(frame));
        if (n > 0) {
            atomic_fetch_add(&d->rx_frames, 1);
            esp_netif_receive(d->base.netif, frame, (size_t)n, NULL);
        }
    }
    return NULL;
}

static esp_err_t my_transmit(void *h, void *buffer, size_t len)
{
    struct my_driver *d = h;
    atomic_fetch_add(&d->tx_frames, 1);
    return write(d->fd, buffer, len) == (ssize_t)len ? ESP_OK : ESP_FAIL;
}

static esp_err_t my_post_attach(esp_netif_t *netif, esp_netif_iodriver_handle h)
{
    struct my_driver *d = h;
    d->base.netif = netif;
    esp_netif_driver_ifconfig_t cfg = {.handle = d, .transmit = my_transmit};
    esp_err_t err = esp_netif_set_driver_config(netif, &cfg);
    if (err != ESP_OK) {
        return err;
    }
    esp_netif_action_start(netif, NULL, 0, NULL);
    return pthread_create(&d->rx, NULL, rx_loop, d) == 0 ? ESP_OK : ESP_FAIL;
}

static struct my_driver *my_driver_open(const char *tap)
{
    struct my_driver *d = calloc(1, sizeof(*d));
    struct ifreq ifr = {0};
    d->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (d->fd < 0 || ioctl(d->fd, TUNSETIFF, &ifr) < 0 || ioctl(d->fd, TUNSETOFFLOAD, 0) < 0) {
        ESP_LOGE(TAG, "cannot open TAP %s: %s", tap, strerror(errno));
        return NULL;
    }
    d->base.post_attach = my_post_attach;
    return d;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s TAP HOST PORT MESSAGE\n", argv[0]);
        return 2;
    }
    ESP_ERROR_CHECK(esp_netif_init());
    struct my_driver *d = my_driver_open(argv[1]);
    if (!d) {
        return 1;
    }
    esp_netif_ip_info_t ip = {.ip = {.addr = ipaddr_addr("192.168.5.100")},
                              .netmask = {.addr = ipaddr_addr("255.255.255.0")},
                              .gw = {.addr = ipaddr_addr("192.168.5.1")}};
    esp_netif_inherent_config_t base = {.flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &ip, .if_key = "CDRV",
                                        .if_desc = "cdrv", .route_prio = 50};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .stack = &stack};
    esp_netif_t *netif = esp_netif_new(&cfg);
    if (!netif || esp_netif_attach(netif, d) != ESP_OK) {
        return 1;
    }

    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &a.sin_addr);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        fprintf(stderr, "FAIL connect: %s\n", strerror(errno));
        return 1;
    }
    send(s, argv[4], strlen(argv[4]), 0);
    char buf[256];
    ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
        fprintf(stderr, "FAIL recv: %s\n", strerror(errno));
        return 1;
    }
    buf[n] = 0;
    close(s);
    printf("REPLY %s\n", buf);
    printf("FRAMES rx=%ld tx=%ld\n", atomic_load(&d->rx_frames), atomic_load(&d->tx_frames));
    atomic_store(&d->stop, 1);
    pthread_join(d->rx, NULL);
    esp_netif_destroy(netif);
    close(d->fd);
    return 0;
}
