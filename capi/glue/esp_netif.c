/*
 * esp_netif on gonetif: IDF structs in, plain values to Go, esp_err_t out.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "glue.h"
#include "net/if.h"
#include "port.h"

/* IDF 5.x (IDF builds define GONETIF_IDF_V5): no mtu in the inherent
 * config, no netif up/down events, a non-const ip6 address-type argument. */
#ifdef GONETIF_IDF_V5
#define GONETIF_BASE_MTU(base) 0
#define GONETIF_IP6_TYPE_ARG_CONST
#define GONETIF_HAVE_NETIF_STATUS_EVENTS 0
#define GONETIF_NETIF_UP_EVENT (IP_EVENT_TX_RX + 1)
#define GONETIF_NETIF_DOWN_EVENT (IP_EVENT_TX_RX + 2)
#else
#define GONETIF_BASE_MTU(base) ((base)->mtu)
#define GONETIF_IP6_TYPE_ARG_CONST const
#define GONETIF_HAVE_NETIF_STATUS_EVENTS 1
#define GONETIF_NETIF_UP_EVENT IP_EVENT_NETIF_UP
#define GONETIF_NETIF_DOWN_EVENT IP_EVENT_NETIF_DOWN
#endif
#include "lwip/tapif.h"
#include "tapio.h"

static const char *TAG = "esp_netif";

/* Interface kinds we back with gVisor; anything else is refused, not
 * silently mis-emulated. */
