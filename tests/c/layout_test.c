/*
 * gonetif — tests/c/layout_test.c
 *
 * Pins the IDF 6.x (x86_64) layouts and constant values of gonetif's public
 * headers at compile time, then checks the C glue (esp_err.c, esp_log.c) and
 * the address macros at run time.
 *
 * Built and run with:
 *   gcc -std=gnu17 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude \
 *       tests/c/layout_test.c capi/glue/esp_err.c capi/glue/esp_log.c \
 *       -pthread -o /tmp/layout_test && /tmp/layout_test
 * (also with -DGONETIF_IDF_V5_INPUT_FN, which flips the input_fn checks).
 *
 * Prints "layout: N checks passed" and exits 0, or reports each failed
 * run-time check and exits 1.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "esp_err.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "lwip/err.h"
#include "lwip/esp_netif_net_stack.h"
#include "lwip/tapif.h"
#include "protocol_examples_common.h"
#include "tapio.h"

static int s_checks;
static int s_failures;

/* Compile-time pin, counted so the summary covers it. */
#define PIN(expr) do { _Static_assert(expr, #expr); s_checks++; } while (0)
#define PIN_SIZE(type, size) PIN(sizeof(type) == (size))
#define PIN_OFF(type, member, off) PIN(offsetof(type, member) == (off))

/* Run-time check. */
#define CHECK(expr) do {                                                        \
        s_checks++;                                                             \
        if (!(expr)) {                                                          \
            s_failures++;                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
        }                                                                       \
    } while (0)
#define CHECK_STR(got, want) do {                                               \
        const char *got_ = (got);                                               \
        const char *want_ = (want);                                             \
        s_checks++;                                                             \
        if (got_ == NULL || strcmp(got_, want_) != 0) {                         \
            s_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__,     \
                    __LINE__, #got, got_ ? got_ : "(null)", want_);             \
        }                                                                       \
    } while (0)

#define SAME_TYPE(a, b) __builtin_types_compatible_p(a, b)

/* ======================================================================
 * Compile-time pins
 * ====================================================================== */

static void pin_addresses(void)
{
    PIN_SIZE(esp_ip4_addr_t, 4);
    PIN(alignof(esp_ip4_addr_t) == 4);
    PIN_OFF(esp_ip4_addr_t, addr, 0);

    PIN_SIZE(esp_ip6_addr_t, 20);
    PIN(alignof(esp_ip6_addr_t) == 4);
    PIN_OFF(esp_ip6_addr_t, addr, 0);
    PIN_OFF(esp_ip6_addr_t, zone, 16);

    PIN_SIZE(esp_ip_addr_t, 24);
    PIN(alignof(esp_ip_addr_t) == 4);
    PIN_OFF(esp_ip_addr_t, u_addr, 0);
    PIN_OFF(esp_ip_addr_t, u_addr.ip6, 0);
    PIN_OFF(esp_ip_addr_t, u_addr.ip4, 0);
    PIN_OFF(esp_ip_addr_t, type, 20);
    PIN(SAME_TYPE(struct _ip_addr, esp_ip_addr_t));
    PIN(SAME_TYPE(struct esp_ip4_addr, esp_ip4_addr_t));
    PIN(SAME_TYPE(struct esp_ip6_addr, esp_ip6_addr_t));

    PIN(ESP_IPADDR_TYPE_V4 == 0U);
    PIN(ESP_IPADDR_TYPE_V6 == 6U);
    PIN(ESP_IPADDR_TYPE_ANY == 46U);
    PIN(IP4ADDR_STRLEN_MAX == 16);

    PIN_SIZE(esp_ip6_addr_type_t, 4);
    PIN(ESP_IP6_ADDR_IS_UNKNOWN == 0);
    PIN(ESP_IP6_ADDR_IS_GLOBAL == 1);
    PIN(ESP_IP6_ADDR_IS_LINK_LOCAL == 2);
    PIN(ESP_IP6_ADDR_IS_SITE_LOCAL == 3);
    PIN(ESP_IP6_ADDR_IS_UNIQUE_LOCAL == 4);
    PIN(ESP_IP6_ADDR_IS_IPV4_MAPPED_IPV6 == 5);

    PIN_SIZE(esp_netif_ip_info_t, 12);
    PIN(alignof(esp_netif_ip_info_t) == 4);
    PIN_OFF(esp_netif_ip_info_t, ip, 0);
    PIN_OFF(esp_netif_ip_info_t, netmask, 4);
    PIN_OFF(esp_netif_ip_info_t, gw, 8);

    PIN_SIZE(esp_netif_ip6_info_t, 20);
    PIN_OFF(esp_netif_ip6_info_t, ip, 0);
    PIN_SIZE(esp_netif_dns_info_t, 24);
    PIN_OFF(esp_netif_dns_info_t, ip, 0);

    PIN_SIZE(esp_netif_pair_mac_ip_t, 12);
    PIN_OFF(esp_netif_pair_mac_ip_t, mac, 0);
    PIN_OFF(esp_netif_pair_mac_ip_t, ip, 8);

    /* 192.168.5.1 in network order, read as a little-endian word. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    PIN(ESP_IP4TOADDR(192, 168, 5, 1) == 0x0105A8C0u);
    PIN(esp_netif_htonl(0x11223344u) == 0x44332211u);
#endif
    PIN(ESP_IP4TOUINT32(192, 168, 5, 1) == 0xC0A80501u);
    PIN(esp_netif_ip4_makeu32(10, 0, 0, 0x1ff) == 0x0A0000FFu);   /* bytes are masked */
}

