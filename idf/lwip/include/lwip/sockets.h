/* lwip/sockets.h for IDF builds on gonetif: the repository's header. */
#include "../../../../include/lwip/sockets.h"
