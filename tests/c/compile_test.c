/*
 * gonetif — tests/c/compile_test.c
 *
 * Compile-only check that code written the way ESP-IDF's Linux examples are
 * written (tapif_io's connect routine, a driver of its own, event handlers,
 * the logging and error macros) builds against gonetif's headers with
 * -Werror, in both input_fn modes and as C++ (compile_test.cpp includes
 * this file).  Nothing here is linked or run.
 *
 * Checked with:
 *   gcc -std=gnu17 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -c tests/c/compile_test.c -o /tmp/ct.o
 *   gcc -std=gnu17 -Wall -Wextra -Werror -D_GNU_SOURCE -DGONETIF_IDF_V5_INPUT_FN -Iinclude -c tests/c/compile_test.c -o /tmp/ct5.o
 *   gcc -std=gnu17 -Wall -Wextra -Werror -D_GNU_SOURCE -DESP_IDF_VERSION_MAJOR=5 -Iinclude -c tests/c/compile_test.c -o /tmp/ct5b.o
 *   g++ -std=gnu++20 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -c tests/c/compile_test.cpp -o /tmp/ctpp.o
 *   g++ -std=gnu++20 -Wall -Wextra -Werror -D_GNU_SOURCE -DGONETIF_IDF_V5_INPUT_FN -Iinclude -c tests/c/compile_test.cpp -o /tmp/ctpp5.o
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "lwip/tapif.h"         /* also brings struct netif, err_t, ipaddr_addr */
#include "protocol_examples_common.h"
#include "tapio.h"

#ifdef __cplusplus
#define CT_CAST(type, expr) static_cast<type>(expr)
#else
#define CT_CAST(type, expr) (expr)
#endif

static const char *TAG = "compile_test";

/* Event id the TAP interface posts when it gets an address (custom id). */
#define CT_TAP_GOT_IP 0x1234

/* ---------------------------------------------------------------------------
 * 1. The tapif_io way: tapio driver + lwip_tapif_* stack functions.
 * ------------------------------------------------------------------------- */

static volatile bool s_got_ip;

static void ct_on_tap_got_ip(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    if (base != IP_EVENT || id != CT_TAP_GOT_IP || data == NULL) {
        return;
    }
    const ip_event_got_ip_t *ev = CT_CAST(const ip_event_got_ip_t *, data);
    ESP_LOGI(TAG, "got " IPSTR " mask " IPSTR " gw " IPSTR " (changed: %d) on %s",
             IP2STR(&ev->ip_info.ip), IP2STR(&ev->ip_info.netmask), IP2STR(&ev->ip_info.gw),
             ev->ip_changed, esp_netif_get_desc(ev->esp_netif));
    s_got_ip = true;
}

esp_netif_t *ct_tap_connect(bool use_dhcp);

esp_netif_t *ct_tap_connect(bool use_dhcp)
{
    /* Driver side: gonetif's TAP driver. */
    /* (every member named: g++ -Wextra warns about omitted ones) */
    esp_netif_driver_ifconfig_t driver_cfg = {
        .handle = tapio_create(),
        .transmit = tapio_output,
        .transmit_wrap = NULL,
        .driver_free_rx_buffer = NULL,
        .driver_set_mac_filter = NULL,
    };

    /* Stack side: the functions tapif_io names. */
    esp_netif_netstack_config_t stack_cfg = {
        .lwip = {
            .init_fn = lwip_tapif_init,
            .input_fn = lwip_tapif_input,
        }
    };

    esp_netif_ip_info_t ip_info;
    memset(&ip_info, 0, sizeof(ip_info));
    esp_netif_flags_t flags =
        (esp_netif_flags_t)(ESP_NETIF_FLAG_EVENT_IP_MODIFIED | ESP_NETIF_FLAG_AUTOUP);
    if (use_dhcp) {
        flags = (esp_netif_flags_t)(flags | ESP_NETIF_DHCP_CLIENT);
    } else {
        ip_info.ip.addr = ipaddr_addr("192.168.5.100");
        ip_info.netmask.addr = ipaddr_addr("255.255.255.0");
        ip_info.gw.addr = ipaddr_addr("192.168.5.1");
    }

    esp_netif_inherent_config_t base_cfg = {
        .flags = flags,
        .mac = { 0 },
        .ip_info = &ip_info,
        .get_ip_event = CT_TAP_GOT_IP,
        .lost_ip_event = 0,
        .if_key = "TAP",
        .if_desc = "tap",
        .route_prio = 100,
        .bridge_info = NULL,
        .mtu = 0,
    };

    esp_netif_config_t cfg = {
        .base = &base_cfg,
        .driver = &driver_cfg,
        .stack = &stack_cfg,
    };

    esp_netif_t *netif = esp_netif_new(&cfg);
    if (netif == NULL) {
        ESP_LOGE(TAG, "esp_netif_new failed");
        return NULL;
    }
    esp_err_t err = esp_netif_attach(netif, driver_cfg.handle);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "attach: %s", esp_err_to_name(err));
        return NULL;
    }

    if (use_dhcp) {
        ESP_LOGI(TAG, "Waiting for IP addresses...");
        esp_netif_action_connected(netif, 0, 0, 0);
        ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, CT_TAP_GOT_IP, ct_on_tap_got_ip, NULL));
        while (!s_got_ip) {
            /* an event group wait in the real thing */
        }
        esp_netif_ip_info_t got;
        ESP_ERROR_CHECK(esp_netif_get_ip_info(netif, &got));
        ESP_LOGI(TAG, "Assigned IP address:" IPSTR ",", IP2STR(&got.ip));
    }
    return netif;
}

