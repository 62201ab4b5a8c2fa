/* lwip/tapif.h for IDF builds. */
#include "../../../../include/lwip/tapif.h"