static void pin_config_structs(void)
{
    /* esp_netif_inherent_config_t: 72 bytes, every member pinned. */
    PIN_SIZE(esp_netif_inherent_config_t, 72);
    PIN(alignof(esp_netif_inherent_config_t) == 8);
    PIN(SAME_TYPE(struct esp_netif_inherent_config, esp_netif_inherent_config_t));
    PIN_OFF(esp_netif_inherent_config_t, flags, 0);
    PIN_OFF(esp_netif_inherent_config_t, mac, 4);
    PIN_OFF(esp_netif_inherent_config_t, ip_info, 16);
    PIN_OFF(esp_netif_inherent_config_t, get_ip_event, 24);
    PIN_OFF(esp_netif_inherent_config_t, lost_ip_event, 28);
    PIN_OFF(esp_netif_inherent_config_t, if_key, 32);
    PIN_OFF(esp_netif_inherent_config_t, if_desc, 40);
    PIN_OFF(esp_netif_inherent_config_t, route_prio, 48);
    PIN_OFF(esp_netif_inherent_config_t, bridge_info, 56);
    PIN_OFF(esp_netif_inherent_config_t, mtu, 64);
    PIN_SIZE(((esp_netif_inherent_config_t *)0)->mac, 6);
    PIN_SIZE(((esp_netif_inherent_config_t *)0)->mtu, 2);
    PIN_SIZE(((esp_netif_inherent_config_t *)0)->get_ip_event, 4);

    PIN_SIZE(bridgeif_config_t, 6);
    PIN_OFF(bridgeif_config_t, max_fdb_dyn_entries, 0);
    PIN_OFF(bridgeif_config_t, max_fdb_sta_entries, 2);
    PIN_OFF(bridgeif_config_t, max_ports, 4);

    PIN(SAME_TYPE(esp_netif_iodriver_handle, void *));

    PIN_SIZE(esp_netif_driver_base_t, 16);
    PIN(SAME_TYPE(struct esp_netif_driver_base_s, esp_netif_driver_base_t));
    PIN_OFF(esp_netif_driver_base_t, post_attach, 0);
    PIN_OFF(esp_netif_driver_base_t, netif, 8);

    PIN_SIZE(esp_netif_driver_ifconfig_t, 40);
    PIN(SAME_TYPE(struct esp_netif_driver_ifconfig, esp_netif_driver_ifconfig_t));
    PIN_OFF(esp_netif_driver_ifconfig_t, handle, 0);
    PIN_OFF(esp_netif_driver_ifconfig_t, transmit, 8);
    PIN_OFF(esp_netif_driver_ifconfig_t, transmit_wrap, 16);
    PIN_OFF(esp_netif_driver_ifconfig_t, driver_free_rx_buffer, 24);
    PIN_OFF(esp_netif_driver_ifconfig_t, driver_set_mac_filter, 32);
    /* tapio_output fits the transmit slot. */
    PIN(SAME_TYPE(__typeof__(&tapio_output), __typeof__(((esp_netif_driver_ifconfig_t *)0)->transmit)));

    PIN_SIZE(esp_netif_config_t, 24);
    PIN(SAME_TYPE(struct esp_netif_config, esp_netif_config_t));
    PIN_OFF(esp_netif_config_t, base, 0);
    PIN_OFF(esp_netif_config_t, driver, 8);
    PIN_OFF(esp_netif_config_t, stack, 16);

    /* Network stack configuration (anonymous union of lwip / lwip_ppp). */
    PIN(SAME_TYPE(struct esp_netif_netstack_config, esp_netif_netstack_config_t));
    PIN_SIZE(struct esp_netif_netstack_config, 16);
    PIN_OFF(struct esp_netif_netstack_config, lwip, 0);
    PIN_OFF(struct esp_netif_netstack_config, lwip.init_fn, 0);
    PIN_OFF(struct esp_netif_netstack_config, lwip.input_fn, 8);
    PIN_OFF(struct esp_netif_netstack_config, lwip_ppp, 0);
    PIN_OFF(struct esp_netif_netstack_config, lwip_ppp.input_fn, 0);
    PIN_OFF(struct esp_netif_netstack_config, lwip_ppp.ppp_events, 8);
    PIN_SIZE(esp_netif_ppp_config_t, 2);
    PIN_SIZE(struct esp_netif_netstack_lwip_vanilla_config, 16);

    /* init_fn / input_fn agree with the tapif functions in both modes. */
    PIN(SAME_TYPE(__typeof__(&lwip_tapif_init), init_fn_t));
    PIN(SAME_TYPE(__typeof__(&lwip_tapif_input), input_fn_t));
    PIN(SAME_TYPE(init_fn_t, err_t (*)(struct netif *)));
#if defined(GONETIF_IDF_V5_INPUT_FN)
    PIN(ESP_NETIF_RECV_RET_T_IS_VOID == 1);
    PIN(SAME_TYPE(esp_netif_recv_ret_t, void));
    PIN(SAME_TYPE(input_fn_t, void (*)(void *, void *, size_t, void *)));
#else
    PIN(ESP_NETIF_RECV_RET_T_IS_VOID == 0);
    PIN(SAME_TYPE(esp_netif_recv_ret_t, esp_err_t));
    PIN(SAME_TYPE(input_fn_t, esp_err_t (*)(void *, void *, size_t, void *)));
#endif

    PIN(SAME_TYPE(esp_netif_receive_t, esp_err_t (*)(esp_netif_t *, void *, size_t, void *)));
    PIN(SAME_TYPE(esp_netif_find_predicate_t, bool (*)(esp_netif_t *, void *)));
    PIN(SAME_TYPE(esp_netif_callback_fn, esp_err_t (*)(void *)));
    PIN(SAME_TYPE(esp_netif_t, struct esp_netif_obj));
}

