/*
 * gonetif — lwip/netif.h
 *
 * Only the name: struct netif stays opaque (gonetif has no lwIP netif; the
 * pointer an init_fn or input_fn receives is a gonetif handle).  Also brings
 * in err_t and the IPv4 address helpers, as lwIP's netif.h does.
 */
#ifndef GONETIF_LWIP_NETIF_H
#define GONETIF_LWIP_NETIF_H

#include "lwip/err.h"
#include "lwip/ip_addr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netif;

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_LWIP_NETIF_H */
