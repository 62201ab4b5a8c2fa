/*
 * gonetif — esp_netif_net_stack.h
 *
 * The network-stack side of esp_netif: functions a stack port (such as a
 * tapif-style netif) uses to reach the esp_netif object and its driver.
 * IDF's copy has no includes and expects esp_netif.h first; this one
 * includes it so that it also works on its own.
 */
#ifndef GONETIF_ESP_NETIF_NET_STACK_H
#define GONETIF_ESP_NETIF_NET_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "esp_netif.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The esp_netif that owns the stack interface dev (e.g. a struct netif *). */
esp_netif_t *esp_netif_get_handle_from_netif_impl(void *dev);

/** The stack interface of esp_netif; NULL on NULL. */
void *esp_netif_get_netif_impl(esp_netif_t *esp_netif);

/** Set the link speed reported for the interface, in bit/s. */
esp_err_t esp_netif_set_link_speed(esp_netif_t *esp_netif, uint32_t speed);

/**
 * Stack -> driver: transmit one frame through the driver's transmit
 * function; returns the driver's result.
 */
esp_err_t esp_netif_transmit(esp_netif_t *esp_netif, void *data, size_t len);

/** Same through transmit_wrap, passing the stack's own buffer along. */
esp_err_t esp_netif_transmit_wrap(esp_netif_t *esp_netif, void *data, size_t len,
                                  void *netstack_buf);

/** Give a receive buffer back to the driver (driver_free_rx_buffer). */
void esp_netif_free_rx_buffer(void *esp_netif, void *buffer);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_NETIF_NET_STACK_H */