static void pin_events(void)
{
    PIN_SIZE(ip_event_got_ip_t, 24);
    PIN_OFF(ip_event_got_ip_t, esp_netif, 0);
    PIN_OFF(ip_event_got_ip_t, ip_info, 8);
    PIN_OFF(ip_event_got_ip_t, ip_changed, 20);

    PIN_SIZE(ip_event_got_ip6_t, 32);
    PIN_OFF(ip_event_got_ip6_t, esp_netif, 0);
    PIN_OFF(ip_event_got_ip6_t, ip6_info, 8);
    PIN_OFF(ip_event_got_ip6_t, ip_index, 28);

    PIN_SIZE(ip_event_add_ip6_t, 24);
    PIN_OFF(ip_event_add_ip6_t, addr, 0);
    PIN_OFF(ip_event_add_ip6_t, preferred, 20);

    PIN(ESP_NETIF_HOSTNAME_MAX_LEN == 64);
    PIN_SIZE(ip_event_assigned_ip_to_client_t, 88);
    PIN_OFF(ip_event_assigned_ip_to_client_t, esp_netif, 0);
    PIN_OFF(ip_event_assigned_ip_to_client_t, ip, 8);
    PIN_OFF(ip_event_assigned_ip_to_client_t, mac, 12);
    PIN_OFF(ip_event_assigned_ip_to_client_t, hostname, 18);

    PIN_SIZE(ip_event_tx_rx_t, 24);
    PIN_OFF(ip_event_tx_rx_t, esp_netif, 0);
    PIN_OFF(ip_event_tx_rx_t, len, 8);
    PIN_OFF(ip_event_tx_rx_t, dir, 16);

    PIN_SIZE(ip_event_netif_status_t, 8);
    PIN_OFF(ip_event_netif_status_t, esp_netif, 0);

    PIN_SIZE(ip_event_t, 4);
    PIN(IP_EVENT_STA_GOT_IP == 0);
    PIN(IP_EVENT_STA_LOST_IP == 1);
    PIN(IP_EVENT_ASSIGNED_IP_TO_CLIENT == 2);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    PIN(IP_EVENT_AP_STAIPASSIGNED == 2);
    PIN_SIZE(ip_event_ap_staipassigned_t, 88);
#pragma GCC diagnostic pop
    PIN(IP_EVENT_GOT_IP6 == 3);
    PIN(IP_EVENT_ETH_GOT_IP == 4);
    PIN(IP_EVENT_ETH_LOST_IP == 5);
    PIN(IP_EVENT_PPP_GOT_IP == 6);
    PIN(IP_EVENT_PPP_LOST_IP == 7);
    PIN(IP_EVENT_TX_RX == 8);
    PIN(IP_EVENT_NETIF_UP == 9);
    PIN(IP_EVENT_NETIF_DOWN == 10);
    PIN(IP_EVENT_CUSTOM_GOT_IP == 11);
    PIN(IP_EVENT_CUSTOM_LOST_IP == 12);
    PIN(SAME_TYPE(__typeof__(IP_EVENT), const char *const));

    /* esp_event */
    PIN(SAME_TYPE(esp_event_base_t, const char *));
    PIN(SAME_TYPE(esp_event_loop_handle_t, void *));
    PIN(SAME_TYPE(esp_event_handler_instance_t, void *));
    PIN(SAME_TYPE(esp_event_handler_t, void (*)(void *, esp_event_base_t, int32_t, void *)));
    PIN(ESP_EVENT_ANY_ID == -1);
    PIN_SIZE(TickType_t, 8);
    PIN_SIZE(BaseType_t, 8);
    PIN_SIZE(UBaseType_t, 8);
    PIN_SIZE(esp_event_loop_args_t, 40);
    PIN_OFF(esp_event_loop_args_t, queue_size, 0);
    PIN_OFF(esp_event_loop_args_t, task_name, 8);
    PIN_OFF(esp_event_loop_args_t, task_priority, 16);
    PIN_OFF(esp_event_loop_args_t, task_stack_size, 24);
    PIN_OFF(esp_event_loop_args_t, task_core_id, 32);
}

