/*
 * gonetif — esp_netif_types.h
 *
 * Types, enums, error codes and event payloads of ESP-IDF's esp_netif,
 * with IDF 6.x member order, types and therefore layout (x86_64 sizes and
 * offsets are pinned by tests/c/layout_test.c).
 */
#ifndef GONETIF_ESP_NETIF_TYPES_H
#define GONETIF_ESP_NETIF_TYPES_H

#ifdef __has_include
#  if __has_include("sdkconfig.h")
#    include "sdkconfig.h"
#  endif
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_event_base.h"
#include "esp_netif_ip_addr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes --------------------------------------------------------------
 * Written without parentheses, exactly as IDF has them. */
#define ESP_ERR_ESP_NETIF_BASE                  0x5000
#define ESP_ERR_ESP_NETIF_INVALID_PARAMS        ESP_ERR_ESP_NETIF_BASE + 0x01
#define ESP_ERR_ESP_NETIF_IF_NOT_READY          ESP_ERR_ESP_NETIF_BASE + 0x02
#define ESP_ERR_ESP_NETIF_DHCPC_START_FAILED    ESP_ERR_ESP_NETIF_BASE + 0x03
#define ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED  ESP_ERR_ESP_NETIF_BASE + 0x04
#define ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED  ESP_ERR_ESP_NETIF_BASE + 0x05
#define ESP_ERR_ESP_NETIF_NO_MEM                ESP_ERR_ESP_NETIF_BASE + 0x06
#define ESP_ERR_ESP_NETIF_DHCP_NOT_STOPPED      ESP_ERR_ESP_NETIF_BASE + 0x07
#define ESP_ERR_ESP_NETIF_DRIVER_ATTACH_FAILED  ESP_ERR_ESP_NETIF_BASE + 0x08
#define ESP_ERR_ESP_NETIF_INIT_FAILED           ESP_ERR_ESP_NETIF_BASE + 0x09
#define ESP_ERR_ESP_NETIF_DNS_NOT_CONFIGURED    ESP_ERR_ESP_NETIF_BASE + 0x0A
#define ESP_ERR_ESP_NETIF_MLD6_FAILED           ESP_ERR_ESP_NETIF_BASE + 0x0B
#define ESP_ERR_ESP_NETIF_IP6_ADDR_FAILED       ESP_ERR_ESP_NETIF_BASE + 0x0C
#define ESP_ERR_ESP_NETIF_DHCPS_START_FAILED    ESP_ERR_ESP_NETIF_BASE + 0x0D
#define ESP_ERR_ESP_NETIF_TX_FAILED             ESP_ERR_ESP_NETIF_BASE + 0x0E

/* ---- bridge forwarding-database port masks ---------------------------------- */
#define ESP_NETIF_BR_FLOOD      -1              /* to every port */
#define ESP_NETIF_BR_DROP       0               /* to none */
#define ESP_NETIF_BR_FDW_CPU    (1ULL << 63)    /* to the bridge itself */

/* ---- opaque objects ------------------------------------------------------------ */

/* One network interface.  Never defined in public headers. */
typedef struct esp_netif_obj esp_netif_t;

/* Network stack configuration; completed by lwip/esp_netif_net_stack.h. */
typedef struct esp_netif_netstack_config esp_netif_netstack_config_t;

/* ---- enums (all int sized) -------------------------------------------------- */

typedef enum {
    ESP_NETIF_DNS_MAIN = 0,
    ESP_NETIF_DNS_BACKUP,
    ESP_NETIF_DNS_FALLBACK,
    ESP_NETIF_DNS_MAX
} esp_netif_dns_type_t;

typedef enum {
    ESP_NETIF_DHCP_INIT = 0,        /* not yet started (e.g. waiting for the link) */
    ESP_NETIF_DHCP_STARTED,
    ESP_NETIF_DHCP_STOPPED,
    ESP_NETIF_DHCP_STATUS_MAX
} esp_netif_dhcp_status_t;

typedef enum {
    ESP_NETIF_OP_START = 0,
    ESP_NETIF_OP_SET,
    ESP_NETIF_OP_GET,
    ESP_NETIF_OP_MAX
} esp_netif_dhcp_option_mode_t;

/* DHCP option ids (values are the DHCP option numbers). */
typedef enum {
    ESP_NETIF_SUBNET_MASK                   = 1,
    ESP_NETIF_DOMAIN_NAME_SERVER            = 6,
    ESP_NETIF_ROUTER_SOLICITATION_ADDRESS   = 32,
    ESP_NETIF_REQUESTED_IP_ADDRESS          = 50,
    ESP_NETIF_IP_ADDRESS_LEASE_TIME         = 51,
    ESP_NETIF_IP_REQUEST_RETRY_TIME         = 52,
    ESP_NETIF_VENDOR_CLASS_IDENTIFIER       = 60,
    ESP_NETIF_VENDOR_SPECIFIC_INFO          = 43,
    ESP_NETIF_CAPTIVEPORTAL_URI             = 114
} esp_netif_dhcp_option_id_t;

