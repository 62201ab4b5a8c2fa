/*
 * gonetif — lwip/tapif.h
 *
 * The stack-side functions of IDF's protocol_examples_tapif_io component.
 * Naming them in a netstack configuration,
 *     .lwip = { .init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input }
 * makes gonetif back the interface with its gVisor stack.
 *
 * lwip_tapif_input() returns esp_netif_recv_ret_t: esp_err_t (IDF 6.x) or
 * void (IDF 5.x mode, see lwip/esp_netif_net_stack.h), always the same
 * type as input_fn_t.
 *
 * Through lwip/esp_netif_net_stack.h this header also provides esp_netif.h,
 * struct netif, err_t and ipaddr_addr().
 */
#ifndef GONETIF_LWIP_TAPIF_H
#define GONETIF_LWIP_TAPIF_H

#include <stddef.h>

#include "lwip/esp_netif_net_stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Stack interface creation for a TAP-backed esp_netif. */
err_t lwip_tapif_init(struct netif *netif);

/** Input of one received Ethernet frame (h is the stack interface). */
esp_netif_recv_ret_t lwip_tapif_input(void *h, void *buffer, size_t len, void *l2_buff);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_LWIP_TAPIF_H */
