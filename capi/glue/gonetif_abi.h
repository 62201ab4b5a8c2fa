/*
 * The boundary between the Go archive and the C glue: plain values only,
 * no IDF types, so the glue can be compiled against IDF's own headers in an
 * IDF build while the archive stays the same. Private to gonetif.
 *
 * Conventions: netif and link handles are small positive ints. Functions
 * returning int give an esp_err_t (0 = ESP_OK) unless said otherwise;
 * "id or -err" means a handle on success or the negated esp_err_t. Socket
 * functions return >= 0 on success or a negated Linux errno.
 * IPv4 addresses are uint32_t in network byte order, as in esp_ip4_addr_t.
 */
#ifndef GONETIF_ABI_H
#define GONETIF_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-descriptor wait word, in C memory so C threads can futex-wait on it.
 * Go bumps seq and wakes waiters on every readiness change of the socket. */
struct gonetif_wait_slot {
    uint32_t seq;
    uint32_t waiters;
    /* Fields below belong to the C side only. */
    uint32_t open;
    uint32_t nonblock;
    uint32_t stream;
    uint32_t linger_s; /* SO_LINGER seconds when on and > 0: close waits */
    int64_t rcvtimeo_us; /* 0 = wait forever */
    int64_t sndtimeo_us;
};

/* Calls from Go into C, registered once by gonetif_abi_init. */
struct gonetif_abi_callbacks {
    void (*log_line)(int level, const char *tag, const char *msg);
    /* Hand one frame to a C driver (esp_netif_transmit on cookie). */
    int (*driver_transmit)(void *cookie, const void *frame, size_t len);
    /* An IP event for netif cookie: kind (IDF ip_event_t id or custom id),
     * ip/mask/gw, changed flag. May be NULL. */
    void (*ip_event)(void *cookie, int32_t event_id, uint32_t ip, uint32_t mask, uint32_t gw, int changed);
    /* IP_EVENT_GOT_IP6 for netif cookie: 16 address bytes, its zone (NIC
     * index for link-local, else 0) and its slot. May be NULL. */
    void (*ip6_event)(void *cookie, int32_t event_id, const uint8_t *addr, int zone, int ip_index);
};

/* Lifecycle. */
int gonetif_abi_init(struct gonetif_abi_callbacks *cb, struct gonetif_wait_slot *slots, int nslots);

/* TAP links. Returns link id or -err. mac may be NULL; strings may be NULL;
 * zero/NULL fields are taken from the GONETIF_* environment, then
 * app_in_loss/app_out_loss (the app's compile-time CONFIG_*_LOSS). */
int gonetif_tap_open(char *name, uint8_t *mac, int mtu, int plain, char *netns, int in_loss, int out_loss,
                     char *pcap_path, int app_in_loss, int app_out_loss, char *link, char *hostfwd);
int gonetif_tap_write(int link, void *frame, size_t len);
void gonetif_link_close(int link);
/* Writes out the buffered frames of every pcap capture (at exit). */
void gonetif_capture_flush(void);

/* Interfaces. gonetif_netif_new returns a netif id or -err. */
int gonetif_netif_new(void *cookie, char *if_key, char *if_desc, uint32_t flags, uint8_t *mac, uint32_t ip,
                      uint32_t mask, uint32_t gw, int route_prio, int mtu, uint32_t got_ip_event,
                      uint32_t lost_ip_event);
void gonetif_netif_destroy(int netif);
int gonetif_netif_attach_link(int netif, int link);
int gonetif_netif_attach_driver(int netif);
int gonetif_netif_has_link(int netif);
int gonetif_netif_start(int netif);
int gonetif_netif_stop(int netif);
int gonetif_netif_up(int netif);
int gonetif_netif_down(int netif);
int gonetif_netif_connected(int netif);
int gonetif_netif_disconnected(int netif);
int gonetif_netif_receive(int netif, void *frame, size_t len);
int gonetif_netif_transmit_link(int netif, void *frame, size_t len);
int gonetif_netif_is_up(int netif);
int gonetif_netif_get_ip_info(int netif, uint32_t *ip, uint32_t *mask, uint32_t *gw);
int gonetif_netif_set_ip_info(int netif, uint32_t ip, uint32_t mask, uint32_t gw);
int gonetif_netif_get_mac(int netif, uint8_t *mac);
int gonetif_netif_set_mac(int netif, uint8_t *mac);
int gonetif_netif_set_hostname(int netif, char *hostname);
int gonetif_netif_impl_index(int netif);
int gonetif_netif_get_route_prio(int netif);
int gonetif_netif_set_route_prio(int netif, int prio);
int gonetif_netif_set_default(int netif); /* 0: back to route priority */
int gonetif_netif_get_default(void);      /* netif id or 0 */
int gonetif_netif_get_mtu(int netif);
int gonetif_netif_set_mtu(int netif, int mtu);

