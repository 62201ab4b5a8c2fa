/*
 * gonetif — lwip/esp_netif_net_stack.h
 *
 * The lwIP flavour of esp_netif's network stack configuration: the init and
 * input functions a netif is built from.  gonetif has no lwIP; it
 * recognises the functions it provides (lwip_tapif_init / lwip_tapif_input,
 * see lwip/tapif.h) and builds a gVisor interface instead.
 *
 * Includes esp_netif.h, lwip/netif.h, lwip/err.h and lwip/ip4_addr.h, so
 * struct netif, err_t and ipaddr_addr() are visible to its users.
 *
 * ---- return type of input functions ---------------------------------------
 * IDF 6.x input functions return esp_err_t.  IDF 5.x ones return void unless
 * CONFIG_ESP_NETIF_RECEIVE_REPORT_ERRORS is set.  esp_netif_recv_ret_t is
 * the type in force, and lwip_tapif_input() is declared with it, so that
 *     .lwip = { .init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input }
 * always compiles.  It is void when
 *   - GONETIF_IDF_V5_INPUT_FN is defined (choose the IDF 5.x shape by hand;
 *     e.g. for an IDF 5.x copy of tapif.c), or
 *   - ESP_IDF_VERSION_MAJOR is defined and < 6 and
 *     CONFIG_ESP_NETIF_RECEIVE_REPORT_ERRORS is not defined;
 * esp_err_t otherwise.  ESP_NETIF_RECV_RET_T_IS_VOID is 1 or 0 accordingly.
 */
#ifndef GONETIF_LWIP_ESP_NETIF_NET_STACK_H
#define GONETIF_LWIP_ESP_NETIF_NET_STACK_H

#include <stdbool.h>
#include <stddef.h>

#include "esp_netif.h"
#include "lwip/err.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

/* Learn the IDF version when building inside IDF (no such header standalone). */
#if !defined(ESP_IDF_VERSION_MAJOR) && defined(__has_include)
#  if __has_include("esp_idf_version.h")
#    include "esp_idf_version.h"
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GONETIF_IDF_V5_INPUT_FN) ||                                       \
    (defined(ESP_IDF_VERSION_MAJOR) && (ESP_IDF_VERSION_MAJOR < 6) &&         \
     !defined(CONFIG_ESP_NETIF_RECEIVE_REPORT_ERRORS))
#define ESP_NETIF_RECV_RET_T_IS_VOID 1
typedef void esp_netif_recv_ret_t;
#else
#define ESP_NETIF_RECV_RET_T_IS_VOID 0
typedef esp_err_t esp_netif_recv_ret_t;
#endif

/* Creates the stack's interface (called when the esp_netif starts). */
typedef err_t (*init_fn_t)(struct netif *netif);

/* Feeds one received frame to the stack (called by esp_netif_receive()). */
typedef esp_netif_recv_ret_t (*input_fn_t)(void *netif, void *buffer, size_t len, void *eb);

/* PPP event switches (esp_netif_ppp.h in IDF). */
#ifndef GONETIF_HAVE_ESP_NETIF_PPP_CONFIG_T
#define GONETIF_HAVE_ESP_NETIF_PPP_CONFIG_T 1
typedef struct esp_netif_ppp_config {
    bool ppp_phase_event_enabled;   /* post NETIF_PPP_STATUS phase events */
    bool ppp_error_event_enabled;   /* post NETIF_PPP_STATUS error events */
#ifdef CONFIG_LWIP_ENABLE_LCP_ECHO
    bool ppp_lcp_echo_disabled;     /* turn LCP echo off */
#endif
#ifdef CONFIG_LWIP_PPP_SERVER_SUPPORT
    esp_ip4_addr_t ppp_our_ip4_addr;    /* server side: local address */
    esp_ip4_addr_t ppp_their_ip4_addr;  /* server side: peer address */
#endif
} esp_netif_ppp_config_t;
#endif

/* Plain (Ethernet-like) interface: init + input. */
struct esp_netif_netstack_lwip_vanilla_config {
    init_fn_t  init_fn;     /* @0 */
    input_fn_t input_fn;    /* @8 */
};

/* PPP interface. */
struct esp_netif_netstack_lwip_ppp_config {
    input_fn_t             input_fn;    /* @0 */
    esp_netif_ppp_config_t ppp_events;  /* @8 */
};

/*
 * The stack configuration referred to by esp_netif_config_t.stack.  The
 * union is anonymous: initialize with .lwip = { ... } or .lwip_ppp = { ... }.
 * 16 bytes on x86_64 (the .lwip offsets never change).
 */
struct esp_netif_netstack_config {
    union {
        struct esp_netif_netstack_lwip_vanilla_config lwip;
        struct esp_netif_netstack_lwip_ppp_config     lwip_ppp;
    };
};

/*
 * IDF's stock Ethernet / Wi-Fi netif functions.  gonetif does not provide
 * them (only lwip_tapif_init / lwip_tapif_input are recognised); they are
 * declared so that code naming them compiles.
 */
err_t ethernetif_init(struct netif *netif);
err_t wlanif_init_ap(struct netif *netif);
err_t wlanif_init_sta(struct netif *netif);
err_t wlanif_init_nan(struct netif *netif);
esp_netif_recv_ret_t ethernetif_input(void *h, void *buffer, size_t len, void *l2_buff);
esp_netif_recv_ret_t wlanif_input(void *h, void *buffer, size_t len, void *l2_buff);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_LWIP_ESP_NETIF_NET_STACK_H */
