/* tapio.h for IDF builds: gonetif's TAP driver (several TAPs, no root). */
#include "../../../include/tapio.h"
