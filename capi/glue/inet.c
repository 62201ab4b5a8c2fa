/*
 * Address helpers of lwIP and esp_netif, on the host's converters (they
 * produce the same results; only the names differ).
 */
#define GONETIF_HOST_SOCKETS 1
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "esp_netif.h"
#include "glue.h"
#include "lwip/ip4_addr.h"
#include "lwip/sockets.h"

int lwip_inet_pton(int af, const char *src, void *dst)
{
    if (!src || !dst) {
        errno = EFAULT;
        return -1;
    }
    return inet_pton(af, src, dst);
}

const char *lwip_inet_ntop(int af, const void *src, char *dst, socklen_t size)
{
    if (!src || !dst) {
        errno = EFAULT;
        return NULL;
    }
    return inet_ntop(af, src, dst, size);
}

uint16_t lwip_htons(uint16_t x) { return htons(x); }
uint32_t lwip_htonl(uint32_t x) { return htonl(x); }
uint16_t lwip_ntohs(uint16_t x) { return ntohs(x); }
uint32_t lwip_ntohl(uint32_t x) { return ntohl(x); }

void lwip_socket_thread_init(void) {}
void lwip_socket_thread_cleanup(void) {}

uint32_t ipaddr_addr(const char *cp)
{
    struct in_addr a;
    if (!cp || !inet_aton(cp, &a)) {
        return IPADDR_NONE;
    }
    return a.s_addr;
}

uint32_t esp_ip4addr_aton(const char *addr)
{
    return ipaddr_addr(addr);
}

char *esp_ip4addr_ntoa(const esp_ip4_addr_t *addr, char *buf, int buflen)
{
    if (!addr || !buf || buflen <= 0) {
        return NULL;
    }
    const uint8_t *b = (const uint8_t *)&addr->addr;
    int n = snprintf(buf, (size_t)buflen, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return n >= 0 && n < buflen ? buf : NULL;
}

esp_err_t esp_netif_str_to_ip4(const char *src, esp_ip4_addr_t *dst)
{
    if (!src || !dst) {
        return ESP_ERR_INVALID_ARG;
    }
    return inet_pton(AF_INET, src, &dst->addr) == 1 ? ESP_OK : ESP_FAIL;
}

esp_err_t esp_netif_str_to_ip6(const char *src, esp_ip6_addr_t *dst)
{
    if (!src || !dst) {
        return ESP_ERR_INVALID_ARG;
    }
    struct in6_addr a;
    if (inet_pton(AF_INET6, src, &a) != 1) {
        return ESP_FAIL;
    }
    memcpy(dst->addr, &a, 16);
    dst->zone = 0;
    return ESP_OK;
}

void esp_netif_set_ip4_addr(esp_ip4_addr_t *addr, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    if (addr) {
        addr->addr = ESP_IP4TOADDR(a, b, c, d);
    }
}

/* Interface names and their rules are gonetif/netif's (impl names such
 * as "tp0", or an if_key); SO_BINDTODEVICE takes the same names. */
unsigned int lwip_if_nametoindex(const char *ifname)
{
    if (!ifname) {
        errno = EFAULT;
        return 0;
    }
    int r = gonetif_if_nametoindex((char *)ifname);
    if (r <= 0) {
        errno = r < 0 ? -r : ENODEV;
        return 0;
    }
    return (unsigned)r;
}

char *lwip_if_indextoname(unsigned int ifindex, char *ifname)
{
    if (!ifname) {
        errno = EFAULT;
        return NULL;
    }
    int r = gonetif_if_indextoname(ifindex, ifname, IF_NAMESIZE);
    if (r < 0) {
        errno = -r;
        return NULL;
    }
    return ifname;
}
