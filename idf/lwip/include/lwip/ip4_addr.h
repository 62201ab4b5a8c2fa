/* lwip/ip4_addr.h for IDF builds on gonetif: the repository's header. */
#include "../../../../include/lwip/ip4_addr.h"
