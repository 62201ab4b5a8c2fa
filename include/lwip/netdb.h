/*
 * gonetif — lwip/netdb.h: what IDF apps include for getaddrinfo and
 * gethostbyname; the same as <netdb.h> here.
 */
#ifndef GONETIF_LWIP_NETDB_H
#define GONETIF_LWIP_NETDB_H
#include <netdb.h>
#endif
