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

/* Descriptor numbers of gonetif sockets are below this (the Go side
 * checks at build time that it is socket.MaxDescriptors). */
#define GONETIF_MAX_FDS 65536

/* Per-descriptor wait word, in C memory so C threads can futex-wait on it.
 * Go bumps seq and wakes waiters on every readiness change of the socket,
 * and sets open while the descriptor is a gonetif socket. */
struct gonetif_wait_slot {
    uint32_t seq;
    uint32_t waiters;
    uint32_t open;
};

/* One socket call (gonetif_sock_call). C fills in the op and its
 * arguments and calls; while Go answers GONETIF_CALL_WAIT, C waits on the
 * descriptor's slot until seq differs from `seq` or CLOCK_MONOTONIC passes
 * until_us (0: no limit) and calls again with the same struct. Go keeps
 * the call's progress in the state fields (a deadline is computed once per
 * call). The result is >= 0 or a negated errno; sigpipe asks C to raise
 * SIGPIPE. Arguments by op:
 *   SOCKET      level = domain, flags = type, name = protocol
 *   BIND, CONNECT           addr, addrlen
 *   LISTEN      flags = backlog          SHUTDOWN  flags = how
 *   ACCEPT(4)   addr, lenp; flags = accept4 flags
 *   SEND        buf, len, flags = MSG_*, addr, addrlen (sendto)
 *   RECV, READ  buf, len, flags = MSG_*, addr, lenp (recvfrom)
 *   READV, WRITEV           buf = iovec array, len = (ssize_t)count
 *   SENDMSG, RECVMSG        buf = struct msghdr, flags = MSG_*
 *   SETSOCKOPT  level, name, buf, len    GETSOCKOPT  level, name, buf, lenp
 *   NAME        flags = 1 for the peer, addr, lenp
 *   FCNTL       level = cmd, flags = value
 *   IOCTL       len = request, buf = argument
 *   CLOSE       (lingers as SO_LINGER says) */
enum gonetif_op {
    GONETIF_OP_SOCKET = 1,
    GONETIF_OP_BIND,
    GONETIF_OP_CONNECT,
    GONETIF_OP_LISTEN,
    GONETIF_OP_ACCEPT,
    GONETIF_OP_ACCEPT4,
    GONETIF_OP_SHUTDOWN,
    GONETIF_OP_CLOSE,
    GONETIF_OP_SEND,
    GONETIF_OP_RECV,
    GONETIF_OP_READ,
    GONETIF_OP_READV,
    GONETIF_OP_WRITEV,
    GONETIF_OP_SENDMSG,
    GONETIF_OP_RECVMSG,
    GONETIF_OP_SETSOCKOPT,
    GONETIF_OP_GETSOCKOPT,
    GONETIF_OP_NAME,
    GONETIF_OP_FCNTL,
    GONETIF_OP_IOCTL,
};

/* gonetif_sock_call's "wait, then call again"; below every -errno. */
#define GONETIF_CALL_WAIT (-(1 << 20))

struct gonetif_call {
    /* arguments */
    int32_t op;
    int32_t fd;
    int32_t flags;
    int32_t level;
    int32_t name;
    uint32_t addrlen;
    void *buf;
    size_t len;
    void *addr;
    uint32_t *lenp;
    /* Go's state between attempts; zero before the first */
    int64_t deadline_ns;
    uint64_t done;
    int32_t phase;
    /* Go's answer */
    uint32_t seq;
    int64_t until_us;
    int32_t sigpipe;
    /* With WAIT: > 0 asks C to wait for the readability of descriptor
     * poll_fd - 1 (the interface's TAP) too, and for the socket's own
     * descriptor (Go writes it when a caller waits so); C then calls again
     * with poll_fd unchanged and Go reads the TAP first (GONETIF_TCP_RTC,
     * run-to-completion receive). 0: the plain wait. */
    int32_t poll_fd;
};

/* A waiter of that kind counts this much in its slot's waiters, so Go
 * knows to write the socket's descriptor, not only to wake the futex. */
#define GONETIF_POLL_WAITER (1u << 16)

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
int gonetif_netif_new(void *cookie, char *if_key, char *if_desc, char *name_prefix, uint32_t flags, uint8_t *mac, uint32_t ip,
                      uint32_t mask, uint32_t gw, int route_prio, int mtu, uint32_t got_ip_event,
                      uint32_t lost_ip_event);
void gonetif_netif_destroy(int netif);
/* Interface names (gonetif/netif): the index of a name or if_key (or
 * -errno), the name of an index into buf (0 or -errno), an esp_netif's own
 * name (esp_err_t). */
int gonetif_if_nametoindex(char *name);
int gonetif_if_indextoname(unsigned index, char *buf, int len);
int gonetif_netif_impl_name(int netif, char *buf, int len);
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

/* DHCP client (and the DHCP server calls, which gonetif answers without
 * one) and DNS slots. dhcpc_status and dhcps_status return
 * esp_netif_dhcp_status_t or -err. DNS family is 4, 6 or 0 (empty), addr holds 16 bytes. */
