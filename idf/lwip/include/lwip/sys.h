/* lwip/sys.h for IDF builds on gonetif: examples include it for the socket
 * headers it drags in; there is no lwIP OS layer. */
#ifndef GONETIF_IDF_LWIP_SYS_H
#define GONETIF_IDF_LWIP_SYS_H
#include "lwip/err.h"
#include "lwip/sockets.h"
#endif