static void pin_enums_and_codes(void)
{
    PIN_SIZE(esp_netif_flags_t, 4);
    PIN(SAME_TYPE(enum esp_netif_flags, esp_netif_flags_t));
    PIN(ESP_NETIF_DHCP_CLIENT == 1);
    PIN(ESP_NETIF_DHCP_SERVER == 2);
    PIN(ESP_NETIF_FLAG_AUTOUP == 4);
    PIN(ESP_NETIF_FLAG_GARP == 8);
    PIN(ESP_NETIF_FLAG_EVENT_IP_MODIFIED == 16);
    PIN(ESP_NETIF_FLAG_IS_PPP == 32);
    PIN(ESP_NETIF_FLAG_IS_BRIDGE == 64);
    PIN(ESP_NETIF_FLAG_MLDV6_REPORT == 128);
    PIN(ESP_NETIF_FLAG_IPV6_AUTOCONFIG_ENABLED == 256);

    PIN(SAME_TYPE(enum esp_netif_ip_event_type, esp_netif_ip_event_type_t));
    PIN(ESP_NETIF_IP_EVENT_GOT_IP == 1);
    PIN(ESP_NETIF_IP_EVENT_LOST_IP == 2);

    PIN_SIZE(esp_netif_dns_type_t, 4);
    PIN(ESP_NETIF_DNS_MAIN == 0);
    PIN(ESP_NETIF_DNS_BACKUP == 1);
    PIN(ESP_NETIF_DNS_FALLBACK == 2);
    PIN(ESP_NETIF_DNS_MAX == 3);

    PIN_SIZE(esp_netif_dhcp_status_t, 4);
    PIN(ESP_NETIF_DHCP_INIT == 0);
    PIN(ESP_NETIF_DHCP_STARTED == 1);
    PIN(ESP_NETIF_DHCP_STOPPED == 2);
    PIN(ESP_NETIF_DHCP_STATUS_MAX == 3);

    PIN(ESP_NETIF_OP_START == 0);
    PIN(ESP_NETIF_OP_SET == 1);
    PIN(ESP_NETIF_OP_GET == 2);
    PIN(ESP_NETIF_OP_MAX == 3);

    PIN_SIZE(esp_netif_dhcp_option_id_t, 4);
    PIN(ESP_NETIF_SUBNET_MASK == 1);
    PIN(ESP_NETIF_DOMAIN_NAME_SERVER == 6);
    PIN(ESP_NETIF_ROUTER_SOLICITATION_ADDRESS == 32);
    PIN(ESP_NETIF_REQUESTED_IP_ADDRESS == 50);
    PIN(ESP_NETIF_IP_ADDRESS_LEASE_TIME == 51);
    PIN(ESP_NETIF_IP_REQUEST_RETRY_TIME == 52);
    PIN(ESP_NETIF_VENDOR_CLASS_IDENTIFIER == 60);
    PIN(ESP_NETIF_VENDOR_SPECIFIC_INFO == 43);
    PIN(ESP_NETIF_CAPTIVEPORTAL_URI == 114);

    PIN(ESP_NETIF_TX == 0);
    PIN(ESP_NETIF_RX == 1);

    PIN(ESP_NETIF_BR_FLOOD == -1);
    PIN(ESP_NETIF_BR_DROP == 0);
    PIN(ESP_NETIF_BR_FDW_CPU == 0x8000000000000000ULL);

    /* esp_err.h */
    PIN(SAME_TYPE(esp_err_t, int));
    PIN(ESP_OK == 0);
    PIN(ESP_FAIL == -1);
    PIN(ESP_ERR_NO_MEM == 0x101);
    PIN(ESP_ERR_INVALID_ARG == 0x102);
    PIN(ESP_ERR_INVALID_STATE == 0x103);
    PIN(ESP_ERR_INVALID_SIZE == 0x104);
    PIN(ESP_ERR_NOT_FOUND == 0x105);
    PIN(ESP_ERR_NOT_SUPPORTED == 0x106);
    PIN(ESP_ERR_TIMEOUT == 0x107);
    PIN(ESP_ERR_INVALID_RESPONSE == 0x108);
    PIN(ESP_ERR_INVALID_CRC == 0x109);
    PIN(ESP_ERR_INVALID_VERSION == 0x10A);
    PIN(ESP_ERR_INVALID_MAC == 0x10B);
    PIN(ESP_ERR_NOT_FINISHED == 0x10C);
    PIN(ESP_ERR_NOT_ALLOWED == 0x10D);
    PIN(ESP_ERR_WIFI_BASE == 0x3000);
    PIN(ESP_ERR_MESH_BASE == 0x4000);
    PIN(ESP_ERR_FLASH_BASE == 0x6000);
    PIN(ESP_ERR_HW_CRYPTO_BASE == 0xc000);
    PIN(ESP_ERR_MEMPROT_BASE == 0xd000);

    /* esp_netif error codes (the parentheses below are needed: IDF writes
     * the macros without them, and so do we). */
    PIN(ESP_ERR_ESP_NETIF_BASE == 0x5000);
    PIN((ESP_ERR_ESP_NETIF_INVALID_PARAMS) == 0x5001);
    PIN((ESP_ERR_ESP_NETIF_IF_NOT_READY) == 0x5002);
    PIN((ESP_ERR_ESP_NETIF_DHCPC_START_FAILED) == 0x5003);
    PIN((ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED) == 0x5004);
    PIN((ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED) == 0x5005);
    PIN((ESP_ERR_ESP_NETIF_NO_MEM) == 0x5006);
    PIN((ESP_ERR_ESP_NETIF_DHCP_NOT_STOPPED) == 0x5007);
    PIN((ESP_ERR_ESP_NETIF_DRIVER_ATTACH_FAILED) == 0x5008);
    PIN((ESP_ERR_ESP_NETIF_INIT_FAILED) == 0x5009);
    PIN((ESP_ERR_ESP_NETIF_DNS_NOT_CONFIGURED) == 0x500A);
    PIN((ESP_ERR_ESP_NETIF_MLD6_FAILED) == 0x500B);
    PIN((ESP_ERR_ESP_NETIF_IP6_ADDR_FAILED) == 0x500C);
    PIN((ESP_ERR_ESP_NETIF_DHCPS_START_FAILED) == 0x500D);
    PIN((ESP_ERR_ESP_NETIF_TX_FAILED) == 0x500E);
    /* Proof of the missing parentheses: 2 * (0x5000 + 0x01) would be 0xA002. */
    PIN(2 * ESP_ERR_ESP_NETIF_INVALID_PARAMS == 0xA001);

    /* lwip/err.h */
    PIN_SIZE(err_t, 1);
    PIN((err_t)-1 < 0);
    PIN(ERR_OK == 0);
    PIN(ERR_MEM == -1);
    PIN(ERR_BUF == -2);
    PIN(ERR_TIMEOUT == -3);
    PIN(ERR_RTE == -4);
    PIN(ERR_INPROGRESS == -5);
    PIN(ERR_VAL == -6);
    PIN(ERR_WOULDBLOCK == -7);
    PIN(ERR_USE == -8);
    PIN(ERR_ALREADY == -9);
    PIN(ERR_ISCONN == -10);
    PIN(ERR_CONN == -11);
    PIN(ERR_IF == -12);
    PIN(ERR_ABRT == -13);
    PIN(ERR_RST == -14);
    PIN(ERR_CLSD == -15);
    PIN(ERR_ARG == -16);
    PIN(IPADDR_NONE == 0xffffffffu);
    PIN(SAME_TYPE(__typeof__(ipaddr_addr("1.2.3.4")), uint32_t));
    PIN_SIZE(ip4_addr_t, 4);

    /* esp_log.h */
    PIN(ESP_LOG_NONE == 0);
    PIN(ESP_LOG_ERROR == 1);
    PIN(ESP_LOG_WARN == 2);
    PIN(ESP_LOG_INFO == 3);
    PIN(ESP_LOG_DEBUG == 4);
    PIN(ESP_LOG_VERBOSE == 5);
    PIN(ESP_LOG_MAX == 6);
    PIN(CONFIG_LOG_MAXIMUM_LEVEL == 5);
    PIN(LOG_LOCAL_LEVEL == CONFIG_LOG_MAXIMUM_LEVEL);

    /* tapio.h */
    PIN_OFF(tapio_config_t, tap_name, 0);
    PIN(SAME_TYPE(__typeof__(&tapio_create), void *(*)(void)));
    PIN(SAME_TYPE(__typeof__(&tapio_create_with), void *(*)(const tapio_config_t *)));
    PIN(SAME_TYPE(__typeof__(&example_connect), esp_err_t (*)(void)));

    /* Default-flag helpers with no lwIP Kconfig: the Linux defaults. */
#if !defined(CONFIG_LWIP_ENABLE)
    PIN(ESP_NETIF_DEFAULT_ARP_FLAGS == ESP_NETIF_FLAG_GARP);
    PIN(ESP_NETIF_IPV4_ONLY_FLAGS(ESP_NETIF_DHCP_CLIENT) == ESP_NETIF_DHCP_CLIENT);
    PIN(ESP_NETIF_DEFAULT_MLDV6_REPORT_FLAGS == ESP_NETIF_FLAG_MLDV6_REPORT);
    PIN(ESP_NETIF_DEFAULT_IPV6_AUTOCONFIG_FLAGS == 0);
#endif
}

