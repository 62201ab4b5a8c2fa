/*
 * example_connect() for the linux target on gonetif: brings up a TAP
 * interface (static address or DHCP, IPv6 link-local) from the
 * CONFIG_EXAMPLE_CONNECT_* settings and waits for its address.
 */
#pragma once
#include "esp_err.h"
#include "esp_netif.h"

#ifdef __cplusplus
extern "C" {
#endif

esp_err_t example_connect(void);
esp_err_t example_disconnect(void);
/* The interface example_connect() made, or NULL. */
esp_netif_t *get_example_netif(void);
esp_netif_t *get_example_netif_from_desc(const char *desc);
#define EXAMPLE_INTERFACE get_example_netif()
#define EXAMPLE_NETIF_DESC_TAPIF "example_netif_tap"

#ifdef __cplusplus
}
#endif