/* Several devices in one process. */
void *ct_second_tap(void);

void *ct_second_tap(void)
{
    static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
    tapio_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.tap_name = "tap1";
    cfg.mac = mac;
    cfg.mtu = 1500;
    cfg.plain = true;
    cfg.in_loss = 5;
    cfg.pcap_path = "/tmp/tap1.pcap";
    return tapio_create_with(&cfg);
}

/* ---------------------------------------------------------------------------
 * 2. A driver of the application's own (as IDF's tapio.c is): the object
 *    starts with esp_netif_driver_base_t; post_attach sets up transmit.
 * ------------------------------------------------------------------------- */

typedef struct {
    esp_netif_driver_base_t base;   /* must stay the first member */
    int fd;
    unsigned long tx_frames;
    unsigned long rx_frames;
} ct_driver_t;

static esp_err_t ct_driver_transmit(void *h, void *buffer, size_t len)
{
    ct_driver_t *drv = CT_CAST(ct_driver_t *, h);
    (void)buffer;
    if (len == 0) {
        return ESP_ERR_INVALID_SIZE;
    }
    drv->tx_frames++;
    return ESP_OK;
}

static esp_err_t ct_driver_transmit_wrap(void *h, void *buffer, size_t len, void *netstack_buf)
{
    (void)netstack_buf;
    return ct_driver_transmit(h, buffer, len);
}

static void ct_driver_free_rx(void *h, void *buffer)
{
    (void)h;
    free(buffer);
}

static esp_err_t ct_driver_mac_filter(void *h, const uint8_t *mac, size_t mac_len, bool add)
{
    (void)h;
    (void)mac;
    (void)add;
    return mac_len == 6 ? ESP_OK : ESP_ERR_INVALID_MAC;
}

static esp_err_t ct_driver_post_attach(esp_netif_t *netif, esp_netif_iodriver_handle h)
{
    ct_driver_t *drv = CT_CAST(ct_driver_t *, h);
    drv->base.netif = netif;

    const esp_netif_driver_ifconfig_t ifcfg = {
        .handle = drv,
        .transmit = ct_driver_transmit,
        .transmit_wrap = ct_driver_transmit_wrap,
        .driver_free_rx_buffer = ct_driver_free_rx,
        .driver_set_mac_filter = ct_driver_mac_filter,
    };
    esp_err_t err = esp_netif_set_driver_config(netif, &ifcfg);
    if (err != ESP_OK) {
        return err;
    }
    esp_netif_action_start(netif, NULL, 0, NULL);
    return ESP_OK;
}

/* What the driver's receive thread does with each frame. */
void ct_driver_on_frame(ct_driver_t *drv, void *frame, size_t len);

void ct_driver_on_frame(ct_driver_t *drv, void *frame, size_t len)
{
    drv->rx_frames++;
    esp_err_t err = esp_netif_receive(drv->base.netif, frame, len, NULL);
    if (err != ESP_OK) {
        ESP_LOGD(TAG, "receive: %s", esp_err_to_name(err));
    }
}

esp_netif_t *ct_custom_driver_netif(void);

esp_netif_t *ct_custom_driver_netif(void)
{
    ct_driver_t *drv = CT_CAST(ct_driver_t *, calloc(1, sizeof(*drv)));
    if (drv == NULL) {
        return NULL;
    }
    drv->base.post_attach = ct_driver_post_attach;
    drv->fd = -1;

    esp_netif_inherent_config_t base_cfg = ESP_NETIF_INHERENT_DEFAULT_ETH();
    base_cfg.if_key = "CT_ETH";
    base_cfg.mtu = 1400;
    esp_netif_config_t cfg = ESP_NETIF_DEFAULT_ETH();
    cfg.base = &base_cfg;

    esp_netif_t *netif = esp_netif_new(&cfg);
    if (netif == NULL) {
        free(drv);
        return NULL;
    }
    ESP_ERROR_CHECK(esp_netif_attach(netif, drv));
    return netif;
}

