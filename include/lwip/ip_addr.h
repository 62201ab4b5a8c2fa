/*
 * gonetif — lwip/ip_addr.h
 *
 * Forwards to lwip/ip4_addr.h (ipaddr_addr, IPADDR_NONE) and adds lwIP's
 * address family tags.
 */
#ifndef GONETIF_LWIP_IP_ADDR_H
#define GONETIF_LWIP_IP_ADDR_H

#include "lwip/ip4_addr.h"

#ifndef IPADDR_TYPE_V4
#define IPADDR_TYPE_V4   0U
#endif
#ifndef IPADDR_TYPE_V6
#define IPADDR_TYPE_V6   6U
#endif
#ifndef IPADDR_TYPE_ANY
#define IPADDR_TYPE_ANY  46U
#endif

#endif /* GONETIF_LWIP_IP_ADDR_H */
