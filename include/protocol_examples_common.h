/*
 * gonetif — protocol_examples_common.h
 *
 * The connect helpers IDF's networking examples call from app_main().  On
 * the Linux target they bring up the TAP interface (see tapio.h): static
 * address or DHCP according to CONFIG_EXAMPLE_CONNECT_* settings.
 */
#ifndef GONETIF_PROTOCOL_EXAMPLES_COMMON_H
#define GONETIF_PROTOCOL_EXAMPLES_COMMON_H

#include "esp_err.h"
#include "esp_netif.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Create and start the example interface; waits for an IP in DHCP mode. */
esp_err_t example_connect(void);

/** Stop and destroy what example_connect() created. */
esp_err_t example_disconnect(void);

/**
 * The interface example_connect() created (NULL before).  Examples name it
 * through EXAMPLE_INTERFACE, e.g. for sin6_scope_id.
 */
esp_netif_t *get_example_netif(void);

#ifndef EXAMPLE_INTERFACE
#define EXAMPLE_INTERFACE get_example_netif()
#endif

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_PROTOCOL_EXAMPLES_COMMON_H */
