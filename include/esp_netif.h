/*
 * gonetif — esp_netif.h
 *
 * The public esp_netif API of ESP-IDF 6.x, implemented by gonetif on top of
 * a gVisor network stack.  Include chain as in IDF: sdkconfig.h (when
 * present), esp_netif_ip_addr.h, esp_netif_types.h, esp_netif_defaults.h.
 *
 * Every IPv6, bridge and static-neighbour function is declared
 * unconditionally (IDF hides some behind CONFIG_LWIP_* switches that a
 * build without lwIP does not have).
 */
#ifndef GONETIF_ESP_NETIF_H
#define GONETIF_ESP_NETIF_H

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
#include "esp_netif_types.h"
#include "esp_netif_defaults.h"

#ifdef __cplusplus
extern "C" {
#endif

/* =====================================================================
 * Initialization and lifecycle
 * ===================================================================== */

/** Start the network stack; later calls return ESP_OK; ESP_FAIL on failure. */
esp_err_t esp_netif_init(void);

/** Not supported: ESP_ERR_NOT_SUPPORTED (ESP_ERR_INVALID_STATE if never initialized). */
esp_err_t esp_netif_deinit(void);

/**
 * Create an interface from cfg (base, driver, stack).  Strings, MAC and IP
 * info are copied.  NULL on bad configuration (missing base/if_key/stack,
 * duplicate if_key, DHCP client together with DHCP server).  Starts nothing.
 */
esp_netif_t *esp_netif_new(const esp_netif_config_t *cfg);

/** Stop and free an interface; NULL is a no-op. */
void esp_netif_destroy(esp_netif_t *esp_netif);

/** Replace all five driver fields of the interface. */
esp_err_t esp_netif_set_driver_config(esp_netif_t *esp_netif,
                                      const esp_netif_driver_ifconfig_t *driver_config);

/**
 * Attach a driver: driver_handle points to an object whose first member is
 * esp_netif_driver_base_t; its post_attach (if set) is called.
 */
esp_err_t esp_netif_attach(esp_netif_t *esp_netif, esp_netif_iodriver_handle driver_handle);

/* =====================================================================
 * Data path
 * ===================================================================== */

/**
 * Driver -> stack: hand one received frame to the interface.  The caller
 * keeps the buffer (unless eb and driver_free_rx_buffer are used).
 */
esp_err_t esp_netif_receive(esp_netif_t *esp_netif, void *buffer, size_t len, void *eb);

/** Enable / disable IP_EVENT_TX_RX posting for this interface. */
esp_err_t esp_netif_tx_rx_event_enable(esp_netif_t *esp_netif);
esp_err_t esp_netif_tx_rx_event_disable(esp_netif_t *esp_netif);

/* =====================================================================
 * Actions: event-handler shaped entry points (arg = esp_netif_t *)
 * ===================================================================== */

/** Bring the interface into the stack (requires driver and stack config). */
void esp_netif_action_start(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
/** Remove it from the stack. */
void esp_netif_action_stop(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
/** Link up: apply the IP configuration, start the DHCP client if flagged. */
void esp_netif_action_connected(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
/** Link down: stop DHCP, clear addresses. */
void esp_netif_action_disconnected(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
/** Log the address of a got-IP event (data = ip_event_got_ip_t *). */
void esp_netif_action_got_ip(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
/** data = esp_ip6_addr_t * */
void esp_netif_action_join_ip6_multicast_group(void *esp_netif, esp_event_base_t base,
                                               int32_t event_id, void *data);
/** data = esp_ip6_addr_t * */
void esp_netif_action_leave_ip6_multicast_group(void *esp_netif, esp_event_base_t base,
                                                int32_t event_id, void *data);
/** data = ip_event_add_ip6_t * */
void esp_netif_action_add_ip6_address(void *esp_netif, esp_event_base_t base,
                                      int32_t event_id, void *data);
/** data = esp_ip6_addr_t * */
void esp_netif_action_remove_ip6_address(void *esp_netif, esp_event_base_t base,
                                         int32_t event_id, void *data);

/* =====================================================================
 * Default interface and routing
 * ===================================================================== */

/** Force the default interface; NULL returns to route_prio based choice. */
esp_err_t esp_netif_set_default_netif(esp_netif_t *esp_netif);
/** Current default interface. */
esp_netif_t *esp_netif_get_default_netif(void);

/** Set the route priority; returns the new value, -1 on NULL. */
int esp_netif_set_route_prio(esp_netif_t *esp_netif, int route_prio);

/* =====================================================================
 * Bridge (ESP_NETIF_FLAG_IS_BRIDGE interfaces)
 * ===================================================================== */

esp_err_t esp_netif_bridge_add_port(esp_netif_t *esp_netif_br, esp_netif_t *esp_netif_port);
esp_err_t esp_netif_bridge_fdb_add(esp_netif_t *esp_netif_br, uint8_t *addr, uint64_t ports_mask);
esp_err_t esp_netif_bridge_fdb_remove(esp_netif_t *esp_netif_br, uint8_t *addr);

/* =====================================================================
 * Configuration getters / setters
 * ===================================================================== */

esp_err_t esp_netif_set_mac(esp_netif_t *esp_netif, uint8_t mac[]);
esp_err_t esp_netif_get_mac(esp_netif_t *esp_netif, uint8_t mac[]);

/** Takes effect at the next (re)start of the interface. */
esp_err_t esp_netif_set_hostname(esp_netif_t *esp_netif, const char *hostname);
/** *hostname points into the interface (not a copy). */
esp_err_t esp_netif_get_hostname(esp_netif_t *esp_netif, const char **hostname);

/** Administrative state of the interface; false for NULL. */
bool esp_netif_is_netif_up(esp_netif_t *esp_netif);

/** Current IPv4 info (from the stack when up, else the stored copy). */
esp_err_t esp_netif_get_ip_info(esp_netif_t *esp_netif, esp_netif_ip_info_t *ip_info);
/** Previous IPv4 info (used to detect IP changes). */
esp_err_t esp_netif_get_old_ip_info(esp_netif_t *esp_netif, esp_netif_ip_info_t *ip_info);
/** Set static IPv4 info; the DHCP client/server must be stopped. */
esp_err_t esp_netif_set_ip_info(esp_netif_t *esp_netif, const esp_netif_ip_info_t *ip_info);
esp_err_t esp_netif_set_old_ip_info(esp_netif_t *esp_netif, const esp_netif_ip_info_t *ip_info);

/** Stack interface index (for sin6_scope_id, SO_BINDTODEVICE ...); -1 on NULL. */
int esp_netif_get_netif_impl_index(esp_netif_t *esp_netif);
/** Stack interface name into name (at least 6 bytes). */
esp_err_t esp_netif_get_netif_impl_name(esp_netif_t *esp_netif, char *name);

/** Enable NAPT on the interface (IPv4). */
esp_err_t esp_netif_napt_enable(esp_netif_t *esp_netif);
esp_err_t esp_netif_napt_disable(esp_netif_t *esp_netif);

/** MTU; ESP_ERR_ESP_NETIF_INVALID_PARAMS on NULL or mtu < 20. */
esp_err_t esp_netif_set_mtu(esp_netif_t *esp_netif, uint16_t mtu);
esp_err_t esp_netif_get_mtu(esp_netif_t *esp_netif, uint16_t *mtu);

/* =====================================================================
 * DHCP
 * ===================================================================== */

esp_err_t esp_netif_dhcps_option(esp_netif_t *esp_netif, esp_netif_dhcp_option_mode_t opt_op,
                                 esp_netif_dhcp_option_id_t opt_id, void *opt_val,
                                 uint32_t opt_len);
esp_err_t esp_netif_dhcpc_option(esp_netif_t *esp_netif, esp_netif_dhcp_option_mode_t opt_op,
                                 esp_netif_dhcp_option_id_t opt_id, void *opt_val,
                                 uint32_t opt_len);

/** Start the DHCP client (deferred to link-up if the interface is down). */
esp_err_t esp_netif_dhcpc_start(esp_netif_t *esp_netif);
esp_err_t esp_netif_dhcpc_stop(esp_netif_t *esp_netif);
esp_err_t esp_netif_dhcpc_get_status(esp_netif_t *esp_netif, esp_netif_dhcp_status_t *status);

esp_err_t esp_netif_dhcps_get_status(esp_netif_t *esp_netif, esp_netif_dhcp_status_t *status);
esp_err_t esp_netif_dhcps_start(esp_netif_t *esp_netif);
esp_err_t esp_netif_dhcps_stop(esp_netif_t *esp_netif);
/** Fill the IP of each of num MAC/IP pairs from the DHCP server's leases. */
esp_err_t esp_netif_dhcps_get_clients_by_mac(esp_netif_t *esp_netif, int num,
                                             esp_netif_pair_mac_ip_t *mac_ip_pair);
/** Fill the IP of one MAC/IP pair from the ARP table. */
esp_err_t esp_netif_arp_get_client_by_mac(esp_netif_t *esp_netif, esp_netif_pair_mac_ip_t *mac_ip);

/* =====================================================================
 * DNS
 * ===================================================================== */

esp_err_t esp_netif_set_dns_info(esp_netif_t *esp_netif, esp_netif_dns_type_t type,
                                 esp_netif_dns_info_t *dns);
esp_err_t esp_netif_get_dns_info(esp_netif_t *esp_netif, esp_netif_dns_type_t type,
                                 esp_netif_dns_info_t *dns);

/* =====================================================================
 * IPv6
 * ===================================================================== */

/** Create the link-local address (interface must be up); IP_EVENT_GOT_IP6 follows. */
esp_err_t esp_netif_create_ip6_linklocal(esp_netif_t *esp_netif);
/** Preferred link-local / global address; ESP_FAIL if none. */
esp_err_t esp_netif_get_ip6_linklocal(esp_netif_t *esp_netif, esp_ip6_addr_t *if_ip6);
esp_err_t esp_netif_get_ip6_global(esp_netif_t *esp_netif, esp_ip6_addr_t *if_ip6);
/** Copy all (preferred) IPv6 addresses; returns how many were written. */
int esp_netif_get_all_ip6(esp_netif_t *esp_netif, esp_ip6_addr_t if_ip6[]);
int esp_netif_get_all_preferred_ip6(esp_netif_t *esp_netif, esp_ip6_addr_t if_ip6[]);

esp_err_t esp_netif_join_ip6_multicast_group(esp_netif_t *esp_netif, const esp_ip6_addr_t *addr);
esp_err_t esp_netif_leave_ip6_multicast_group(esp_netif_t *esp_netif, const esp_ip6_addr_t *addr);

/** Note: addr is passed BY VALUE. */
esp_err_t esp_netif_add_ip6_address(esp_netif_t *esp_netif, const esp_ip6_addr_t addr, bool preferred);
esp_err_t esp_netif_remove_ip6_address(esp_netif_t *esp_netif, const esp_ip6_addr_t *addr);

esp_err_t esp_netif_add_static_neighbor(esp_netif_t *esp_netif, const esp_ip6_addr_t *addr,
                                        const uint8_t *mac);
esp_err_t esp_netif_remove_static_neighbor(esp_netif_t *esp_netif, const esp_ip6_addr_t *addr);

/** Classify an IPv6 address. */
esp_ip6_addr_type_t esp_netif_ip6_get_addr_type(const esp_ip6_addr_t *ip6_addr);

/* =====================================================================
 * Address helpers
 * ===================================================================== */

/** Store a.b.c.d (network order) into addr. */
void esp_netif_set_ip4_addr(esp_ip4_addr_t *addr, uint8_t a, uint8_t b, uint8_t c, uint8_t d);
/** Dotted text of addr into buf; NULL if buflen is too small. */
char *esp_ip4addr_ntoa(const esp_ip4_addr_t *addr, char *buf, int buflen);
/** Network-order value of dotted text; 0xFFFFFFFF on failure. */
uint32_t esp_ip4addr_aton(const char *addr);
/** Parse IPv4 / IPv6 text; ESP_OK, ESP_FAIL, or ESP_ERR_INVALID_ARG on NULL. */
esp_err_t esp_netif_str_to_ip4(const char *src, esp_ip4_addr_t *dst);
esp_err_t esp_netif_str_to_ip6(const char *src, esp_ip6_addr_t *dst);

/* =====================================================================
 * Object queries
 * ===================================================================== */

esp_netif_iodriver_handle esp_netif_get_io_driver(esp_netif_t *esp_netif);
/** Interface with that if_key, or NULL. */
esp_netif_t *esp_netif_get_handle_from_ifkey(const char *if_key);
esp_netif_flags_t esp_netif_get_flags(esp_netif_t *esp_netif);
const char *esp_netif_get_ifkey(esp_netif_t *esp_netif);
const char *esp_netif_get_desc(esp_netif_t *esp_netif);
/** Route priority; -1 on NULL. */
int esp_netif_get_route_prio(esp_netif_t *esp_netif);
/** IP_EVENT id configured for got/lost IP; -1 for other types. */
int32_t esp_netif_get_event_id(esp_netif_t *esp_netif, esp_netif_ip_event_type_t event_type);
/** Next interface in the list (NULL: the first); not locked. */
esp_netif_t *esp_netif_next_unsafe(esp_netif_t *esp_netif);
/** First interface for which fn(netif, ctx) is true, or NULL. */
esp_netif_t *esp_netif_find_if(esp_netif_find_predicate_t fn, void *ctx);
/** Number of interfaces. */
size_t esp_netif_get_nr_of_ifs(void);

/* =====================================================================
 * Stack buffers and execution context
 * ===================================================================== */

void esp_netif_netstack_buf_ref(void *netstack_buf);
void esp_netif_netstack_buf_free(void *netstack_buf);

/** Run fn(ctx) in the network stack's context and return its result. */
esp_err_t esp_netif_tcpip_exec(esp_netif_callback_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_NETIF_H */
