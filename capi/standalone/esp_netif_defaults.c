/*
 * The default configuration objects of esp_netif_defaults.h. Ethernet-like
 * interfaces (ETH, Wi-Fi station, bridge) are all backed by gVisor through
 * the ethernetif init/input pair.
 */
#include "esp_netif.h"
#include "esp_netif_defaults.h"
#include "glue.h"

const esp_netif_inherent_config_t _g_esp_netif_inherent_sta_config = ESP_NETIF_INHERENT_DEFAULT_WIFI_STA();
const esp_netif_inherent_config_t _g_esp_netif_inherent_eth_config = ESP_NETIF_INHERENT_DEFAULT_ETH();

static const struct esp_netif_netstack_config ethernet_like = {
    .lwip = {.init_fn = ethernetif_init, .input_fn = ethernetif_input},
};

const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_eth = &ethernet_like;
const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_br = &ethernet_like;
const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_wifi_sta = &ethernet_like;

err_t ethernetif_init(struct netif *netif)
{
    (void)netif;
    return ERR_OK;
}

esp_netif_recv_ret_t ethernetif_input(void *h, void *buffer, size_t len, void *l2_buff)
{
    (void)l2_buff;
    esp_err_t err = gonetif_netif_valid(h) ? gonetif_netif_receive(((esp_netif_t *)h)->id, buffer, len)
                                           : ESP_ERR_ESP_NETIF_INVALID_PARAMS;
#if ESP_NETIF_RECV_RET_T_IS_VOID
    (void)err;
#else
    return err;
#endif
}