/* Event ids of IP_EVENT. */
typedef enum {
    IP_EVENT_STA_GOT_IP,                /* 0: station got an address (ip_event_got_ip_t) */
    IP_EVENT_STA_LOST_IP,               /* 1: station lost its address */
    IP_EVENT_ASSIGNED_IP_TO_CLIENT,     /* 2: DHCP server leased an address */
    IP_EVENT_AP_STAIPASSIGNED __attribute__((deprecated("use IP_EVENT_ASSIGNED_IP_TO_CLIENT")))
        = IP_EVENT_ASSIGNED_IP_TO_CLIENT,
    IP_EVENT_GOT_IP6,                   /* 3: IPv6 address became preferred (ip_event_got_ip6_t) */
    IP_EVENT_ETH_GOT_IP,                /* 4 */
    IP_EVENT_ETH_LOST_IP,               /* 5 */
    IP_EVENT_PPP_GOT_IP,                /* 6 */
    IP_EVENT_PPP_LOST_IP,               /* 7 */
    IP_EVENT_TX_RX,                     /* 8: frame sent/received (ip_event_tx_rx_t) */
    IP_EVENT_NETIF_UP,                  /* 9: interface became up (ip_event_netif_status_t) */
    IP_EVENT_NETIF_DOWN,                /* 10 */
    IP_EVENT_CUSTOM_GOT_IP,             /* 11 */
    IP_EVENT_CUSTOM_LOST_IP             /* 12 */
} ip_event_t;

/* The event base of every esp_netif IP event; compared by pointer. */
ESP_EVENT_DECLARE_BASE(IP_EVENT);

typedef enum esp_netif_flags {
    ESP_NETIF_DHCP_CLIENT                   = 1 << 0,
    ESP_NETIF_DHCP_SERVER                   = 1 << 1,
    ESP_NETIF_FLAG_AUTOUP                   = 1 << 2,
    ESP_NETIF_FLAG_GARP                     = 1 << 3,
    ESP_NETIF_FLAG_EVENT_IP_MODIFIED        = 1 << 4,
    ESP_NETIF_FLAG_IS_PPP                   = 1 << 5,
    ESP_NETIF_FLAG_IS_BRIDGE                = 1 << 6,
    ESP_NETIF_FLAG_MLDV6_REPORT             = 1 << 7,
    ESP_NETIF_FLAG_IPV6_AUTOCONFIG_ENABLED  = 1 << 8
} esp_netif_flags_t;

typedef enum esp_netif_ip_event_type {
    ESP_NETIF_IP_EVENT_GOT_IP  = 1,
    ESP_NETIF_IP_EVENT_LOST_IP = 2
} esp_netif_ip_event_type_t;

typedef enum {
    ESP_NETIF_TX = 0,
    ESP_NETIF_RX = 1
} esp_netif_tx_rx_direction_t;

/* ---- address info ------------------------------------------------------------ */

typedef struct {
    esp_ip4_addr_t ip;          /* @0 */
    esp_ip4_addr_t netmask;     /* @4 */
    esp_ip4_addr_t gw;          /* @8 */
} esp_netif_ip_info_t;          /* 12 bytes */

typedef struct {
    esp_ip6_addr_t ip;
} esp_netif_ip6_info_t;         /* 20 bytes */

typedef struct {
    esp_ip_addr_t ip;
} esp_netif_dns_info_t;         /* 24 bytes */

typedef struct {
    uint8_t        mac[6];      /* @0 */
    esp_ip4_addr_t ip;          /* @8 */
} esp_netif_pair_mac_ip_t;      /* 12 bytes */

/* ---- event payloads ------------------------------------------------------------ */

/*
 * Length of ip_event_assigned_ip_to_client_t.hostname.  IDF ties it to
 * lwIP's DHCP server options; without an lwIP configuration (gonetif's own
 * builds) the Linux default applies: reporting on, 64 bytes.
 */
#if defined(CONFIG_LWIP_ENABLE)
#  if defined(CONFIG_LWIP_DHCPS_REPORT_CLIENT_HOSTNAME) && defined(CONFIG_LWIP_DHCPS_MAX_HOSTNAME_LEN)
#    define ESP_NETIF_HOSTNAME_MAX_LEN CONFIG_LWIP_DHCPS_MAX_HOSTNAME_LEN
#  else
#    define ESP_NETIF_HOSTNAME_MAX_LEN 1
#  endif
#elif defined(CONFIG_LWIP_DHCPS_MAX_HOSTNAME_LEN)
#  define ESP_NETIF_HOSTNAME_MAX_LEN CONFIG_LWIP_DHCPS_MAX_HOSTNAME_LEN
#else
#  define ESP_NETIF_HOSTNAME_MAX_LEN 64
#endif

/* IP_EVENT_STA_GOT_IP, _ETH_GOT_IP, _PPP_GOT_IP, _CUSTOM_GOT_IP and custom
 * get_ip_event ids; lost-IP events fill esp_netif only. */
typedef struct {
    esp_netif_t        *esp_netif;  /* @0 */
    esp_netif_ip_info_t ip_info;    /* @8 */
    bool                ip_changed; /* @20 */
} ip_event_got_ip_t;                /* 24 bytes */