static int known_init_fn(init_fn_t fn)
{
    return fn == lwip_tapif_init || fn == ethernetif_init;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

esp_err_t esp_netif_init(void)
{
    esp_err_t rc = gonetif_glue_init();
    /* The host may have replaced Go's fault handlers since (IDF does). */
    gonetif_signals_after_start();
    return rc;
}

esp_err_t esp_netif_deinit(void)
{
    return ESP_ERR_NOT_SUPPORTED;
}

esp_netif_t *esp_netif_new(const esp_netif_config_t *cfg)
{
    if (!cfg || !cfg->base || !cfg->base->if_key || !cfg->stack) {
        ESP_LOGE(TAG, "esp_netif_new: config, base, if_key and stack are required");
        return NULL;
    }
    const esp_netif_inherent_config_t *base = cfg->base;
    if (!known_init_fn(cfg->stack->lwip.init_fn)) {
        ESP_LOGE(TAG, "esp_netif_new(%s): unsupported netstack init_fn %p; gonetif backs lwip_tapif_init "
                      "and ethernetif_init interfaces",
                 base->if_key, (void *)cfg->stack->lwip.init_fn);
        return NULL;
    }
    if (gonetif_glue_init() != 0) {
        ESP_LOGE(TAG, "esp_netif_new: stack not available");
        return NULL;
    }
    esp_netif_t *n = calloc(1, sizeof(*n));
    if (!n) {
        ESP_LOGE(TAG, "esp_netif_new: out of memory");
        return NULL;
    }
    esp_netif_ip_info_t ip = {0};
    if (base->ip_info) {
        ip = *base->ip_info;
    }
    static const uint8_t zero_mac[6];
    /* Names are lwIP's: "tp" for the TAP driver, "en" for the others. */
    const char *prefix = cfg->stack->lwip.init_fn == lwip_tapif_init ? "tp" : "en";
    int id = gonetif_netif_new(n, (char *)base->if_key, (char *)base->if_desc, (char *)prefix, (uint32_t)base->flags,
                               memcmp(base->mac, zero_mac, 6) ? (uint8_t *)base->mac : NULL, ip.ip.addr,
                               ip.netmask.addr, ip.gw.addr, base->route_prio, GONETIF_BASE_MTU(base), base->get_ip_event,
                               base->lost_ip_event);
    if (id < 0) {
        free(n);
        return NULL; /* Go logged why */
    }
    n->magic = GONETIF_NETIF_MAGIC;
    n->id = id;
    n->if_key = dup_or_null(base->if_key);
    n->if_desc = dup_or_null(base->if_desc);
    n->flags = base->flags;
    n->get_ip_event = base->get_ip_event;
    n->lost_ip_event = base->lost_ip_event;
    n->old_ip_info = ip;
    n->stack = *cfg->stack;
    if (cfg->driver) {
        n->driver = *cfg->driver;
    }
    gonetif_list_add(n);
    return n;
}

void esp_netif_destroy(esp_netif_t *netif)
{
    if (!gonetif_netif_valid(netif)) {
        if (netif) {
            ESP_LOGE(TAG, "esp_netif_destroy: not an esp_netif (%p)", (void *)netif);
        }
        return;
    }
    /* Stop the stack side first: its teardown may still send (MLD/IGMP
     * leave), and those frames must find a listed netif and its driver. */
    gonetif_netif_destroy(netif->id);
    gonetif_tapio_release(netif->driver.handle);
    gonetif_list_remove(netif);
    netif->magic = 0;
    free(netif->if_key);
    free(netif->if_desc);
    free(netif->hostname);
    free(netif);
}

#define CHECK_NETIF(n, err)                                                                                  \
    do {                                                                                                     \
        if (!gonetif_netif_valid(n)) {                                                                       \
            ESP_LOGE(TAG, "%s: invalid esp_netif handle %p", __func__, (void *)(n));                          \
            return (err);                                                                                    \
        }                                                                                                    \
    } while (0)

esp_err_t esp_netif_set_driver_config(esp_netif_t *netif, const esp_netif_driver_ifconfig_t *cfg)
{
    CHECK_NETIF(netif, ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    if (!cfg) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    netif->driver = *cfg;
    return ESP_OK;
}

esp_err_t esp_netif_attach(esp_netif_t *netif, esp_netif_iodriver_handle driver_handle)
{
    CHECK_NETIF(netif, ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    if (!driver_handle) {
        ESP_LOGE(TAG, "esp_netif_attach(%s): NULL driver handle (did the driver fail to open?)", netif->if_key);
        return ESP_ERR_ESP_NETIF_DRIVER_ATTACH_FAILED;
    }
    netif->driver.handle = driver_handle;
    esp_netif_driver_base_t *base = driver_handle;
    if (base->post_attach) {
        esp_err_t err = base->post_attach(netif, driver_handle);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "esp_netif_attach(%s): driver post_attach failed: %s", netif->if_key,
                     esp_err_to_name(err));
            return ESP_ERR_ESP_NETIF_DRIVER_ATTACH_FAILED;
        }
    }
    return ESP_OK;
}

/* Hook for the driver side of the Go archive: frames for a C driver. */
static int transmit_to_driver(void *cookie, const void *frame, size_t len)
{
    return esp_netif_transmit((esp_netif_t *)cookie, (void *)frame, len);
}

esp_err_t esp_netif_transmit(esp_netif_t *netif, void *data, size_t len)
{
    CHECK_NETIF(netif, ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    if (!data || !len) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!netif->driver.transmit) {
        return gonetif_netif_transmit_link(netif->id, data, len);
    }
    return netif->driver.transmit(netif->driver.handle, data, len);
}

esp_err_t esp_netif_transmit_wrap(esp_netif_t *netif, void *data, size_t len, void *netstack_buf)
{
    CHECK_NETIF(netif, ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    if (netif->driver.transmit_wrap) {
        return netif->driver.transmit_wrap(netif->driver.handle, data, len, netstack_buf);
    }
    return esp_netif_transmit(netif, data, len);
}

esp_err_t esp_netif_receive(esp_netif_t *netif, void *buffer, size_t len, void *eb)
{
    CHECK_NETIF(netif, ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    if (!buffer || !len) {
        ESP_LOGW(TAG, "esp_netif_receive(%s): empty frame", netif->if_key);
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = ESP_OK;
    input_fn_t in = netif->stack.lwip.input_fn;
    if (!in || in == lwip_tapif_input || in == ethernetif_input) { /* ours: the frame is copied */
        err = gonetif_netif_receive(netif->id, buffer, len);
    } else {
#if ESP_NETIF_RECV_RET_T_IS_VOID
        netif->stack.lwip.input_fn(netif, buffer, len, eb);
#else
        err = netif->stack.lwip.input_fn(netif, buffer, len, eb);
#endif
        eb = NULL; /* that input function owns the buffer now */
    }
    /* The frame was copied: hand a driver-owned buffer back at once. */
    if (eb && netif->driver.driver_free_rx_buffer) {
        netif->driver.driver_free_rx_buffer(netif->driver.handle, eb);
    }
    return err;
}

void esp_netif_free_rx_buffer(void *h, void *buffer)
{
    esp_netif_t *netif = h;
    if (gonetif_netif_valid(netif) && netif->driver.driver_free_rx_buffer) {
        netif->driver.driver_free_rx_buffer(netif->driver.handle, buffer);
    }
}

void esp_netif_action_start(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id, (void)data;
    esp_netif_t *netif = esp_netif;
    if (!gonetif_netif_valid(netif)) {
        ESP_LOGE(TAG, "esp_netif_action_start: invalid esp_netif handle %p", esp_netif);
        return;
    }
    if (gonetif_netif_has_link(netif->id) != 1) {
        int link = gonetif_tapio_link_of(netif->driver.handle);
        int rc;
        if (link > 0 && netif->driver.transmit == tapio_output) {
            rc = gonetif_netif_attach_link(netif->id, link);
        } else if (netif->driver.transmit && netif->driver.handle) {
            rc = gonetif_netif_attach_driver(netif->id);
        } else {
            ESP_LOGE(TAG, "esp_netif_action_start(%s): no driver (handle and transmit are required)",
                     netif->if_key);
            return;
        }
        if (rc != ESP_OK) {
            return; /* Go logged why */
        }
    }
    if (gonetif_netif_start(netif->id) != ESP_OK) {
        ESP_LOGE(TAG, "esp_netif_action_start(%s): start failed", netif->if_key);
    }
}

void esp_netif_action_stop(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id, (void)data;
    if (gonetif_netif_valid(esp_netif)) {
        gonetif_netif_stop(((esp_netif_t *)esp_netif)->id);
    }
}

void esp_netif_action_connected(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id, (void)data;
    if (gonetif_netif_valid(esp_netif)) {
        gonetif_netif_connected(((esp_netif_t *)esp_netif)->id);
    }
}

void esp_netif_action_disconnected(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id, (void)data;
    if (gonetif_netif_valid(esp_netif)) {
        gonetif_netif_disconnected(((esp_netif_t *)esp_netif)->id);
    }
}

void esp_netif_action_got_ip(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id;
    const ip_event_got_ip_t *ev = data;
    if (!gonetif_netif_valid(esp_netif) || !ev) {
        return;
    }
    ESP_LOGI(TAG, "%s ip: " IPSTR ", mask: " IPSTR ", gw: " IPSTR, ((esp_netif_t *)esp_netif)->if_desc,
             IP2STR(&ev->ip_info.ip), IP2STR(&ev->ip_info.netmask), IP2STR(&ev->ip_info.gw));
}

esp_err_t esp_netif_set_default_netif(esp_netif_t *netif)
{
    if (netif && !gonetif_netif_valid(netif)) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_set_default(netif ? netif->id : 0);
}

esp_netif_t *esp_netif_get_default_netif(void)
{
    return gonetif_list_by_id(gonetif_netif_get_default());
}

int esp_netif_set_route_prio(esp_netif_t *netif, int route_prio)
{
    if (!gonetif_netif_valid(netif)) {
        return -1;
    }
    return gonetif_netif_set_route_prio(netif->id, route_prio);
}

int esp_netif_get_route_prio(esp_netif_t *netif)
{
    if (!gonetif_netif_valid(netif)) {
        return -1;
    }
    return gonetif_netif_get_route_prio(netif->id);
}

esp_err_t esp_netif_set_mac(esp_netif_t *netif, uint8_t mac[])
{
    CHECK_NETIF(netif, ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    if (!mac) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_set_mac(netif->id, mac);
}

esp_err_t esp_netif_get_mac(esp_netif_t *netif, uint8_t mac[])
{
    CHECK_NETIF(netif, ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    if (!mac) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_get_mac(netif->id, mac);
}

esp_err_t esp_netif_set_hostname(esp_netif_t *netif, const char *hostname)
{
    if (!gonetif_netif_valid(netif) || !hostname) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = gonetif_netif_set_hostname(netif->id, (char *)hostname);
    if (err != ESP_OK) {
        return err;
    }
    char *copy = strdup(hostname);
    if (!copy) {
        return ESP_ERR_NO_MEM;
    }
    free(netif->hostname);
    netif->hostname = copy;
    return ESP_OK;
}

esp_err_t esp_netif_get_hostname(esp_netif_t *netif, const char **hostname)
{
    if (!gonetif_netif_valid(netif) || !hostname) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!netif->hostname) {
        return ESP_ERR_ESP_NETIF_IF_NOT_READY;
    }
    *hostname = netif->hostname;
    return ESP_OK;
}

bool esp_netif_is_netif_up(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) && gonetif_netif_is_up(netif->id) == 1;
}

esp_err_t esp_netif_get_ip_info(esp_netif_t *netif, esp_netif_ip_info_t *ip_info)
{
    if (!gonetif_netif_valid(netif) || !ip_info) {
        return ESP_ERR_INVALID_ARG;
    }
    return gonetif_netif_get_ip_info(netif->id, &ip_info->ip.addr, &ip_info->netmask.addr, &ip_info->gw.addr);
}

esp_err_t esp_netif_set_ip_info(esp_netif_t *netif, const esp_netif_ip_info_t *ip_info)
{
    if (!gonetif_netif_valid(netif) || !ip_info) {
        return ESP_ERR_INVALID_STATE;
    }
    esp_netif_ip_info_t old;
    if (gonetif_netif_get_ip_info(netif->id, &old.ip.addr, &old.netmask.addr, &old.gw.addr) == ESP_OK) {
        netif->old_ip_info = old;
    }
    return gonetif_netif_set_ip_info(netif->id, ip_info->ip.addr, ip_info->netmask.addr, ip_info->gw.addr);
}

esp_err_t esp_netif_get_old_ip_info(esp_netif_t *netif, esp_netif_ip_info_t *ip_info)
{
    if (!gonetif_netif_valid(netif) || !ip_info) {
        return ESP_ERR_INVALID_ARG;
    }
    *ip_info = netif->old_ip_info;
    return ESP_OK;
}

esp_err_t esp_netif_set_old_ip_info(esp_netif_t *netif, const esp_netif_ip_info_t *ip_info)
{
    if (!gonetif_netif_valid(netif) || !ip_info) {
        return ESP_ERR_INVALID_ARG;
    }
    netif->old_ip_info = *ip_info;
    return ESP_OK;
}

int esp_netif_get_netif_impl_index(esp_netif_t *netif)
{
    if (!gonetif_netif_valid(netif)) {
        return -1;
    }
    return gonetif_netif_impl_index(netif->id);
}

esp_err_t esp_netif_get_netif_impl_name(esp_netif_t *netif, char *name)
{
    if (!gonetif_netif_valid(netif) || !name) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_impl_name(netif->id, name, 6); /* 6 bytes: IDF's buffer */
}

esp_err_t esp_netif_set_mtu(esp_netif_t *netif, uint16_t mtu)
{
    if (!gonetif_netif_valid(netif)) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_set_mtu(netif->id, mtu);
}

esp_err_t esp_netif_get_mtu(esp_netif_t *netif, uint16_t *mtu)
{
    if (!gonetif_netif_valid(netif) || !mtu) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    int v = gonetif_netif_get_mtu(netif->id);
    if (v < 0) {
        return (esp_err_t)-v;
    }
    *mtu = (uint16_t)v;
    return ESP_OK;
}

esp_netif_iodriver_handle esp_netif_get_io_driver(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? netif->driver.handle : NULL;
}

esp_netif_flags_t esp_netif_get_flags(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? netif->flags : (esp_netif_flags_t)0;
}

const char *esp_netif_get_ifkey(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? netif->if_key : NULL;
}

const char *esp_netif_get_desc(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? netif->if_desc : NULL;
}

int32_t esp_netif_get_event_id(esp_netif_t *netif, esp_netif_ip_event_type_t event_type)
{
    if (!gonetif_netif_valid(netif)) {
        return -1;
    }
    switch (event_type) {
    case ESP_NETIF_IP_EVENT_GOT_IP:
        return (int32_t)netif->get_ip_event;
    case ESP_NETIF_IP_EVENT_LOST_IP:
        return (int32_t)netif->lost_ip_event;
    default:
        return -1;
    }
}

void *esp_netif_get_netif_impl(esp_netif_t *netif)
{
    /* There is no lwIP netif: the esp_netif itself stands for it. */
    return gonetif_netif_valid(netif) ? (void *)netif : NULL;
}

esp_netif_t *esp_netif_get_handle_from_netif_impl(void *dev)
{
    return gonetif_netif_valid(dev) ? (esp_netif_t *)dev : NULL;
}

esp_err_t esp_netif_tcpip_exec(esp_netif_callback_fn fn, void *ctx)
{
    /* gonetif has no single tcpip thread: run it here, serialised. */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    if (!fn) {
        return ESP_ERR_INVALID_ARG;
    }
    gonetif_lock(&lock);
    esp_err_t err = fn(ctx);
    gonetif_unlock(&lock);
    return err;
}

void esp_netif_netstack_buf_ref(void *netstack_buf)
{
    (void)netstack_buf; /* frames are copied; nothing to count */
}

void esp_netif_netstack_buf_free(void *netstack_buf)
{
    (void)netstack_buf;
}

esp_err_t esp_netif_set_link_speed(esp_netif_t *netif, uint32_t speed)
{
    (void)speed;
    return gonetif_netif_valid(netif) ? ESP_OK : ESP_ERR_ESP_NETIF_INVALID_PARAMS;
}

esp_err_t esp_netif_tx_rx_event_enable(esp_netif_t *netif)
{
    (void)netif;
    return ESP_FAIL; /* IP_EVENT_TX_RX reporting is not implemented */
}

esp_err_t esp_netif_tx_rx_event_disable(esp_netif_t *netif)
{
    (void)netif;
    return ESP_FAIL;
}

/* ---- DHCP client and DNS ------------------------------------------------ */

esp_err_t esp_netif_dhcpc_start(esp_netif_t *netif)
{
    if (!gonetif_netif_valid(netif)) {
        return ESP_ERR_INVALID_ARG;
    }
    return gonetif_netif_dhcpc_start(netif->id);
}

esp_err_t esp_netif_dhcpc_stop(esp_netif_t *netif)
{
    if (!gonetif_netif_valid(netif)) {
        return ESP_ERR_INVALID_ARG;
    }
    return gonetif_netif_dhcpc_stop(netif->id);
}

/* A status from Go, or its negated esp_err_t. */
static esp_err_t dhcp_status(int rc, esp_netif_dhcp_status_t *status)
{
    if (rc < 0) {
        return (esp_err_t)-rc;
    }
    *status = (esp_netif_dhcp_status_t)rc;
    return ESP_OK;
}

esp_err_t esp_netif_dhcpc_get_status(esp_netif_t *netif, esp_netif_dhcp_status_t *status)
{
    if (!gonetif_netif_valid(netif) || !status) {
        return ESP_ERR_INVALID_ARG;
    }
    return dhcp_status(gonetif_netif_dhcpc_status(netif->id), status);
}

esp_err_t esp_netif_dhcpc_option(esp_netif_t *netif, esp_netif_dhcp_option_mode_t op, esp_netif_dhcp_option_id_t id,
                                 void *val, uint32_t len)
{
    if (!gonetif_netif_valid(netif) || !val) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_dhcpc_option(netif->id, (int)op, (int)id, val, len);
}

/* The DHCP server calls: Go answers them (gonetif has no server). */
esp_err_t esp_netif_dhcps_get_status(esp_netif_t *netif, esp_netif_dhcp_status_t *status)
{
    if (!gonetif_netif_valid(netif) || !status) {
        return ESP_ERR_INVALID_ARG;
    }
    return dhcp_status(gonetif_netif_dhcps_status(netif->id), status);
}

esp_err_t esp_netif_dhcps_start(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? gonetif_netif_dhcps_start(netif->id) : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_netif_dhcps_stop(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? gonetif_netif_dhcps_stop(netif->id) : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_netif_dhcps_option(esp_netif_t *netif, esp_netif_dhcp_option_mode_t op, esp_netif_dhcp_option_id_t id,
                                 void *val, uint32_t len)
{
    (void)op, (void)id, (void)val, (void)len;
    return gonetif_netif_valid(netif) ? gonetif_netif_dhcps_option(netif->id) : ESP_ERR_ESP_NETIF_INVALID_PARAMS;
}

/* DNS slots are global, as in IDF's default configuration; netif is only
 * checked. Go refuses an unspecified address or a bad slot. */
esp_err_t esp_netif_set_dns_info(esp_netif_t *netif, esp_netif_dns_type_t type, esp_netif_dns_info_t *dns)
{
    if (!gonetif_netif_valid(netif) || !dns) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    int family = dns->ip.type == ESP_IPADDR_TYPE_V4 ? 4 : dns->ip.type == ESP_IPADDR_TYPE_V6 ? 6 : 0;
    return gonetif_dns_set((int)type, family, (uint8_t *)&dns->ip.u_addr);
}

esp_err_t esp_netif_get_dns_info(esp_netif_t *netif, esp_netif_dns_type_t type, esp_netif_dns_info_t *dns)
{
    if (!gonetif_netif_valid(netif) || !dns || type >= ESP_NETIF_DNS_MAX) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    uint8_t a[16];
    memset(dns, 0, sizeof(*dns));
    int fam = gonetif_dns_get((int)type, a);
    if (fam == 6) {
        dns->ip.type = ESP_IPADDR_TYPE_V6;
        memcpy(dns->ip.u_addr.ip6.addr, a, 16);
    } else {
        dns->ip.type = ESP_IPADDR_TYPE_V4;
        if (fam == 4) {
            memcpy(&dns->ip.u_addr.ip4.addr, a, 4);
        }
    }
    return ESP_OK;
}

/* ---- IPv6 ------------------------------------------------------------- */

/* lwIP's CONFIG_LWIP_IPV6_NUM_ADDRESSES: callers' arrays hold this many. */
#define IP6_SLOTS 3

static int ip6_addrs(esp_netif_t *netif, int kind, esp_ip6_addr_t *out, int max)
{
    uint8_t raw[IP6_SLOTS][16];
    int zones[IP6_SLOTS];
    int n = gonetif_netif_ip6_addrs(netif->id, kind, &raw[0][0], zones, max < IP6_SLOTS ? max : IP6_SLOTS);
    for (int i = 0; i < n; i++) {
        memcpy(out[i].addr, raw[i], 16);
        out[i].zone = (uint8_t)zones[i];
    }
    return n;
}

esp_err_t esp_netif_create_ip6_linklocal(esp_netif_t *netif)
{
    if (!gonetif_netif_valid(netif)) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_create_ip6_linklocal(netif->id);
}

esp_err_t esp_netif_get_ip6_linklocal(esp_netif_t *netif, esp_ip6_addr_t *if_ip6)
{
    if (!gonetif_netif_valid(netif) || !if_ip6) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return ip6_addrs(netif, GONETIF_IP6_FILTER_LINK_LOCAL, if_ip6, 1) == 1 ? ESP_OK : ESP_FAIL;
}

esp_err_t esp_netif_get_ip6_global(esp_netif_t *netif, esp_ip6_addr_t *if_ip6)
{
    if (!gonetif_netif_valid(netif) || !if_ip6) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return ip6_addrs(netif, GONETIF_IP6_FILTER_GLOBAL, if_ip6, 1) == 1 ? ESP_OK : ESP_FAIL;
}

int esp_netif_get_all_ip6(esp_netif_t *netif, esp_ip6_addr_t if_ip6[])
{
    if (!gonetif_netif_valid(netif) || !if_ip6) {
        return 0;
    }
    return ip6_addrs(netif, GONETIF_IP6_FILTER_ALL, if_ip6, IP6_SLOTS);
}

int esp_netif_get_all_preferred_ip6(esp_netif_t *netif, esp_ip6_addr_t if_ip6[])
{
    return esp_netif_get_all_ip6(netif, if_ip6); /* DAD is off: all are preferred */
}

esp_err_t esp_netif_add_ip6_address(esp_netif_t *netif, const esp_ip6_addr_t addr, bool preferred)
{
    if (!gonetif_netif_valid(netif)) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_ip6_addr(netif->id, (uint8_t *)addr.addr, 1, preferred);
}

esp_err_t esp_netif_remove_ip6_address(esp_netif_t *netif, const esp_ip6_addr_t *addr)
{
    if (!gonetif_netif_valid(netif) || !addr) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_ip6_addr(netif->id, (uint8_t *)addr->addr, 0, 0);
}

esp_err_t esp_netif_join_ip6_multicast_group(esp_netif_t *netif, const esp_ip6_addr_t *addr)
{
    if (!gonetif_netif_valid(netif) || !addr) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_ip6_mcast(netif->id, (uint8_t *)addr->addr, 1);
}

esp_err_t esp_netif_leave_ip6_multicast_group(esp_netif_t *netif, const esp_ip6_addr_t *addr)
{
    if (!gonetif_netif_valid(netif) || !addr) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_ip6_mcast(netif->id, (uint8_t *)addr->addr, 0);
}

void esp_netif_action_add_ip6_address(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id;
    const ip_event_add_ip6_t *ev = data;
    if (ev) {
        esp_netif_add_ip6_address(esp_netif, ev->addr, ev->preferred);
    }
}

void esp_netif_action_remove_ip6_address(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id;
    esp_netif_remove_ip6_address(esp_netif, data);
}

void esp_netif_action_join_ip6_multicast_group(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id;
    esp_netif_join_ip6_multicast_group(esp_netif, data);
}

void esp_netif_action_leave_ip6_multicast_group(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data)
{
    (void)base, (void)event_id;
    esp_netif_leave_ip6_multicast_group(esp_netif, data);
}

esp_err_t esp_netif_arp_get_client_by_mac(esp_netif_t *netif, esp_netif_pair_mac_ip_t *mac_ip)
{
    if (!gonetif_netif_valid(netif) || !mac_ip) {
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    return gonetif_netif_arp_lookup(netif->id, mac_ip->mac, &mac_ip->ip.addr);
}

/* gonetif has no DHCP server and no NAT. */
esp_err_t esp_netif_dhcps_get_clients_by_mac(esp_netif_t *netif, int num, esp_netif_pair_mac_ip_t *mac_ip_pair)
{
    (void)num, (void)mac_ip_pair;
    return gonetif_netif_valid(netif) ? ESP_ERR_NOT_SUPPORTED : ESP_ERR_ESP_NETIF_INVALID_PARAMS;
}

esp_err_t esp_netif_napt_enable(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? ESP_ERR_NOT_SUPPORTED : ESP_ERR_ESP_NETIF_INVALID_PARAMS;
}

esp_err_t esp_netif_napt_disable(esp_netif_t *netif)
{
    return gonetif_netif_valid(netif) ? ESP_ERR_NOT_SUPPORTED : ESP_ERR_ESP_NETIF_INVALID_PARAMS;
}

_Static_assert(ESP_IP6_ADDR_IS_UNKNOWN == GONETIF_IP6_UNKNOWN && ESP_IP6_ADDR_IS_GLOBAL == GONETIF_IP6_GLOBAL &&
                   ESP_IP6_ADDR_IS_LINK_LOCAL == GONETIF_IP6_LINK_LOCAL &&
                   ESP_IP6_ADDR_IS_SITE_LOCAL == GONETIF_IP6_SITE_LOCAL &&
                   ESP_IP6_ADDR_IS_UNIQUE_LOCAL == GONETIF_IP6_UNIQUE_LOCAL &&
                   ESP_IP6_ADDR_IS_IPV4_MAPPED_IPV6 == GONETIF_IP6_V4_MAPPED,
               "esp_ip6_addr_type_t differs from gonetif_abi.h");

esp_ip6_addr_type_t esp_netif_ip6_get_addr_type(GONETIF_IP6_TYPE_ARG_CONST esp_ip6_addr_t *a)
{
    return a ? (esp_ip6_addr_type_t)gonetif_ip6_addr_type((uint8_t *)a->addr) : ESP_IP6_ADDR_IS_UNKNOWN;
}

/* ---- IP events from Go ------------------------------------------------ */

/* Called on a Go thread: esp_event_post only copies and queues (ticks 0),
 * the handlers run later on the loop's own C thread. A strong reference,
 * so the event path is always linked; without a default loop the post
 * fails with INVALID_STATE and the event is dropped, as in IDF. */
static void ip_event_from_go(void *cookie, int32_t event_id, uint32_t ip, uint32_t mask, uint32_t gw, int changed)
{
    esp_netif_t *netif = cookie;
    if (!gonetif_netif_valid(netif)) {
        return;
    }
    esp_err_t err;
    if (event_id == GONETIF_NETIF_UP_EVENT || event_id == GONETIF_NETIF_DOWN_EVENT) {
#if GONETIF_HAVE_NETIF_STATUS_EVENTS
        ip_event_netif_status_t ev = {.esp_netif = netif};
        err = esp_event_post(IP_EVENT, event_id, &ev, sizeof(ev), 0);
#else
        err = ESP_OK; /* IDF 5.x has no such events */
#endif
    } else {
        ip_event_got_ip_t ev = {.esp_netif = netif, .ip_changed = changed != 0};
        ev.ip_info.ip.addr = ip;
        ev.ip_info.netmask.addr = mask;
        ev.ip_info.gw.addr = gw;
        err = esp_event_post(IP_EVENT, event_id, &ev, sizeof(ev), 0);
    }
    if (err == ESP_ERR_TIMEOUT) {
        ESP_LOGW(TAG, "%s: event queue full, IP event %d dropped", netif->if_key, (int)event_id);
    }
}

static void ip6_event_from_go(void *cookie, int32_t event_id, const uint8_t *addr, int zone, int ip_index)
{
    esp_netif_t *netif = cookie;
    if (!gonetif_netif_valid(netif) || !addr) {
        return;
    }
    ip_event_got_ip6_t ev = {.esp_netif = netif, .ip_index = ip_index};
    memcpy(ev.ip6_info.ip.addr, addr, 16);
    ev.ip6_info.ip.zone = (uint8_t)zone;
    if (esp_event_post(IP_EVENT, event_id, &ev, sizeof(ev), 0) == ESP_ERR_TIMEOUT) {
        ESP_LOGW(TAG, "%s: event queue full, IPv6 event dropped", netif->if_key);
    }
}

/* ---- start-up ---------------------------------------------------------- */

struct gonetif_wait_slot gonetif_slots[GONETIF_MAX_FDS];

static void log_from_go(int level, const char *tag, const char *msg)
{
    gonetif_log_line(level, tag, msg);
}

static esp_err_t init_rc = ESP_FAIL;

/* Closed connections still sending would die with the process (the kernel
 * would finish them): give them a bounded moment. */
static void drain_at_exit(void)
{
    gonetif_exit_drain();
}

static void init_once(void)
{
    static struct gonetif_abi_callbacks cb = {
        .log_line = log_from_go,
        .driver_transmit = transmit_to_driver,
        .ip_event = ip_event_from_go,
        .ip6_event = ip6_event_from_go,
    };
    init_rc = gonetif_abi_init(&cb, gonetif_slots, GONETIF_MAX_FDS);
    if (init_rc == ESP_ERR_INVALID_ARG) {
        ESP_LOGE(TAG, "gonetif did not start: bad GONETIF_* setting (see above)");
    }
    if (init_rc == ESP_OK) {
        atexit(drain_at_exit);
        gonetif_signals_after_start();
    }
}

int gonetif_glue_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    return init_rc;
}
