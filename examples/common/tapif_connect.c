/*
 * example_connect() for gonetif: the tapif_io flow of IDF's Linux target.
 * One esp_netif on a TAP device with a static address, or with DHCP when
 * CONFIG_EXAMPLE_CONNECT_WAIT_FOR_IP is set or EXAMPLE_DHCP=1 at run time:
 * then, as tapif_io does, it calls esp_netif_action_connected and waits
 * for the interface's got-IP event (0x1234) from the default event loop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp_event.h"
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

/* The app's wait, signalled from the handler on the sys_evt thread (a
 * FreeRTOS event group in IDF's version). */
static pthread_mutex_t got_ip_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t got_ip_cv = PTHREAD_COND_INITIALIZER;
static int got_ip;

static void on_got_ip(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    const ip_event_got_ip_t *ev = data;
    ESP_LOGI(TAG, "got IP event for %s: " IPSTR, esp_netif_get_desc(ev->esp_netif), IP2STR(&ev->ip_info.ip));
    pthread_mutex_lock(&got_ip_mu);
    got_ip = 1;
    pthread_cond_broadcast(&got_ip_cv);
    pthread_mutex_unlock(&got_ip_mu);
}

static int dhcp_mode(void)
{
#ifdef CONFIG_EXAMPLE_CONNECT_WAIT_FOR_IP
    return 1;
#else
    const char *v = getenv("EXAMPLE_DHCP");
    return v && !strcmp(v, "1");
#endif
}

/* DHCP: start the client and wait for the got-IP event (bounded by
 * EXAMPLE_DHCP_TIMEOUT_S, default 30 s, where IDF waits forever). */
static esp_err_t wait_for_ip(esp_netif_t *netif)
{
    esp_err_t err = esp_event_handler_register(IP_EVENT, TAPIF_GOT_IP_EVENT, on_got_ip, NULL);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_event_handler_register: %s (create the default event loop first)", esp_err_to_name(err));
        return err;
    }
    ESP_LOGI(TAG, "Waiting for IP addresses...");
    esp_netif_action_connected(netif, NULL, 0, NULL);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += atoi(env_or("EXAMPLE_DHCP_TIMEOUT_S", "30"));
    pthread_mutex_lock(&got_ip_mu);
    int rc = 0;
    while (!got_ip && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&got_ip_cv, &got_ip_mu, &until);
    }
    int ok = got_ip;
    pthread_mutex_unlock(&got_ip_mu);
    esp_event_handler_unregister(IP_EVENT, TAPIF_GOT_IP_EVENT, on_got_ip);
    if (!ok) {
        ESP_LOGE(TAG, "no DHCP lease: is a DHCP server running on the TAP's host side? (see README)");
        return ESP_ERR_TIMEOUT;
    }
    esp_netif_ip_info_t ip;
    esp_netif_get_ip_info(netif, &ip);
    ESP_LOGI(TAG, "Assigned IP address:" IPSTR ", gateway " IPSTR, IP2STR(&ip.ip), IP2STR(&ip.gw));
    return ESP_OK;
}

esp_err_t example_connect(void)
{
    int dhcp = dhcp_mode();
    esp_netif_driver_ifconfig_t driver = {
        .handle = tapio_create(),
        .transmit = tapio_output,
    };
    if (!driver.handle) {
        /* gonetif logged why just before (a missing TAP, a bad GONETIF_*
         * value, a capture file it cannot write ...). */
        ESP_LOGE(TAG, "could not open the TAP driver: see the error above");
        return ESP_FAIL;
    }
    /* The address can be overridden at run time, so one binary can play
     * several devices. */
    esp_netif_ip_info_t ip = {0};
    if (!dhcp) {
        ip.ip.addr = ipaddr_addr(env_or("EXAMPLE_IP", CONFIG_EXAMPLE_CONNECT_TAPIF_IP_ADDR));
        ip.netmask.addr = ipaddr_addr(env_or("EXAMPLE_NETMASK", CONFIG_EXAMPLE_CONNECT_TAPIF_NETMASK));
        ip.gw.addr = ipaddr_addr(env_or("EXAMPLE_GW", CONFIG_EXAMPLE_CONNECT_TAPIF_GW));
    }
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_EVENT_IP_MODIFIED | ESP_NETIF_FLAG_AUTOUP | (dhcp ? ESP_NETIF_DHCP_CLIENT : 0),
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
    if (dhcp) {
        return wait_for_ip(s_netif);
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
