/*
 * gonetif — <net/if.h>: the host's header, with if_nametoindex and
 * if_indextoname mapped to gonetif's interfaces (names as returned by
 * esp_netif_get_netif_impl_name, e.g. "tp0"; an if_key is accepted too).
 * Define GONETIF_HOST_SOCKETS or LWIP_HDR_LINUX_SYS_SOCKETS_H first for the
 * host's functions.
 */
#ifndef GONETIF_NET_IF_H
#define GONETIF_NET_IF_H
#include_next <net/if.h>

#ifdef __cplusplus
extern "C" {
#endif
unsigned int lwip_if_nametoindex(const char *ifname);
char *lwip_if_indextoname(unsigned int ifindex, char *ifname);
#ifdef __cplusplus
}
#endif

#if !defined(GONETIF_HOST_SOCKETS) && !defined(LWIP_HDR_LINUX_SYS_SOCKETS_H)
#define if_nametoindex(name) lwip_if_nametoindex(name)
#define if_indextoname(index, name) lwip_if_indextoname(index, name)
#endif
#endif
