/*
 * example_connect() for IDF's linux target on gonetif: one TAP interface
 * (tapio_create: name, MAC and loss from Kconfig or GONETIF_*), a static
 * address or DHCP, and an IPv6 link-local address. Waits (bounded) for the
 * address events, so the example's first socket call finds a configured
 * interface.
 */
#include <arpa/inet.h>
#include <string.h>

#include "esp_err.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "lwip/tapif.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"
#include "tapio.h"

static const char *TAG = "example_connect";

/* tapif_io's own event id for "this TAP got its IPv4 address". */
#define TAP_GOT_IP_EVENT 0x1234
#define GOT_IP4_BIT (1u << 0)
#define GOT_IP6_BIT (1u << 1)

#if CONFIG_EXAMPLE_CONNECT_WAIT_FOR_IP
#define IS_ENABLED_WAIT_FOR_IP 1
#else
#define IS_ENABLED_WAIT_FOR_IP 0
#endif
#ifndef CONFIG_EXAMPLE_CONNECT_WAIT_TIMEOUT_S
#define CONFIG_EXAMPLE_CONNECT_WAIT_TIMEOUT_S 30
#endif

static esp_netif_t *s_netif;
static EventGroupHandle_t s_bits;

static void on_ip_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    if (id == TAP_GOT_IP_EVENT) {
        xEventGroupSetBits(s_bits, GOT_IP4_BIT);
    } else if (id == IP_EVENT_GOT_IP6) {
        const ip_event_got_ip6_t *ev = data;
        if (ev->esp_netif == s_netif) {
            ESP_LOGI(TAG, "IPv6 address " IPV6STR, IPV62STR(ev->ip6_info.ip));
            xEventGroupSetBits(s_bits, GOT_IP6_BIT);
        }
    }
}

static uint32_t parse_ip4(const char *text)
{
    struct in_addr a;
    if (inet_pton(AF_INET, text, &a) != 1) {
        ESP_LOGE(TAG, "bad IPv4 address in Kconfig: '%s'", text);
        return 0;
    }
    return a.s_addr;
}

esp_err_t example_connect(void)
{
#if CONFIG_EXAMPLE_CONNECT_LWIP_TAPIF
    if (s_netif) {
        return ESP_OK;
    }
    void *tap = tapio_create();
    if (!tap) {
        ESP_LOGE(TAG, "no TAP device (see the log above): not connected");
        return ESP_FAIL;
    }
    esp_netif_driver_ifconfig_t driver = {.handle = tap, .transmit = tapio_output};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_ip_info_t ip = {0};
    esp_netif_flags_t flags = ESP_NETIF_FLAG_AUTOUP | ESP_NETIF_FLAG_EVENT_IP_MODIFIED;
#if CONFIG_EXAMPLE_CONNECT_WAIT_FOR_IP
    flags |= ESP_NETIF_DHCP_CLIENT;
#else
    ip.ip.addr = parse_ip4(CONFIG_EXAMPLE_CONNECT_TAPIF_IP_ADDR);
    ip.netmask.addr = parse_ip4(CONFIG_EXAMPLE_CONNECT_TAPIF_NETMASK);
    ip.gw.addr = parse_ip4(CONFIG_EXAMPLE_CONNECT_TAPIF_GW);
    if (!ip.ip.addr || !ip.netmask.addr) {
        return ESP_ERR_INVALID_ARG;
    }
#endif
    esp_netif_inherent_config_t base = {
        .flags = flags,
        .ip_info = &ip,
        .get_ip_event = TAP_GOT_IP_EVENT,
        .if_key = "TAP",
        .if_desc = EXAMPLE_NETIF_DESC_TAPIF,
        .route_prio = 100,
    };
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    s_bits = xEventGroupCreate();
    esp_err_t err = esp_event_handler_register(IP_EVENT, ESP_EVENT_ANY_ID, on_ip_event, NULL);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_event_handler_register: %s (call esp_event_loop_create_default() first)",
                 esp_err_to_name(err));
        return err;
    }
    s_netif = esp_netif_new(&cfg);
    if (!s_netif) {
        return ESP_FAIL;
    }
    err = esp_netif_attach(s_netif, tap);
    if (err != ESP_OK) {
        return err;
    }
    EventBits_t want = GOT_IP4_BIT;
#if CONFIG_EXAMPLE_CONNECT_IPV6
    esp_netif_create_ip6_linklocal(s_netif);
    want |= GOT_IP6_BIT;
#endif
    /* Static or DHCP: "connected" brings the interface up and, with the
     * DHCP flag, starts the client; the got-IP event follows either way. */
    esp_netif_action_connected(s_netif, NULL, 0, NULL);
    ESP_LOGI(TAG, "waiting for %s address%s", IS_ENABLED_WAIT_FOR_IP ? "a DHCP" : "the static",
             (want & GOT_IP6_BIT) ? " and IPv6 link-local" : "");
    EventBits_t got = xEventGroupWaitBits(s_bits, want, pdFALSE, pdTRUE,
                                          pdMS_TO_TICKS(CONFIG_EXAMPLE_CONNECT_WAIT_TIMEOUT_S * 1000));
    if ((got & want) != want) {
        ESP_LOGE(TAG, "no %s within %d s", (got & GOT_IP4_BIT) ? "IPv6 address" : "IPv4 address",
                 CONFIG_EXAMPLE_CONNECT_WAIT_TIMEOUT_S);
        return ESP_ERR_TIMEOUT;
    }
    esp_netif_get_ip_info(s_netif, &ip);
    ESP_LOGI(TAG, "connected: " IPSTR "/" IPSTR " gw " IPSTR, IP2STR(&ip.ip), IP2STR(&ip.netmask), IP2STR(&ip.gw));
#endif
    return ESP_OK;
}

esp_err_t example_disconnect(void)
{
    if (!s_netif) {
        return ESP_ERR_INVALID_STATE;
    }
    esp_event_handler_unregister(IP_EVENT, ESP_EVENT_ANY_ID, on_ip_event);
    esp_netif_action_disconnected(s_netif, NULL, 0, NULL);
    esp_netif_destroy(s_netif);
    s_netif = NULL;
    return ESP_OK;
}

esp_netif_t *get_example_netif(void)
{
    return s_netif;
}

esp_netif_t *get_example_netif_from_desc(const char *desc)
{
    return s_netif && desc && strcmp(desc, EXAMPLE_NETIF_DESC_TAPIF) == 0 ? s_netif : NULL;
}