/* DHCP client and DNS slots. dhcpc_status returns esp_netif_dhcp_status_t
 * or -err. DNS family is 4, 6 or 0 (empty), addr holds 16 bytes. */
int gonetif_netif_dhcpc_start(int netif);
int gonetif_netif_dhcpc_stop(int netif);
int gonetif_netif_dhcpc_status(int netif);
int gonetif_netif_dhcpc_option(int netif, int mode, int opt, void *val, uint32_t len);
int gonetif_dns_set(int slot, int family, uint8_t *addr);
int gonetif_dns_get(int slot, uint8_t *addr);

/* IPv6: kind 0 all, 1 link-local, 2 global; up to max addresses of 16
 * bytes into addrs and their zones into zones; returns the count. */
int gonetif_netif_create_ip6_linklocal(int netif);
int gonetif_netif_ip6_addrs(int netif, int kind, uint8_t *addrs, int *zones, int max);
int gonetif_netif_ip6_addr(int netif, uint8_t *addr, int add, int preferred);
int gonetif_netif_ip6_mcast(int netif, uint8_t *addr, int join);
/* ARP table: the IPv4 address (network order) of mac; ESP_FAIL if none. */
int gonetif_netif_arp_lookup(int netif, uint8_t *mac, uint32_t *ip);

/* DNS lookups (family 0, 4 or 6). start returns a job id or an EAI_* code
 * (< 0) and writes to eventfd efd when the job is done; result returns the
 * number of addresses (16 bytes each, family 4/6 in fams) or an EAI_* code. */
int gonetif_dns_lookup_start(char *name, int family, int efd);
/* The caller stopped waiting: the job's eventfd must not be written. */
void gonetif_dns_lookup_abandon(int job);
int gonetif_dns_lookup_result(int job, uint8_t *addrs, int *fams, int max, char *canon, int canon_len);

/* Sockets: descriptor or -errno. Addresses are Linux struct sockaddr. */
int gonetif_sock_socket(int domain, int type, int protocol);
int gonetif_sock_bind(int fd, void *addr, uint32_t addrlen);
int gonetif_sock_connect(int fd, void *addr, uint32_t addrlen);
int gonetif_sock_connect_result(int fd);
int gonetif_sock_listen(int fd, int backlog);
int gonetif_sock_accept(int fd, void *addr, uint32_t *addrlen);
ssize_t gonetif_sock_send(int fd, void *buf, size_t len, int flags, void *addr, uint32_t addrlen);
ssize_t gonetif_sock_recv(int fd, void *buf, size_t len, int flags, void *addr, uint32_t *addrlen);
int gonetif_sock_shutdown(int fd, int how);
int gonetif_sock_close(int fd);
int gonetif_sock_setsockopt(int fd, int level, int name, void *val, uint32_t len);
int gonetif_sock_getsockopt(int fd, int level, int name, void *val, uint32_t *len);
int gonetif_sock_name(int fd, int peer, void *addr, uint32_t *addrlen);
int gonetif_sock_readiness(int fd, int pollmask); /* poll(2) bits ready now, or -errno */
int gonetif_sock_count(void);
/* At exit: wait up to the configured linger for closed TCP connections to deliver
 * their data and for frames queued behind a neighbour resolution; returns how
 * many connections and resolutions were left. */
int gonetif_exit_drain(void);
/* select/poll: poll(2) revents of n of our descriptors; with efd >= 0 the
 * eventfd efd is first armed on each (written on any readiness change)
 * until gonetif_poll_disarm. Returns how many have revents. */
int gonetif_poll_arm(int *fds, short *events, short *revents, int n, int efd);
void gonetif_poll_disarm(int *fds, int n, int efd);
int gonetif_sock_fionread(int fd); /* FIONREAD value or -errno */
int gonetif_sock_fin_pending(int fd); /* 1 while a stream's FIN is unsent or unacked */

/* Settings (the GONETIF_* table, read once): a number setting's value, or
 * ESP_ERR_INVALID_ARG (out = default) for a bad one; ESP_ERR_NOT_FOUND for
 * an unknown name. Needs the Go runtime: not for constructors. */
int gonetif_setting_uint(char *name, unsigned long long *out);

#ifdef __cplusplus
}
#endif
#endif