/* IP_EVENT_GOT_IP6 */
typedef struct {
    esp_netif_t         *esp_netif; /* @0 */
    esp_netif_ip6_info_t ip6_info;  /* @8 */
    int                  ip_index;  /* @28 */
} ip_event_got_ip6_t;               /* 32 bytes */

/* Data of esp_netif_action_add_ip6_address(). */
typedef struct {
    esp_ip6_addr_t addr;            /* @0 */
    bool           preferred;       /* @20 */
} ip_event_add_ip6_t;               /* 24 bytes */

/* IP_EVENT_ASSIGNED_IP_TO_CLIENT */
typedef struct {
    esp_netif_t   *esp_netif;                           /* @0 */
    esp_ip4_addr_t ip;                                  /* @8 */
    uint8_t        mac[6];                              /* @12 */
    char           hostname[ESP_NETIF_HOSTNAME_MAX_LEN]; /* @18 */
} ip_event_assigned_ip_to_client_t;                     /* 88 bytes with 64 */

typedef ip_event_assigned_ip_to_client_t ip_event_ap_staipassigned_t
    __attribute__((deprecated("use ip_event_assigned_ip_to_client_t")));

/* IP_EVENT_TX_RX */
typedef struct {
    esp_netif_t                *esp_netif;  /* @0 */
    size_t                      len;        /* @8 */
    esp_netif_tx_rx_direction_t dir;        /* @16 */
} ip_event_tx_rx_t;                         /* 24 bytes */

/* IP_EVENT_NETIF_UP / IP_EVENT_NETIF_DOWN */
typedef struct {
    esp_netif_t *esp_netif;
} ip_event_netif_status_t;                  /* 8 bytes */

/* ---- configuration ------------------------------------------------------------ */

/* Bridge sizing (ESP_NETIF_FLAG_IS_BRIDGE interfaces). */
typedef struct bridgeif_config {
    uint16_t max_fdb_dyn_entries;
    uint16_t max_fdb_sta_entries;
    uint8_t  max_ports;
} bridgeif_config_t;                        /* 6 bytes */

/*
 * Behaviour of the interface itself.  72 bytes; offsets on x86_64 given
 * on the right.
 */
typedef struct esp_netif_inherent_config {
    esp_netif_flags_t          flags;          /* @0  ESP_NETIF_* flags */
    uint8_t                    mac[6];         /* @4  initial MAC (all zero: driver's) */
    const esp_netif_ip_info_t *ip_info;        /* @16 initial IPv4 info, NULL: none */
    uint32_t                   get_ip_event;   /* @24 IP_EVENT id posted on got-IP */
    uint32_t                   lost_ip_event;  /* @28 IP_EVENT id posted on lost-IP */
    const char                *if_key;         /* @32 unique key */
    const char                *if_desc;        /* @40 description */
    int                        route_prio;     /* @48 higher wins the default route */
    bridgeif_config_t         *bridge_info;    /* @56 bridge sizing, or NULL */
    uint16_t                   mtu;            /* @64 0: stack default */
} esp_netif_inherent_config_t;

/* Driver handle (anything whose first member is esp_netif_driver_base_t). */
typedef void *esp_netif_iodriver_handle;

/* First member of every driver object handed to esp_netif_attach(). */
typedef struct esp_netif_driver_base_s {
    esp_err_t (*post_attach)(esp_netif_t *netif, esp_netif_iodriver_handle h); /* @0 */
    esp_netif_t *netif;                                                        /* @8 */
} esp_netif_driver_base_t;                                                     /* 16 bytes */

/* How the stack talks to the driver.  40 bytes. */
typedef struct esp_netif_driver_ifconfig {
    esp_netif_iodriver_handle handle;                                              /* @0 */
    esp_err_t (*transmit)(void *h, void *buffer, size_t len);                      /* @8 */
    esp_err_t (*transmit_wrap)(void *h, void *buffer, size_t len, void *netstack_buffer); /* @16 */
    void (*driver_free_rx_buffer)(void *h, void *buffer);                          /* @24 */
    esp_err_t (*driver_set_mac_filter)(void *h, const uint8_t *mac, size_t mac_len, bool add); /* @32 */
} esp_netif_driver_ifconfig_t;

/* Everything esp_netif_new() needs.  24 bytes. */
typedef struct esp_netif_config {
    const esp_netif_inherent_config_t *base;    /* @0 */
    const esp_netif_driver_ifconfig_t *driver;  /* @8 */
    const esp_netif_netstack_config_t *stack;   /* @16 */
} esp_netif_config_t;

/* Driver -> stack receive function shape. */
typedef esp_err_t (*esp_netif_receive_t)(esp_netif_t *esp_netif, void *buffer, size_t len, void *eb);

/* Predicate of esp_netif_find_if(). */
typedef bool (*esp_netif_find_predicate_t)(esp_netif_t *netif, void *ctx);

/* Function run by esp_netif_tcpip_exec(). */
typedef esp_err_t (*esp_netif_callback_fn)(void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_NETIF_TYPES_H */
