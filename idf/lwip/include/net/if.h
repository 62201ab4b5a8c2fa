/*
 * <net/if.h> in IDF builds on gonetif: the host's header plus gonetif's
 * interface-name functions (if_nametoindex/if_indextoname themselves are
 * mapped at link level, see esp_netif_stack/posix_names.c).
 */
#ifndef GONETIF_IDF_NET_IF_H
#define GONETIF_IDF_NET_IF_H
#include_next <net/if.h>
#ifdef __cplusplus
extern "C" {
#endif
unsigned int lwip_if_nametoindex(const char *ifname);
char *lwip_if_indextoname(unsigned int ifindex, char *ifname);
#ifdef __cplusplus
}
#endif
#endif
