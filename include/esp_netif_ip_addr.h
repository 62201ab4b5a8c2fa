/*
 * gonetif — esp_netif_ip_addr.h
 *
 * IP address types and helper macros of ESP-IDF's esp_netif.  The types
 * have the same layout as lwIP's (ip4_addr_t, ip6_addr_t with zone, and
 * dual-stack ip_addr_t), as IDF guarantees.
 *
 * Addresses are stored in NETWORK byte order.
 */
#ifndef GONETIF_ESP_NETIF_IP_ADDR_H
#define GONETIF_ESP_NETIF_IP_ADDR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- byte order ------------------------------------------------------------ */

#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define esp_netif_htonl(x) ((uint32_t)(x))
#else
/* Constant-expression byte swap, usable in static initializers. */
#define esp_netif_htonl(x) ((uint32_t)(                          \
        (((uint32_t)(x) & 0x000000ffUL) << 24) |                 \
        (((uint32_t)(x) & 0x0000ff00UL) <<  8) |                 \
        (((uint32_t)(x) & 0x00ff0000UL) >>  8) |                 \
        (((uint32_t)(x) & 0xff000000UL) >> 24)))
#endif

/* Host-order value of a.b.c.d. */
#define esp_netif_ip4_makeu32(a, b, c, d) ((uint32_t)(           \
        ((uint32_t)((a) & 0xffU) << 24) |                        \
        ((uint32_t)((b) & 0xffU) << 16) |                        \
        ((uint32_t)((c) & 0xffU) <<  8) |                        \
         (uint32_t)((d) & 0xffU)))
#define ESP_IP4TOUINT32(a, b, c, d) esp_netif_ip4_makeu32(a, b, c, d)

/* Network-order value of a.b.c.d (the esp_ip4_addr_t.addr of it). */
#define ESP_IP4TOADDR(a, b, c, d) esp_netif_htonl(ESP_IP4TOUINT32(a, b, c, d))

/* ---- printing -------------------------------------------------------------- */

/* Byte idx (0..3) of an esp_ip4_addr_t, in memory order; ipaddr is a POINTER. */
#define esp_ip4_addr_get_byte(ipaddr, idx) (((const uint8_t *)(&(ipaddr)->addr))[idx])
#define esp_ip4_addr1(ipaddr) esp_ip4_addr_get_byte(ipaddr, 0)
#define esp_ip4_addr2(ipaddr) esp_ip4_addr_get_byte(ipaddr, 1)
#define esp_ip4_addr3(ipaddr) esp_ip4_addr_get_byte(ipaddr, 2)
#define esp_ip4_addr4(ipaddr) esp_ip4_addr_get_byte(ipaddr, 3)
#define esp_ip4_addr1_16(ipaddr) ((uint16_t)esp_ip4_addr1(ipaddr))
#define esp_ip4_addr2_16(ipaddr) ((uint16_t)esp_ip4_addr2(ipaddr))
#define esp_ip4_addr3_16(ipaddr) ((uint16_t)esp_ip4_addr3(ipaddr))
#define esp_ip4_addr4_16(ipaddr) ((uint16_t)esp_ip4_addr4(ipaddr))

/* printf("addr " IPSTR "\n", IP2STR(&info.ip));   -- IP2STR takes a POINTER */
#define IP2STR(ipaddr) esp_ip4_addr1_16(ipaddr), \
                       esp_ip4_addr2_16(ipaddr), \
                       esp_ip4_addr3_16(ipaddr), \
                       esp_ip4_addr4_16(ipaddr)
#define IPSTR "%d.%d.%d.%d"

/* 16-bit groups 1..8 of an esp_ip6_addr_t; ip6addr is a POINTER. */
#define ESP_IP6_ADDR_BLOCK1(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[0]) >> 16) & 0xffff))
#define ESP_IP6_ADDR_BLOCK2(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[0])) & 0xffff))
#define ESP_IP6_ADDR_BLOCK3(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[1]) >> 16) & 0xffff))
#define ESP_IP6_ADDR_BLOCK4(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[1])) & 0xffff))
#define ESP_IP6_ADDR_BLOCK5(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[2]) >> 16) & 0xffff))
#define ESP_IP6_ADDR_BLOCK6(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[2])) & 0xffff))
#define ESP_IP6_ADDR_BLOCK7(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[3]) >> 16) & 0xffff))
#define ESP_IP6_ADDR_BLOCK8(ip6addr) ((uint16_t)((esp_netif_htonl((ip6addr)->addr[3])) & 0xffff))

#define IPV6STR "%04x:%04x:%04x:%04x:%04x:%04x:%04x:%04x"