/* ---------------------------------------------------------------------------
 * 3. A stack-side port of the application's own, in the shape of tapif.c:
 *    input function of the mode in force, and the transmit path.
 * ------------------------------------------------------------------------- */

err_t ct_stack_init(struct netif *netif);
esp_netif_recv_ret_t ct_stack_input(void *h, void *buffer, size_t len, void *l2_buff);
err_t ct_stack_linkoutput(struct netif *netif, void *frame, size_t len);

err_t ct_stack_init(struct netif *netif)
{
    return netif != NULL ? ERR_OK : ERR_ARG;
}

esp_netif_recv_ret_t ct_stack_input(void *h, void *buffer, size_t len, void *l2_buff)
{
    (void)h;
    (void)buffer;
    (void)l2_buff;
#if ESP_NETIF_RECV_RET_T_IS_VOID
    (void)len;
#else
    return len > 0 ? ESP_OK : ESP_FAIL;
#endif
}

err_t ct_stack_linkoutput(struct netif *netif, void *frame, size_t len)
{
    esp_netif_t *esp_netif = esp_netif_get_handle_from_netif_impl(netif);
    if (esp_netif == NULL) {
        return ERR_IF;
    }
    esp_err_t err = esp_netif_transmit(esp_netif, frame, len);
    if (err == ESP_OK) {
        return ERR_OK;
    }
    return err == ESP_ERR_NO_MEM ? ERR_MEM : ERR_IF;
}

const struct esp_netif_netstack_config ct_own_stack = {
    .lwip = {
        .init_fn = ct_stack_init,
        .input_fn = ct_stack_input,
    }
};

/* ---------------------------------------------------------------------------
 * 4. The rest of the surface apps touch.
 * ------------------------------------------------------------------------- */

static bool ct_match_key(esp_netif_t *netif, void *ctx)
{
    return strcmp(esp_netif_get_ifkey(netif), CT_CAST(const char *, ctx)) == 0;
}

static esp_err_t ct_in_stack(void *ctx)
{
    (void)ctx;
    return ESP_OK;
}

static void ct_on_any_ip_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)base;
    switch (id) {
    case IP_EVENT_GOT_IP6: {
        const ip_event_got_ip6_t *ev = CT_CAST(const ip_event_got_ip6_t *, data);
        ESP_LOGI(TAG, "ip6[%d] " IPV6STR, ev->ip_index, IPV62STR(ev->ip6_info.ip));
        break;
    }
    case IP_EVENT_TX_RX: {
        const ip_event_tx_rx_t *ev = CT_CAST(const ip_event_tx_rx_t *, data);
        ESP_LOGV(TAG, "%s %u bytes", ev->dir == ESP_NETIF_TX ? "tx" : "rx", (unsigned)ev->len);
        break;
    }
    case IP_EVENT_NETIF_UP:
    case IP_EVENT_NETIF_DOWN: {
        const ip_event_netif_status_t *ev = CT_CAST(const ip_event_netif_status_t *, data);
        ESP_LOGI(TAG, "%s is %s", esp_netif_get_desc(ev->esp_netif),
                 id == IP_EVENT_NETIF_UP ? "up" : "down");
        break;
    }
    case IP_EVENT_ASSIGNED_IP_TO_CLIENT: {
        const ip_event_assigned_ip_to_client_t *ev =
            CT_CAST(const ip_event_assigned_ip_to_client_t *, data);
        ESP_LOGI(TAG, "leased " IPSTR " to %s", IP2STR(&ev->ip), ev->hostname);
        break;
    }
    default:
        break;
    }
}

void ct_app_main(void);