int gonetif_netif_dhcpc_start(int netif);
int gonetif_netif_dhcpc_stop(int netif);
int gonetif_netif_dhcpc_status(int netif);
int gonetif_netif_dhcps_status(int netif);
int gonetif_netif_dhcps_start(int netif);
int gonetif_netif_dhcps_stop(int netif);
int gonetif_netif_dhcps_option(int netif);
int gonetif_netif_dhcpc_option(int netif, int mode, int opt, void *val, uint32_t len);
int gonetif_dns_set(int slot, int family, uint8_t *addr);
int gonetif_dns_get(int slot, uint8_t *addr);

/* esp_ip6_addr_type_t of 16 address bytes (esp_netif.c asserts that
 * these are IDF's values; Go checks them against gonetif/netif's). */
#define GONETIF_IP6_UNKNOWN 0
#define GONETIF_IP6_GLOBAL 1
#define GONETIF_IP6_LINK_LOCAL 2
#define GONETIF_IP6_SITE_LOCAL 3
#define GONETIF_IP6_UNIQUE_LOCAL 4
#define GONETIF_IP6_V4_MAPPED 5
int gonetif_ip6_addr_type(uint8_t *addr);

/* IPv6: up to max addresses of a kind (gonetif/netif's IP6Filter) of 16
 * bytes into addrs and their zones into zones; returns the count. */
#define GONETIF_IP6_FILTER_ALL 0
#define GONETIF_IP6_FILTER_LINK_LOCAL 1
#define GONETIF_IP6_FILTER_GLOBAL 2
int gonetif_netif_create_ip6_linklocal(int netif);
int gonetif_netif_ip6_addrs(int netif, int kind, uint8_t *addrs, int *zones, int max);
int gonetif_netif_ip6_addr(int netif, uint8_t *addr, int add, int preferred);
int gonetif_netif_ip6_mcast(int netif, uint8_t *addr, int join);
/* ARP table: the IPv4 address (network order) of mac; ESP_FAIL if none. */
int gonetif_netif_arp_lookup(int netif, uint8_t *mac, uint32_t *ip);

/* getaddrinfo, answered by gonetif/dns. begin checks the request (hints
 * as ints, has_hints 0 for NULL) and answers what needs no DNS server; it
 * returns a job id (> 0) or an EAI_* code (< 0). When it sets *wait, a
 * lookup is running: wait with gonetif_port_wait until wait->done is not
 * 0. result then ends the job: the number of entries, in a malloc'd array
 * (*entries) with the canonical name (malloc'd *canon, or NULL), both for
 * the caller to free; or an EAI_* code. */
struct gonetif_gai_wait {
    uint32_t done;
    uint32_t waiters;
};
struct gonetif_gai_entry {
    int32_t family, socktype, protocol;
    uint32_t addrlen; /* bytes of addr: a sockaddr_in or sockaddr_in6 */
    uint8_t addr[28]; /* the sockaddr, in the kernel's layout */
};
int gonetif_gai_begin(char *node, char *service, int has_hints, int flags, int family, int socktype, int protocol,
                      struct gonetif_gai_wait **wait);
int gonetif_gai_result(int job, struct gonetif_gai_entry **entries, char **canon);
/* gethostbyname_r of a failed lookup: returns its errno, sets h_errno. */
int gonetif_host_error(int eai, int *herrno);

/* Sockets: every call on a gonetif descriptor (see struct gonetif_call). */
ssize_t gonetif_sock_call(struct gonetif_call *call);
int gonetif_sock_readiness(int fd, int pollmask); /* poll(2) bits ready now, or -errno */
int gonetif_sock_count(void);
int gonetif_sock_domain_ours(int domain); /* 1: the stack's socket domain; else the kernel's */
/* At exit: wait up to the configured linger for closed TCP connections to deliver
 * their data and for frames queued behind a neighbour resolution; returns how
 * many connections and resolutions were left. */
int gonetif_exit_drain(void);
/* poll over a mix: split copies the n entries that are not ours into
 * hostfds (room for n+1) and then efd, returning their count h; arm sets
 * our entries' revents (POLLNVAL for a closed one), first arming eventfd
 * efd on each (written on any readiness change), and returns how many
 * have revents; done disarms and copies the host entries' revents back
 * (all revents 0 when ok is 0). */
int gonetif_poll_split(void *fds, int n, void *hostfds, int efd);
int gonetif_poll_arm(void *fds, int n, void *hostfds, int h, int efd);
void gonetif_poll_done(void *fds, int n, void *hostfds, int h, int efd, int ok);
/* select over poll: the sets' descriptors below nfds as pollfd entries
 * (returns the count), and the results back into the sets with Linux's
 * rules (returns the ready count, or -EBADF). Sets may be NULL. */
int gonetif_select_to_poll(int nfds, void *rd, void *wr, void *ex, void *pollfds);
int gonetif_select_from_poll(void *pollfds, int n, void *rd, void *wr, void *ex);

/* Settings (the GONETIF_* table, read once): a number setting's value, or
 * ESP_ERR_INVALID_ARG (out = default) for a bad one; ESP_ERR_NOT_FOUND for
 * an unknown name. Needs the Go runtime: not for constructors. */
int gonetif_setting_uint(char *name, unsigned long long *out);

/* Makes hook the cgo context function (runtime.SetCgoTraceback): called
 * on the calling thread as each C->Go call starts (context 0) and ends.
 * The FreeRTOS port counts calls in progress with it. Only the first
 * hook is kept. */
void gonetif_port_count_calls(void *hook);

#ifdef __cplusplus
}
#endif
#endif
