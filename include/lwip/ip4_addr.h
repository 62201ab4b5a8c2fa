/*
 * gonetif — lwip/ip4_addr.h
 *
 * The IPv4 address type and the ipaddr_addr() converter of lwIP, enough for
 * code such as tapif_io's linux_connect.c (which gets ipaddr_addr through
 * lwip/tapif.h).  ipaddr_addr() is implemented by gonetif.
 */
#ifndef GONETIF_LWIP_IP4_ADDR_H
#define GONETIF_LWIP_IP4_ADDR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same layout as esp_ip4_addr_t: one network-order word. */
struct ip4_addr {
    uint32_t addr;
};
typedef struct ip4_addr ip4_addr_t;

/* Special addresses (network order of all-ones is all-ones). */
#ifndef IPADDR_NONE
#define IPADDR_NONE         ((uint32_t)0xffffffffUL)
#endif
#ifndef IPADDR_ANY
#define IPADDR_ANY          ((uint32_t)0x00000000UL)
#endif
#ifndef IPADDR_BROADCAST
#define IPADDR_BROADCAST    ((uint32_t)0xffffffffUL)
#endif

#define ip4_addr_get_u32(src_ipaddr)        ((src_ipaddr)->addr)
#define ip4_addr_set_u32(dest_ipaddr, src_u32) ((dest_ipaddr)->addr = (src_u32))
#define ip4_addr_isany_val(addr1)           ((addr1).addr == IPADDR_ANY)
#define ip4_addr_isany(addr1)               ((addr1) == NULL || ip4_addr_isany_val(*(addr1)))

/**
 * Network-order value of a dotted IPv4 text, IPADDR_NONE (0xffffffff) if
 * it is not one.  (As in lwIP, "255.255.255.255" is indistinguishable.)
 */
uint32_t ipaddr_addr(const char *cp);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_LWIP_IP4_ADDR_H */