/* ======================================================================
 * Run-time checks
 * ====================================================================== */

/* ---- esp_netif defaults and address macros ---- */

static const esp_netif_inherent_config_t s_sta = ESP_NETIF_INHERENT_DEFAULT_WIFI_STA();
static const esp_netif_inherent_config_t s_eth = ESP_NETIF_INHERENT_DEFAULT_ETH();
static const esp_netif_inherent_config_t s_br = ESP_NETIF_INHERENT_DEFAULT_BR();
static const esp_netif_inherent_config_t s_nan = ESP_NETIF_INHERENT_DEFAULT_WIFI_NAN();
/* Constant initializers must work at file scope. */
static const esp_ip_addr_t s_v4 = ESP_IP4ADDR_INIT(10, 1, 2, 3);

static void check_defaults(void)
{
    CHECK(s_sta.flags == (ESP_NETIF_DHCP_CLIENT | ESP_NETIF_FLAG_GARP | ESP_NETIF_FLAG_MLDV6_REPORT |
                          ESP_NETIF_FLAG_EVENT_IP_MODIFIED));
    CHECK(s_sta.get_ip_event == IP_EVENT_STA_GOT_IP && s_sta.lost_ip_event == IP_EVENT_STA_LOST_IP);
    CHECK_STR(s_sta.if_key, "WIFI_STA_DEF");
    CHECK_STR(s_sta.if_desc, "sta");
    CHECK(s_sta.route_prio == 100 && s_sta.ip_info == NULL && s_sta.bridge_info == NULL && s_sta.mtu == 0);

    CHECK(s_eth.flags == (ESP_NETIF_DHCP_CLIENT | ESP_NETIF_FLAG_GARP | ESP_NETIF_FLAG_EVENT_IP_MODIFIED));
    CHECK(s_eth.get_ip_event == IP_EVENT_ETH_GOT_IP && s_eth.lost_ip_event == IP_EVENT_ETH_LOST_IP);
    CHECK_STR(s_eth.if_key, "ETH_DEF");
    CHECK_STR(s_eth.if_desc, "eth");
    CHECK(s_eth.route_prio == 50);

    CHECK(s_br.flags == (ESP_NETIF_DHCP_CLIENT | ESP_NETIF_FLAG_GARP | ESP_NETIF_FLAG_EVENT_IP_MODIFIED |
                         ESP_NETIF_FLAG_IS_BRIDGE));
    CHECK_STR(s_br.if_key, "BR0");
    CHECK(s_br.route_prio == 70);

    CHECK(s_nan.flags == 0 && s_nan.route_prio == 10);
    CHECK_STR(s_nan.if_key, "WIFI_NAN_DEF");
}

