/*
 * An interface on a driver that discards every frame, for C tests that
 * need a live esp_netif (names, DNS settings, handles) but no traffic.
 */
#pragma once
#include "esp_netif.h"
#include "lwip/tapif.h"

struct drop_driver {
    esp_netif_driver_base_t base;
};

static inline esp_err_t drop_transmit(void *h, void *buf, size_t len)
{
    (void)h, (void)buf, (void)len;
    return ESP_OK;
}

static inline esp_err_t drop_post_attach(esp_netif_t *netif, esp_netif_iodriver_handle h)
{
    ((struct drop_driver *)h)->base.netif = netif;
    esp_netif_action_start(netif, NULL, 0, NULL);
    return ESP_OK;
}

/* Creates an interface with `base` on drv, attaches and starts it; NULL
 * when either step fails (the interface is then destroyed). */
static inline esp_netif_t *drop_netif_new(struct drop_driver *drv, const esp_netif_inherent_config_t *base)
{
    drv->base.post_attach = drop_post_attach;
    esp_netif_driver_ifconfig_t d = {.handle = drv, .transmit = drop_transmit};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = ethernetif_init, .input_fn = ethernetif_input}};
    esp_netif_config_t cfg = {.base = base, .driver = &d, .stack = &stack};
    esp_netif_t *n = esp_netif_new(&cfg);
    if (n && esp_netif_attach(n, drv) != ESP_OK) {
        esp_netif_destroy(n);
        n = NULL;
    }
    return n;
}
