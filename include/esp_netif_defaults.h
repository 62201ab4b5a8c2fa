/*
 * gonetif — esp_netif_defaults.h
 *
 * Default configurations of common interface kinds, as in ESP-IDF 6.x.
 * Only macros and extern objects:
 *   - ESP_NETIF_INHERENT_DEFAULT_<KIND>() initialize an
 *     esp_netif_inherent_config_t;
 *   - ESP_NETIF_DEFAULT_<KIND>() initialize an esp_netif_config_t from the
 *     _g_esp_netif_inherent_*_config objects (esp_netif side) and the
 *     _g_esp_netif_netstack_default_* objects (network stack side).
 *
 * Flag choices that IDF takes from lwIP's Kconfig: when the build has an lwIP
 * configuration (CONFIG_LWIP_ENABLE defined) the CONFIG_LWIP_* switches are
 * followed as IDF does; otherwise (gonetif standalone, or IDF with lwIP
 * disabled) the Linux defaults apply: gratuitous ARP on, IPv4 on, MLDv6
 * reports on, IPv6 autoconfig off.
 */
#ifndef GONETIF_ESP_NETIF_DEFAULTS_H
#define GONETIF_ESP_NETIF_DEFAULTS_H

#ifdef __has_include
#  if __has_include("sdkconfig.h")
#    include "sdkconfig.h"
#  endif
#endif

#include <stddef.h>

#include "esp_compiler.h"
#include "esp_netif_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- flag helpers ---------------------------------------------------------- */

#if defined(CONFIG_LWIP_ESP_GRATUITOUS_ARP) || !defined(CONFIG_LWIP_ENABLE)
#define ESP_NETIF_DEFAULT_ARP_FLAGS (ESP_NETIF_FLAG_GARP)
#else
#define ESP_NETIF_DEFAULT_ARP_FLAGS (0)
#endif

#if defined(CONFIG_LWIP_IPV4) || !defined(CONFIG_LWIP_ENABLE)
#define ESP_NETIF_IPV4_ONLY_FLAGS(flags) (flags)
#else
#define ESP_NETIF_IPV4_ONLY_FLAGS(flags) (0)
#endif

#if defined(CONFIG_LWIP_ESP_MLDV6_REPORT) || !defined(CONFIG_LWIP_ENABLE)
#define ESP_NETIF_DEFAULT_MLDV6_REPORT_FLAGS (ESP_NETIF_FLAG_MLDV6_REPORT)
#else
#define ESP_NETIF_DEFAULT_MLDV6_REPORT_FLAGS (0)
#endif

#if defined(CONFIG_LWIP_IPV6_AUTOCONFIG)
#define ESP_NETIF_DEFAULT_IPV6_AUTOCONFIG_FLAGS (ESP_NETIF_FLAG_IPV6_AUTOCONFIG_ENABLED)
#else
#define ESP_NETIF_DEFAULT_IPV6_AUTOCONFIG_FLAGS (0)
#endif

/* ---- inherent (esp_netif side) defaults ------------------------------------ */

#define ESP_NETIF_INHERENT_DEFAULT_WIFI_STA()                                          \
    {                                                                                  \
        .flags = (esp_netif_flags_t)(ESP_NETIF_IPV4_ONLY_FLAGS(ESP_NETIF_DHCP_CLIENT) | \
                                     ESP_NETIF_DEFAULT_ARP_FLAGS |                     \
                                     ESP_NETIF_DEFAULT_MLDV6_REPORT_FLAGS |            \
                                     ESP_NETIF_FLAG_EVENT_IP_MODIFIED |                \
                                     ESP_NETIF_DEFAULT_IPV6_AUTOCONFIG_FLAGS),         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(mac)                         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(ip_info)                     \
        .get_ip_event = IP_EVENT_STA_GOT_IP,                                           \
        .lost_ip_event = IP_EVENT_STA_LOST_IP,                                         \
        .if_key = "WIFI_STA_DEF",                                                      \
        .if_desc = "sta",                                                              \
        .route_prio = 100,                                                             \
        .bridge_info = NULL,                                                           \
        .mtu = 0                                                                       \
    }

#ifdef CONFIG_ESP_WIFI_SOFTAP_SUPPORT
#define ESP_NETIF_INHERENT_DEFAULT_WIFI_AP()                                           \
    {                                                                                  \
        .flags = (esp_netif_flags_t)(ESP_NETIF_IPV4_ONLY_FLAGS(ESP_NETIF_DHCP_SERVER) | \
                                     ESP_NETIF_FLAG_AUTOUP),                           \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(mac)                         \
        .ip_info = &_g_esp_netif_soft_ap_ip,                                           \
        .get_ip_event = 0,                                                             \
        .lost_ip_event = 0,                                                            \
        .if_key = "WIFI_AP_DEF",                                                       \
        .if_desc = "ap",                                                               \
        .route_prio = 10,                                                              \
        .bridge_info = NULL,                                                           \
        .mtu = 0                                                                       \
    }
