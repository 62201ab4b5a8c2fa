/* lwip/tapif.h for IDF builds: gonetif recognises these stack functions. */
#include "../../../../include/lwip/tapif.h"
