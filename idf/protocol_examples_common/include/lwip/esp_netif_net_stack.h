/* The glue's view of the lwIP-shaped stack config (both IDF input_fn types). */
#include "../../../../include/lwip/esp_netif_net_stack.h"