#endif

#define ESP_NETIF_INHERENT_DEFAULT_WIFI_NAN()                                          \
    {                                                                                  \
        .flags = (esp_netif_flags_t)0,                                                 \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(mac)                         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(ip_info)                     \
        .get_ip_event = 0,                                                             \
        .lost_ip_event = 0,                                                            \
        .if_key = "WIFI_NAN_DEF",                                                      \
        .if_desc = "nan",                                                              \
        .route_prio = 10,                                                              \
        .bridge_info = NULL,                                                           \
        .mtu = 0                                                                       \
    }

#define ESP_NETIF_INHERENT_DEFAULT_ETH()                                               \
    {                                                                                  \
        .flags = (esp_netif_flags_t)(ESP_NETIF_IPV4_ONLY_FLAGS(ESP_NETIF_DHCP_CLIENT) | \
                                     ESP_NETIF_DEFAULT_ARP_FLAGS |                     \
                                     ESP_NETIF_FLAG_EVENT_IP_MODIFIED |                \
                                     ESP_NETIF_DEFAULT_IPV6_AUTOCONFIG_FLAGS),         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(mac)                         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(ip_info)                     \
        .get_ip_event = IP_EVENT_ETH_GOT_IP,                                           \
        .lost_ip_event = IP_EVENT_ETH_LOST_IP,                                         \
        .if_key = "ETH_DEF",                                                           \
        .if_desc = "eth",                                                              \
        .route_prio = 50,                                                              \
        .bridge_info = NULL,                                                           \
        .mtu = 0                                                                       \
    }

#ifdef CONFIG_PPP_SUPPORT
#define ESP_NETIF_INHERENT_DEFAULT_PPP()                                               \
    {                                                                                  \
        .flags = (esp_netif_flags_t)(ESP_NETIF_FLAG_IS_PPP |                           \
                                     ESP_NETIF_DEFAULT_IPV6_AUTOCONFIG_FLAGS),         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(mac)                         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(ip_info)                     \
        .get_ip_event = IP_EVENT_PPP_GOT_IP,                                           \
        .lost_ip_event = IP_EVENT_PPP_LOST_IP,                                         \
        .if_key = "PPP_DEF",                                                           \
        .if_desc = "ppp",                                                              \
        .route_prio = 20,                                                              \
        .bridge_info = NULL,                                                           \
        .mtu = 0                                                                       \
    }
#endif

#define ESP_NETIF_INHERENT_DEFAULT_BR()                                                \
    {                                                                                  \
        .flags = (esp_netif_flags_t)(ESP_NETIF_DHCP_CLIENT |                           \
                                     ESP_NETIF_DEFAULT_ARP_FLAGS |                     \
                                     ESP_NETIF_FLAG_EVENT_IP_MODIFIED |                \
                                     ESP_NETIF_FLAG_IS_BRIDGE),                        \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(mac)                         \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(ip_info)                     \
        .get_ip_event = IP_EVENT_ETH_GOT_IP,                                           \
        .lost_ip_event = IP_EVENT_ETH_LOST_IP,                                         \
        .if_key = "BR0",                                                               \
        .if_desc = "br0",                                                              \
        .route_prio = 70,                                                              \
        .bridge_info = NULL,                                                           \
        .mtu = 0                                                                       \
    }

#define ESP_NETIF_INHERENT_DEFAULT_BR_DHCPS()                                          \
    {                                                                                  \
        .flags = (esp_netif_flags_t)(ESP_NETIF_DHCP_SERVER | ESP_NETIF_FLAG_IS_BRIDGE), \
        ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(mac)                         \
        .ip_info = &_g_esp_netif_soft_ap_ip,                                           \
        .get_ip_event = 0,                                                             \
        .lost_ip_event = 0,                                                            \
        .if_key = "BR1",                                                               \
        .if_desc = "br1",                                                              \
        .route_prio = 70,                                                              \
        .bridge_info = NULL,                                                           \
        .mtu = 0                                                                       \
    }

/* ---- complete configurations ------------------------------------------------ */

#define ESP_NETIF_DEFAULT_ETH()                                                        \
    {                                                                                  \
        .base = ESP_NETIF_BASE_DEFAULT_ETH,                                            \
        .driver = NULL,                                                                \
        .stack = ESP_NETIF_NETSTACK_DEFAULT_ETH,                                       \
    }

#define ESP_NETIF_DEFAULT_WIFI_STA()                                                   \
    {                                                                                  \
        .base = ESP_NETIF_BASE_DEFAULT_WIFI_STA,                                       \
        .driver = NULL,                                                                \
        .stack = ESP_NETIF_NETSTACK_DEFAULT_WIFI_STA,                                  \
    }

#ifdef CONFIG_ESP_WIFI_SOFTAP_SUPPORT
#define ESP_NETIF_DEFAULT_WIFI_AP()                                                    \
    {                                                                                  \
        .base = ESP_NETIF_BASE_DEFAULT_WIFI_AP,                                        \
        .driver = NULL,                                                                \
        .stack = ESP_NETIF_NETSTACK_DEFAULT_WIFI_AP,                                   \
    }
