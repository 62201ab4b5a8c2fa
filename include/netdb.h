/*
 * gonetif — <netdb.h>: the host's header (glibc's EAI_* values and struct
 * layouts), then gonetif's resolver under lwIP's names (lwip_getaddrinfo
 * …) and the usual names mapped to them. Define GONETIF_HOST_SOCKETS or
 * LWIP_HDR_LINUX_SYS_SOCKETS_H first to get the host header alone.
 *
 * The names are mapped only once the outermost of these headers is done,
 * so no host declaration is ever read with the mapping in force.
 */
#ifndef GONETIF_SHADOW_NESTED
#define GONETIF_SHADOW_NESTED
#define GONETIF_SHADOW_OUTER_NETDB_H
#endif

#include_next <netdb.h>

#ifndef GONETIF_NETDB_DECLS
#define GONETIF_NETDB_DECLS
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Resolve through the DNS servers of esp_netif (DHCP or set_dns_info). */
int lwip_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
void lwip_freeaddrinfo(struct addrinfo *ai);
const char *lwip_gai_strerror(int errcode);
/* IPv4 only, as lwIP's; the result lives in thread-local storage. */
struct hostent *lwip_gethostbyname(const char *name);
int lwip_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
                         int *h_errnop);
#ifdef __cplusplus
}
#endif
#endif

#ifdef GONETIF_SHADOW_OUTER_NETDB_H
#undef GONETIF_SHADOW_OUTER_NETDB_H
#undef GONETIF_SHADOW_NESTED
#if !defined(GONETIF_HOST_SOCKETS) && !defined(LWIP_HDR_LINUX_SYS_SOCKETS_H)
#include "lwip/sockets.h"
#define getaddrinfo(node, service, hints, res) lwip_getaddrinfo(node, service, hints, res)
#define freeaddrinfo(ai) lwip_freeaddrinfo(ai)
#define gai_strerror(errcode) lwip_gai_strerror(errcode)
#define gethostbyname(name) lwip_gethostbyname(name)
#define gethostbyname_r(name, ret, buf, buflen, result, h_errnop) \
    lwip_gethostbyname_r(name, ret, buf, buflen, result, h_errnop)
#endif
#endif
