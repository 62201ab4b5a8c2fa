/* tapio.h for IDF builds: gonetif's TAP driver. */
#include "../../../include/tapio.h"