/* printf(IPV6STR, IPV62STR(ip6));   -- unlike IP2STR, IPV62STR takes an LVALUE */
#define IPV62STR(ipaddr) ESP_IP6_ADDR_BLOCK1(&(ipaddr)), \
                         ESP_IP6_ADDR_BLOCK2(&(ipaddr)), \
                         ESP_IP6_ADDR_BLOCK3(&(ipaddr)), \
                         ESP_IP6_ADDR_BLOCK4(&(ipaddr)), \
                         ESP_IP6_ADDR_BLOCK5(&(ipaddr)), \
                         ESP_IP6_ADDR_BLOCK6(&(ipaddr)), \
                         ESP_IP6_ADDR_BLOCK7(&(ipaddr)), \
                         ESP_IP6_ADDR_BLOCK8(&(ipaddr))

/* ---- address family tags (values of esp_ip_addr_t.type, as lwIP's) -------- */

#define ESP_IPADDR_TYPE_V4   0U
#define ESP_IPADDR_TYPE_V6   6U
#define ESP_IPADDR_TYPE_ANY  46U

#ifndef IP4ADDR_STRLEN_MAX
#define IP4ADDR_STRLEN_MAX 16
#endif

/* ---- types ---------------------------------------------------------------- */

/* IPv6 address: four network-order words and a zone (scope) index; 20 bytes. */
struct esp_ip6_addr {
    uint32_t addr[4];
    uint8_t  zone;
};

/* IPv4 address, network order; 4 bytes. */
struct esp_ip4_addr {
    uint32_t addr;
};

typedef struct esp_ip4_addr esp_ip4_addr_t;
typedef struct esp_ip6_addr esp_ip6_addr_t;

/* Either family; the IPv6 member comes first, as in lwIP.  24 bytes. */
typedef struct _ip_addr {
    union {
        esp_ip6_addr_t ip6;
        esp_ip4_addr_t ip4;
    } u_addr;
    uint8_t type;   /* ESP_IPADDR_TYPE_V4 / _V6 */
} esp_ip_addr_t;

/* Kind of an IPv6 address (esp_netif_ip6_get_addr_type()). */
typedef enum {
    ESP_IP6_ADDR_IS_UNKNOWN,
    ESP_IP6_ADDR_IS_GLOBAL,
    ESP_IP6_ADDR_IS_LINK_LOCAL,
    ESP_IP6_ADDR_IS_SITE_LOCAL,
    ESP_IP6_ADDR_IS_UNIQUE_LOCAL,
    ESP_IP6_ADDR_IS_IPV4_MAPPED_IPV6
} esp_ip6_addr_type_t;

/* ---- initializers ---------------------------------------------------------- */

/* esp_ip_addr_t initializers.  a..d are bytes for IPv4, 32-bit words for IPv6. */
#define ESP_IP4ADDR_INIT(a, b, c, d) \
    { .u_addr = { .ip4 = { .addr = ESP_IP4TOADDR(a, b, c, d) } }, .type = ESP_IPADDR_TYPE_V4 }
#define ESP_IP6ADDR_INIT(a, b, c, d) \
    { .u_addr = { .ip6 = { .addr = { a, b, c, d }, .zone = 0 } }, .type = ESP_IPADDR_TYPE_V6 }

/*
 * True when an esp_ip_addr_t (given BY VALUE, an lvalue) is the unspecified
 * address of its family (0.0.0.0 or ::).  Other type values are never "any".
 */
#define ESP_IP_IS_ANY(ipaddr)                                                         \
    ((((ipaddr).type == ESP_IPADDR_TYPE_V4) && ((ipaddr).u_addr.ip4.addr == 0)) ||      \
     (((ipaddr).type == ESP_IPADDR_TYPE_V6) &&                                          \
      (((ipaddr).u_addr.ip6.addr[0] | (ipaddr).u_addr.ip6.addr[1] |                     \
        (ipaddr).u_addr.ip6.addr[2] | (ipaddr).u_addr.ip6.addr[3]) == 0)))

/* ---- helpers --------------------------------------------------------------- */

/* Copy an address: the family tag, then the address of that family (an IPv4
 * copy zeroes the rest of the IPv6 storage and the zone). */
static inline void esp_netif_ip_addr_copy(esp_ip_addr_t *dest, const esp_ip_addr_t *src)
{
    dest->type = src->type;
    if (src->type == ESP_IPADDR_TYPE_V6) {
        dest->u_addr.ip6.addr[0] = src->u_addr.ip6.addr[0];
        dest->u_addr.ip6.addr[1] = src->u_addr.ip6.addr[1];
        dest->u_addr.ip6.addr[2] = src->u_addr.ip6.addr[2];
        dest->u_addr.ip6.addr[3] = src->u_addr.ip6.addr[3];
        dest->u_addr.ip6.zone = src->u_addr.ip6.zone;
    } else {
        dest->u_addr.ip4.addr = src->u_addr.ip4.addr;
        dest->u_addr.ip6.addr[1] = 0;
        dest->u_addr.ip6.addr[2] = 0;
        dest->u_addr.ip6.addr[3] = 0;
        dest->u_addr.ip6.zone = 0;
    }
}

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_NETIF_IP_ADDR_H */
