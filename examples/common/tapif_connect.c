/*
 * example_connect() for gonetif: the tapif_io flow of IDF's Linux target.
 * One esp_netif on a TAP device with a static address (or DHCP when
 * CONFIG_EXAMPLE_CONNECT_WAIT_FOR_IP is set and an esp_event loop exists).
 */
#include <stdlib.h>

#include "esp_log.h"
#include "esp_netif.h"
#include "lwip/tapif.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"
#include "tapio.h"

static const char *TAG = "example_connect";
static esp_netif_t *s_netif;

/* tapif_io's own got-IP event id. */
#define TAPIF_GOT_IP_EVENT 0x1234

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

esp_err_t example_connect(void)
{
    esp_netif_driver_ifconfig_t driver = {
        .handle = tapio_create(),
        .transmit = tapio_output,
    };
    if (!driver.handle) {
        ESP_LOGE(TAG, "no TAP device: see scripts/make_tap_netif");
        return ESP_FAIL;
    }
    /* The address can be overridden at run time, so one binary can play
     * several devices. */
    esp_netif_ip_info_t ip = {
        .ip = {.addr = ipaddr_addr(env_or("EXAMPLE_IP", CONFIG_EXAMPLE_CONNECT_TAPIF_IP_ADDR))},
        .netmask = {.addr = ipaddr_addr(env_or("EXAMPLE_NETMASK", CONFIG_EXAMPLE_CONNECT_TAPIF_NETMASK))},
        .gw = {.addr = ipaddr_addr(env_or("EXAMPLE_GW", CONFIG_EXAMPLE_CONNECT_TAPIF_GW))},
    };
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_EVENT_IP_MODIFIED | ESP_NETIF_FLAG_AUTOUP,
        .ip_info = &ip,
        .get_ip_event = TAPIF_GOT_IP_EVENT,
        .if_key = "TAP",
        .if_desc = "tap",
        .route_prio = 100,
    };
    struct esp_netif_netstack_config stack = {
        .lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input},
    };
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};

    s_netif = esp_netif_new(&cfg);
    if (!s_netif) {
        return ESP_FAIL;
    }
    esp_err_t err = esp_netif_attach(s_netif, driver.handle);
    if (err != ESP_OK) {
        return err;
    }
    esp_netif_get_ip_info(s_netif, &ip);
    ESP_LOGI(TAG, "TAP interface up, address " IPSTR ", gateway " IPSTR, IP2STR(&ip.ip), IP2STR(&ip.gw));
    return ESP_OK;
}

esp_err_t example_disconnect(void)
{
    if (s_netif) {
        esp_netif_destroy(s_netif);
        s_netif = NULL;
    }
    return ESP_OK;
}

esp_netif_t *get_example_netif(void)
{
    return s_netif;
}
