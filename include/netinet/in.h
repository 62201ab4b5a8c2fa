/*
 * gonetif — <netinet/in.h>: the host's header, then gonetif's socket names (see
 * lwip/sockets.h). Define GONETIF_HOST_SOCKETS or LWIP_HDR_LINUX_SYS_SOCKETS_H
 * first to get the host header alone.
 *
 * The names are mapped only once the outermost of these headers is done,
 * so no host declaration is ever read with the mapping in force.
 */
#ifndef GONETIF_SHADOW_NESTED
#define GONETIF_SHADOW_NESTED
#define GONETIF_SHADOW_OUTER_NETINET_IN_H
#endif

#include_next <netinet/in.h>

#ifdef GONETIF_SHADOW_OUTER_NETINET_IN_H
#undef GONETIF_SHADOW_OUTER_NETINET_IN_H
#undef GONETIF_SHADOW_NESTED
#if !defined(GONETIF_HOST_SOCKETS) && !defined(LWIP_HDR_LINUX_SYS_SOCKETS_H)
#include "lwip/sockets.h"
#endif
#endif
