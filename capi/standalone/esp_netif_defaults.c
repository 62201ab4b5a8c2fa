/*
 * The inherent configurations of esp_netif_defaults.h (IDF's own
 * esp_netif_defaults.c in an IDF build); their stack side, the same in
 * both modes, is in capi/glue/netif_list.c.
 */
#include "esp_netif.h"
#include "esp_netif_defaults.h"

const esp_netif_inherent_config_t _g_esp_netif_inherent_sta_config = ESP_NETIF_INHERENT_DEFAULT_WIFI_STA();
const esp_netif_inherent_config_t _g_esp_netif_inherent_eth_config = ESP_NETIF_INHERENT_DEFAULT_ETH();