#endif

#if defined(CONFIG_ESP_WIFI_NAN_SYNC_ENABLE) || defined(CONFIG_ESP_WIFI_NAN_ENABLE)
#define ESP_NETIF_DEFAULT_WIFI_NAN()                                                   \
    {                                                                                  \
        .base = ESP_NETIF_BASE_DEFAULT_WIFI_NAN,                                       \
        .driver = NULL,                                                                \
        .stack = ESP_NETIF_NETSTACK_DEFAULT_WIFI_NAN,                                  \
    }
#endif

#ifdef CONFIG_PPP_SUPPORT
#define ESP_NETIF_DEFAULT_PPP()                                                        \
    {                                                                                  \
        .base = ESP_NETIF_BASE_DEFAULT_PPP,                                            \
        .driver = NULL,                                                                \
        .stack = ESP_NETIF_NETSTACK_DEFAULT_PPP,                                       \
    }
#endif

/* ---- the objects behind them ------------------------------------------------ */

#define ESP_NETIF_BASE_DEFAULT_WIFI_STA      &_g_esp_netif_inherent_sta_config
#define ESP_NETIF_BASE_DEFAULT_ETH           &_g_esp_netif_inherent_eth_config
#ifdef CONFIG_ESP_WIFI_SOFTAP_SUPPORT
#define ESP_NETIF_BASE_DEFAULT_WIFI_AP       &_g_esp_netif_inherent_ap_config
#endif
#if defined(CONFIG_ESP_WIFI_NAN_SYNC_ENABLE) || defined(CONFIG_ESP_WIFI_NAN_ENABLE)
#define ESP_NETIF_BASE_DEFAULT_WIFI_NAN      &_g_esp_netif_inherent_nan_config
#endif
#ifdef CONFIG_PPP_SUPPORT
#define ESP_NETIF_BASE_DEFAULT_PPP           &_g_esp_netif_inherent_ppp_config
#endif

#define ESP_NETIF_NETSTACK_DEFAULT_ETH       _g_esp_netif_netstack_default_eth
#define ESP_NETIF_NETSTACK_DEFAULT_BR        _g_esp_netif_netstack_default_br
#define ESP_NETIF_NETSTACK_DEFAULT_WIFI_STA  _g_esp_netif_netstack_default_wifi_sta
#ifdef CONFIG_ESP_WIFI_SOFTAP_SUPPORT
#define ESP_NETIF_NETSTACK_DEFAULT_WIFI_AP   _g_esp_netif_netstack_default_wifi_ap
#endif
#if defined(CONFIG_ESP_WIFI_NAN_SYNC_ENABLE) || defined(CONFIG_ESP_WIFI_NAN_ENABLE)
#define ESP_NETIF_NETSTACK_DEFAULT_WIFI_NAN  _g_esp_netif_netstack_default_wifi_nan
#endif
#ifdef CONFIG_PPP_SUPPORT
#define ESP_NETIF_NETSTACK_DEFAULT_PPP       _g_esp_netif_netstack_default_ppp
#endif

/* Network stack configurations, defined by the stack implementation. */
extern const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_eth;
extern const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_br;
extern const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_wifi_sta;
#ifdef CONFIG_ESP_WIFI_SOFTAP_SUPPORT
extern const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_wifi_ap;
#endif
#if defined(CONFIG_ESP_WIFI_NAN_SYNC_ENABLE) || defined(CONFIG_ESP_WIFI_NAN_ENABLE)
extern const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_wifi_nan;
#endif
#ifdef CONFIG_PPP_SUPPORT
extern const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_ppp;
#endif

/* Inherent configurations, defined by the esp_netif implementation. */
extern const esp_netif_inherent_config_t _g_esp_netif_inherent_sta_config;
extern const esp_netif_inherent_config_t _g_esp_netif_inherent_eth_config;
#ifdef CONFIG_ESP_WIFI_SOFTAP_SUPPORT
extern const esp_netif_inherent_config_t _g_esp_netif_inherent_ap_config;
#endif
#if defined(CONFIG_ESP_WIFI_NAN_SYNC_ENABLE) || defined(CONFIG_ESP_WIFI_NAN_ENABLE)
extern const esp_netif_inherent_config_t _g_esp_netif_inherent_nan_config;
#endif
#ifdef CONFIG_PPP_SUPPORT
extern const esp_netif_inherent_config_t _g_esp_netif_inherent_ppp_config;
#endif

/*
 * 192.168.4.1/24, gateway 192.168.4.1: the address of a soft-AP and of the
 * DHCP-serving bridge (ESP_NETIF_INHERENT_DEFAULT_BR_DHCPS).  Declared in
 * every build because the bridge default refers to it.
 */
extern const esp_netif_ip_info_t _g_esp_netif_soft_ap_ip;

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_NETIF_DEFAULTS_H */