static void check_address_macros(void)
{
    char buf[64];

    esp_ip4_addr_t a = { .addr = ESP_IP4TOADDR(192, 168, 5, 1) };
    snprintf(buf, sizeof(buf), IPSTR, IP2STR(&a));
    CHECK_STR(buf, "192.168.5.1");
    CHECK(esp_ip4_addr1(&a) == 192 && esp_ip4_addr2(&a) == 168 &&
          esp_ip4_addr3(&a) == 5 && esp_ip4_addr4(&a) == 1);
    const uint8_t *bytes = (const uint8_t *)&a.addr;
    CHECK(bytes[0] == 192 && bytes[3] == 1);   /* network order in memory */

    esp_netif_ip_info_t info = {
        .ip = { .addr = ESP_IP4TOADDR(10, 0, 0, 2) },
        .netmask = { .addr = ESP_IP4TOADDR(255, 255, 255, 0) },
        .gw = { .addr = ESP_IP4TOADDR(10, 0, 0, 1) },
    };
    snprintf(buf, sizeof(buf), IPSTR "/" IPSTR "/" IPSTR,
             IP2STR(&info.ip), IP2STR(&info.netmask), IP2STR(&info.gw));
    CHECK_STR(buf, "10.0.0.2/255.255.255.0/10.0.0.1");

    snprintf(buf, sizeof(buf), IPSTR, IP2STR(&s_v4.u_addr.ip4));
    CHECK_STR(buf, "10.1.2.3");
    CHECK(s_v4.type == ESP_IPADDR_TYPE_V4);

    esp_ip_addr_t v6 = ESP_IP6ADDR_INIT(esp_netif_htonl(0xfe800000u), 0,
                                        esp_netif_htonl(0x02123456u), esp_netif_htonl(0x789a00abu));
    CHECK(v6.type == ESP_IPADDR_TYPE_V6 && v6.u_addr.ip6.zone == 0);
    snprintf(buf, sizeof(buf), IPV6STR, IPV62STR(v6.u_addr.ip6));
    CHECK_STR(buf, "fe80:0000:0000:0000:0212:3456:789a:00ab");
    CHECK(ESP_IP6_ADDR_BLOCK1(&v6.u_addr.ip6) == 0xfe80);
    CHECK(ESP_IP6_ADDR_BLOCK8(&v6.u_addr.ip6) == 0x00ab);

    esp_ip_addr_t any4 = ESP_IP4ADDR_INIT(0, 0, 0, 0);
    esp_ip_addr_t any6 = ESP_IP6ADDR_INIT(0, 0, 0, 0);
    CHECK(ESP_IP_IS_ANY(any4));
    CHECK(ESP_IP_IS_ANY(any6));
    CHECK(!ESP_IP_IS_ANY(s_v4));
    CHECK(!ESP_IP_IS_ANY(v6));

    /* Copy IPv6 over IPv4: all 16 bytes and the zone. */
    esp_ip_addr_t dst;
    memset(&dst, 0xAA, sizeof(dst));
    v6.u_addr.ip6.zone = 3;
    esp_netif_ip_addr_copy(&dst, &v6);
    CHECK(dst.type == ESP_IPADDR_TYPE_V6 && dst.u_addr.ip6.zone == 3 &&
          memcmp(dst.u_addr.ip6.addr, v6.u_addr.ip6.addr, 16) == 0);
    /* Copy IPv4 over it: word 0, the rest and the zone cleared. */
    esp_netif_ip_addr_copy(&dst, &s_v4);
    CHECK(dst.type == ESP_IPADDR_TYPE_V4 && dst.u_addr.ip4.addr == s_v4.u_addr.ip4.addr);
    CHECK(dst.u_addr.ip6.addr[1] == 0 && dst.u_addr.ip6.addr[2] == 0 &&
          dst.u_addr.ip6.addr[3] == 0 && dst.u_addr.ip6.zone == 0);
}

/* ---- esp_err ---- */

static int s_evaluations;

static esp_err_t counted(esp_err_t rc)
{
    s_evaluations++;
    return rc;
}

/* Run fn in a child with stderr captured; returns the text (static) and the
 * wait status through *status. */
static const char *capture_stderr_in_child(void (*fn)(void), int *status)
{
    static char text[4096];
    int fds[2];
    text[0] = '\0';
    if (pipe(fds) != 0) {
        return text;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while ((n = read(fds[0], text + used, sizeof(text) - 1 - used)) > 0) {
        used += (size_t)n;
    }
    text[used] = '\0';
    close(fds[0]);
    waitpid(pid, status, 0);
    return text;
}

static void failing_check(void)
{
    ESP_ERROR_CHECK(counted(ESP_ERR_ESP_NETIF_IF_NOT_READY));
}

static void failing_check_without_abort(void)
{
    esp_err_t rc = ESP_ERROR_CHECK_WITHOUT_ABORT(counted(ESP_ERR_TIMEOUT));
    _exit(rc == ESP_ERR_TIMEOUT && s_evaluations == 1 ? 7 : 8);
}

static void check_esp_err(void)
{
    CHECK_STR(esp_err_to_name(ESP_OK), "ESP_OK");
    CHECK_STR(esp_err_to_name(ESP_FAIL), "ESP_FAIL");
    CHECK_STR(esp_err_to_name(ESP_ERR_NO_MEM), "ESP_ERR_NO_MEM");
    CHECK_STR(esp_err_to_name(ESP_ERR_NOT_ALLOWED), "ESP_ERR_NOT_ALLOWED");
    CHECK_STR(esp_err_to_name(ESP_ERR_ESP_NETIF_BASE), "ESP_ERR_ESP_NETIF_BASE");
    CHECK_STR(esp_err_to_name(ESP_ERR_ESP_NETIF_INVALID_PARAMS), "ESP_ERR_ESP_NETIF_INVALID_PARAMS");
    CHECK_STR(esp_err_to_name(ESP_ERR_ESP_NETIF_DNS_NOT_CONFIGURED), "ESP_ERR_ESP_NETIF_DNS_NOT_CONFIGURED");
    CHECK_STR(esp_err_to_name(ESP_ERR_ESP_NETIF_TX_FAILED), "ESP_ERR_ESP_NETIF_TX_FAILED");
    CHECK_STR(esp_err_to_name(0x1234), "UNKNOWN ERROR");

    /* Every generic and esp_netif code has its own name. */
    static const esp_err_t all[] = {
        ESP_OK, ESP_FAIL, ESP_ERR_NO_MEM, ESP_ERR_INVALID_ARG, ESP_ERR_INVALID_STATE,
        ESP_ERR_INVALID_SIZE, ESP_ERR_NOT_FOUND, ESP_ERR_NOT_SUPPORTED, ESP_ERR_TIMEOUT,
        ESP_ERR_INVALID_RESPONSE, ESP_ERR_INVALID_CRC, ESP_ERR_INVALID_VERSION,
        ESP_ERR_INVALID_MAC, ESP_ERR_NOT_FINISHED, ESP_ERR_NOT_ALLOWED,
        ESP_ERR_WIFI_BASE, ESP_ERR_MESH_BASE, ESP_ERR_FLASH_BASE, ESP_ERR_HW_CRYPTO_BASE,
        ESP_ERR_MEMPROT_BASE, ESP_ERR_ESP_NETIF_BASE,
        ESP_ERR_ESP_NETIF_INVALID_PARAMS, ESP_ERR_ESP_NETIF_IF_NOT_READY,
        ESP_ERR_ESP_NETIF_DHCPC_START_FAILED, ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED,
        ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED, ESP_ERR_ESP_NETIF_NO_MEM,
        ESP_ERR_ESP_NETIF_DHCP_NOT_STOPPED, ESP_ERR_ESP_NETIF_DRIVER_ATTACH_FAILED,
        ESP_ERR_ESP_NETIF_INIT_FAILED, ESP_ERR_ESP_NETIF_DNS_NOT_CONFIGURED,
        ESP_ERR_ESP_NETIF_MLD6_FAILED, ESP_ERR_ESP_NETIF_IP6_ADDR_FAILED,
        ESP_ERR_ESP_NETIF_DHCPS_START_FAILED, ESP_ERR_ESP_NETIF_TX_FAILED,
    };
    int unnamed = 0, duplicates = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const char *name = esp_err_to_name(all[i]);
        if (strncmp(name, "ESP_", 4) != 0) {
            unnamed++;
            fprintf(stderr, "no name for 0x%x\n", (unsigned)all[i]);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(name, esp_err_to_name(all[j])) == 0) {
                duplicates++;
            }
        }
    }
    CHECK(unnamed == 0);
    CHECK(duplicates == 0);

    char buf[64];
    CHECK_STR(esp_err_to_name_r(ESP_ERR_INVALID_ARG, buf, sizeof(buf)), "ESP_ERR_INVALID_ARG");
    CHECK(esp_err_to_name_r(ESP_ERR_INVALID_ARG, buf, sizeof(buf)) == buf);
    CHECK_STR(esp_err_to_name_r(ENOENT, buf, sizeof(buf)), strerror(ENOENT));
    CHECK_STR(esp_err_to_name_r(0x7777, buf, sizeof(buf)), "ERROR 0x7777(30583)");
    CHECK_STR(esp_err_to_name_r(-5, buf, sizeof(buf)), "ERROR 0xfffffffb(-5)");
    CHECK_STR(esp_err_to_name_r(ESP_ERR_ESP_NETIF_NO_MEM, buf, 8), "ESP_ERR");   /* truncated */

    /* ESP_ERROR_CHECK on success: evaluated once, no effect. */
    s_evaluations = 0;
    ESP_ERROR_CHECK(counted(ESP_OK));
    CHECK(s_evaluations == 1);
    esp_err_t rc = ESP_ERROR_CHECK_WITHOUT_ABORT(counted(ESP_OK));
    CHECK(rc == ESP_OK && s_evaluations == 2);

    /* On failure: the report, then abort(). */
    s_evaluations = 0;
    int status = 0;
    const char *out = capture_stderr_in_child(failing_check, &status);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK(strstr(out, "ESP_ERROR_CHECK failed: esp_err_t 0x5002 (ESP_ERR_ESP_NETIF_IF_NOT_READY) at 0x") == out);
    CHECK(strstr(out, "\nfile: \"" __FILE__ "\" line ") != NULL);
    CHECK(strstr(out, "\nfunc: failing_check\n") != NULL);
    CHECK(strstr(out, "\nexpression: counted(ESP_ERR_ESP_NETIF_IF_NOT_READY)\n") != NULL);

    /* Without abort: same report with its own prefix, and execution goes on. */
    out = capture_stderr_in_child(failing_check_without_abort, &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    CHECK(strstr(out, "ESP_ERROR_CHECK_WITHOUT_ABORT failed: esp_err_t 0x107 (ESP_ERR_TIMEOUT) at 0x") == out);
    CHECK(strstr(out, "\nfunc: failing_check_without_abort\n") != NULL);
    CHECK(strstr(out, "\nexpression: counted(ESP_ERR_TIMEOUT)\n") != NULL);
}