void ct_app_main(void)
{
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());

    esp_event_handler_instance_t inst = NULL;
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, ESP_EVENT_ANY_ID,
                                                        ct_on_any_ip_event, NULL, &inst));

    esp_netif_t *tap = ct_tap_connect(false);
    esp_netif_t *eth = ct_custom_driver_netif();
    (void)eth;

    /* Addressing */
    esp_netif_ip_info_t info;
    if (esp_netif_get_ip_info(tap, &info) == ESP_OK) {
        char text[IP4ADDR_STRLEN_MAX];
        ESP_LOGI(TAG, "tap %s", esp_ip4addr_ntoa(&info.ip, text, sizeof(text)));
    }
    esp_netif_set_ip4_addr(&info.gw, 192, 168, 5, 1);
    info.netmask.addr = esp_ip4addr_aton("255.255.255.0");
    (void)ESP_ERROR_CHECK_WITHOUT_ABORT(esp_netif_dhcpc_stop(tap));
    esp_err_t err = ESP_ERROR_CHECK_WITHOUT_ABORT(esp_netif_set_ip_info(tap, &info));
    if (err == ESP_ERR_ESP_NETIF_DHCP_NOT_STOPPED) {
        ESP_LOGW(TAG, "dhcp still running");
    }

    esp_netif_dns_info_t dns = { .ip = ESP_IP4ADDR_INIT(8, 8, 8, 8) };
    esp_netif_set_dns_info(tap, ESP_NETIF_DNS_MAIN, &dns);
    if (esp_netif_get_dns_info(tap, ESP_NETIF_DNS_BACKUP, &dns) == ESP_OK && !ESP_IP_IS_ANY(dns.ip)) {
        ESP_LOGI(TAG, "dns " IPSTR, IP2STR(&dns.ip.u_addr.ip4));
    }

    esp_ip6_addr_t ll;
    if (esp_netif_create_ip6_linklocal(tap) == ESP_OK && esp_netif_get_ip6_linklocal(tap, &ll) == ESP_OK) {
        ESP_LOGI(TAG, "ll " IPV6STR " type %d", IPV62STR(ll), (int)esp_netif_ip6_get_addr_type(&ll));
    }
    esp_ip6_addr_t all[3];
    int n6 = esp_netif_get_all_ip6(tap, all);
    ESP_LOGD(TAG, "%d IPv6 addresses, scope id %d", n6, esp_netif_get_netif_impl_index(EXAMPLE_INTERFACE));
    esp_ip6_addr_t g6;
    if (esp_netif_str_to_ip6("2001:db8::1", &g6) == ESP_OK) {
        esp_netif_add_ip6_address(tap, g6, true);
    }

    /* Queries */
    uint8_t mac[6];
    ESP_ERROR_CHECK(esp_netif_get_mac(tap, mac));
    char impl_name[6];
    esp_netif_get_netif_impl_name(tap, impl_name);
    static char key[] = "TAP";
    esp_netif_t *found = esp_netif_find_if(ct_match_key, key);
    (void)found;
    for (esp_netif_t *it = esp_netif_next_unsafe(NULL); it != NULL; it = esp_netif_next_unsafe(it)) {
        ESP_LOGI(TAG, "%s/%s prio %d flags 0x%x event %d", esp_netif_get_ifkey(it),
                 esp_netif_get_desc(it), esp_netif_get_route_prio(it),
                 (unsigned)esp_netif_get_flags(it),
                 (int)esp_netif_get_event_id(it, ESP_NETIF_IP_EVENT_GOT_IP));
    }
    ESP_LOGI(TAG, "%u interfaces, default %p", (unsigned)esp_netif_get_nr_of_ifs(),
             CT_CAST(void *, esp_netif_get_default_netif()));
    esp_netif_set_default_netif(tap);
    esp_netif_set_route_prio(tap, 200);
    uint16_t mtu = 0;
    esp_netif_get_mtu(tap, &mtu);
    esp_netif_dhcp_status_t st;
    esp_netif_dhcpc_get_status(tap, &st);
    esp_netif_tcpip_exec(ct_in_stack, NULL);
    esp_netif_set_hostname(tap, "gonetif-ct");
    const char *host = NULL;
    esp_netif_get_hostname(tap, &host);
    (void)esp_netif_is_netif_up(tap);
    (void)esp_netif_get_netif_impl(tap);
    (void)esp_netif_get_io_driver(tap);
    (void)esp_netif_get_handle_from_ifkey("TAP");

    /* Defaults of the other kinds, bridge sizing. */
    esp_netif_inherent_config_t br = ESP_NETIF_INHERENT_DEFAULT_BR_DHCPS();
    bridgeif_config_t br_size = { .max_fdb_dyn_entries = 10, .max_fdb_sta_entries = 2, .max_ports = 3 };
    br.bridge_info = &br_size;
    esp_netif_config_t br_cfg = { .base = &br, .driver = NULL, .stack = ESP_NETIF_NETSTACK_DEFAULT_BR };
    esp_netif_t *brif = esp_netif_new(&br_cfg);
    esp_netif_bridge_add_port(brif, tap);
    esp_netif_bridge_fdb_add(brif, mac, ESP_NETIF_BR_FDW_CPU);
    esp_netif_config_t sta_cfg = ESP_NETIF_DEFAULT_WIFI_STA();
    (void)sta_cfg;

    ESP_LOG_BUFFER_HEX(TAG, mac, sizeof(mac));
    esp_log_level_set("*", ESP_LOG_WARN);
    esp_log_level_set(TAG, ESP_LOG_DEBUG);

    esp_event_handler_instance_unregister(IP_EVENT, ESP_EVENT_ANY_ID, inst);
    esp_netif_destroy(brif);
    ESP_ERROR_CHECK(example_disconnect());
}
