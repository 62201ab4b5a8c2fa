/*
 * gonetif — lwip/inet.h: address conversion. inet_addr, inet_aton and
 * inet_ntoa are the host's (same results as lwIP's); inet_pton and
 * inet_ntop map to lwip_inet_pton/ntop through lwip/sockets.h.
 */
#ifndef GONETIF_LWIP_INET_H
#define GONETIF_LWIP_INET_H
#include "lwip/sockets.h"
#endif