/* ---- esp_log ---- */

#define LOG_THREADS 4
#define LOG_LINES_PER_THREAD 200

static void *log_worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < LOG_LINES_PER_THREAD; i++) {
        if (i % 2) {
            ESP_LOGW("thr", "worker %ld line %d %s", id, i, "-----------------------------------");
        } else {
            char msg[96];
            snprintf(msg, sizeof(msg), "worker %ld line %d %s", id, i, "===========================");
            gonetif_log_line(ESP_LOG_WARN, "thr", msg);
        }
    }
    return NULL;
}

/* Point stdout at a pipe; returns the read end, saves the old stdout. */
static int redirect_stdout(int *saved)
{
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    fflush(stdout);
    *saved = dup(STDOUT_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    return fds[0];
}

static size_t restore_stdout(int saved, int rd, char *text, size_t size)
{
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    size_t used = 0;
    ssize_t n;
    while (used + 1 < size && (n = read(rd, text + used, size - 1 - used)) > 0) {
        used += (size_t)n;
    }
    text[used] = '\0';
    close(rd);
    return used;
}

/* "<L> (<digits>) <tag>: " at p; returns the message start or NULL. */
static const char *parse_prefix(const char *p, char letter, const char *tag)
{
    if (p[0] != letter || p[1] != ' ' || p[2] != '(') {
        return NULL;
    }
    p += 3;
    if (*p < '0' || *p > '9') {
        return NULL;
    }
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (p[0] != ')' || p[1] != ' ') {
        return NULL;
    }
    p += 2;
    size_t tl = strlen(tag);
    if (strncmp(p, tag, tl) != 0 || p[tl] != ':' || p[tl + 1] != ' ') {
        return NULL;
    }
    return p + tl + 2;
}

static char s_sink_text[256];

static int test_sink(const char *format, va_list args)
{
    return vsnprintf(s_sink_text, sizeof(s_sink_text), format, args);
}

static void check_esp_log(void)
{
    /* GONETIF_LOG_LEVEL was set to "debug" before the first log call. */
    CHECK(esp_log_level_get("anything") == ESP_LOG_DEBUG);

    esp_log_level_set("*", ESP_LOG_INFO);
    CHECK(esp_log_level_get("a") == ESP_LOG_INFO);
    esp_log_level_set("noisy", ESP_LOG_VERBOSE);
    esp_log_level_set("quiet", ESP_LOG_ERROR);
    CHECK(esp_log_level_get("noisy") == ESP_LOG_VERBOSE);
    CHECK(esp_log_level_get("quiet") == ESP_LOG_ERROR);
    CHECK(esp_log_level_get("other") == ESP_LOG_INFO);
    char tag_copy[] = "noisy";          /* tags match by content, not pointer */
    CHECK(esp_log_level_get(tag_copy) == ESP_LOG_VERBOSE);

    uint32_t t0 = esp_log_timestamp();
    usleep(20 * 1000);
    uint32_t t1 = esp_log_timestamp();
    CHECK(t1 - t0 >= 15 && t1 - t0 < 5000);

    /* Line format and filtering, read back through a pipe. */
    static char text[65536 + 1024];
    int saved = -1;
    int rd = redirect_stdout(&saved);
    CHECK(rd >= 0);
    if (rd < 0) {
        return;
    }
    ESP_LOGI("fmt", "hello %d %s", 42, "world");
    ESP_LOGD("fmt", "debug is filtered for this tag");
    ESP_LOGV("noisy", "verbose passes for this tag");
    ESP_LOGW("quiet", "warning is filtered for this tag");
    ESP_LOGE("quiet", "error passes");
    ESP_LOG_LEVEL(ESP_LOG_WARN, "fmt", "runtime level %s", "W");
    ESP_EARLY_LOGI("fmt", "early alias");
    gonetif_log_line(ESP_LOG_INFO, "go", "from go\n");
    gonetif_log_line(ESP_LOG_DEBUG, "go", "filtered");
    esp_log_write(ESP_LOG_INFO, "raw", "raw %s\n", "text");
    uint8_t bytes[20];
    for (int i = 0; i < 20; i++) {
        bytes[i] = (uint8_t)(i * 17);
    }
    ESP_LOG_BUFFER_HEX("hex", bytes, sizeof(bytes));
    errno = 1234;
    ESP_LOGI("fmt", "errno kept");
    CHECK(errno == 1234);
    restore_stdout(saved, rd, text, sizeof(text));

    const char *lines[16];
    int count = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL && count < 16;
         l = strtok_r(NULL, "\n", &save)) {
        lines[count++] = l;
    }
    CHECK(count == 10);
    if (count == 10) {
        const char *m;
        m = parse_prefix(lines[0], 'I', "fmt");
        CHECK(m != NULL && strcmp(m, "hello 42 world") == 0);
        m = parse_prefix(lines[1], 'V', "noisy");
        CHECK(m != NULL && strcmp(m, "verbose passes for this tag") == 0);
        m = parse_prefix(lines[2], 'E', "quiet");
        CHECK(m != NULL && strcmp(m, "error passes") == 0);
        m = parse_prefix(lines[3], 'W', "fmt");
        CHECK(m != NULL && strcmp(m, "runtime level W") == 0);
        m = parse_prefix(lines[4], 'I', "fmt");
        CHECK(m != NULL && strcmp(m, "early alias") == 0);
        m = parse_prefix(lines[5], 'I', "go");
        CHECK(m != NULL && strcmp(m, "from go") == 0);
        CHECK_STR(lines[6], "raw text");
        m = parse_prefix(lines[7], 'I', "hex");
        CHECK(m != NULL && strcmp(m, "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff") == 0);
        m = parse_prefix(lines[8], 'I', "hex");
        CHECK(m != NULL && strcmp(m, "10 21 32 43") == 0);
        m = parse_prefix(lines[9], 'I', "fmt");
        CHECK(m != NULL && strcmp(m, "errno kept") == 0);
    }

    /* Lines from several threads never interleave. */
    rd = redirect_stdout(&saved);
    CHECK(rd >= 0);
    if (rd < 0) {
        return;
    }
    pthread_t threads[LOG_THREADS];
    for (long i = 0; i < LOG_THREADS; i++) {
        pthread_create(&threads[i], NULL, log_worker, (void *)i);
    }
    for (int i = 0; i < LOG_THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    restore_stdout(saved, rd, text, sizeof(text));
    int good = 0, bad = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        const char *m = parse_prefix(l, 'W', "thr");
        long id;
        int line;
        char filler[64];
        if (m != NULL && sscanf(m, "worker %ld line %d %63s", &id, &line, filler) == 3 &&
            strlen(filler) >= 27) {
            good++;
        } else {
            bad++;
        }
    }
    CHECK(good == LOG_THREADS * LOG_LINES_PER_THREAD);
    CHECK(bad == 0);

    /* A custom sink receives esp_log_write's format and arguments. */
    vprintf_like_t old = esp_log_set_vprintf(test_sink);
    CHECK(old != NULL);
    ESP_LOGI("sink", "to the sink %d", 7);
    const char *m = parse_prefix(s_sink_text, 'I', "sink");
    CHECK(m != NULL && strcmp(m, "to the sink 7\n") == 0);
    gonetif_log_line(ESP_LOG_ERROR, "sink", "go line");
    m = parse_prefix(s_sink_text, 'E', "sink");
    CHECK(m != NULL && strcmp(m, "go line\n") == 0);
    CHECK(esp_log_set_vprintf(old) == test_sink);

    /* "*" forgets per-tag settings. */
    esp_log_level_set("*", ESP_LOG_WARN);
    CHECK(esp_log_level_get("noisy") == ESP_LOG_WARN);
    esp_log_level_set("*", ESP_LOG_INFO);
}

int main(void)
{
    /* Read by the log module at its first use. */
    setenv("GONETIF_LOG_LEVEL", "debug", 1);

    pin_addresses();
    pin_config_structs();
    pin_events();
    pin_enums_and_codes();
    int pinned = s_checks;

    check_defaults();
    check_address_macros();
    check_esp_err();
    check_esp_log();

    if (s_failures != 0) {
        printf("layout: %d of %d checks FAILED\n", s_failures, s_checks);
        return 1;
    }
    printf("layout: %d checks passed (%d at compile time, %d at run time)\n",
           s_checks, pinned, s_checks - pinned);
    return 0;
}
