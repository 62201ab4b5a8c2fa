/*
 * gonetif — tapio.h
 *
 * The driver side of IDF's protocol_examples_tapif_io component: a TAP
 * device as an esp_netif driver.  gonetif's handle is its own object (its
 * first member is an esp_netif_driver_base_t, so esp_netif_attach() works
 * as in IDF); frames are read from and written to the TAP device inside
 * gonetif, never through C.
 *
 * Usage, as in IDF's linux_connect.c:
 *     esp_netif_driver_ifconfig_t drv = {
 *         .handle = tapio_create(), .transmit = tapio_output };
 *
 * ---- run-time environment ---------------------------------------------
 * tapio_create() (and every field left NULL/0 in tapio_create_with()) reads:
 *   GONETIF_TAP        TAP device name; a comma list gives the n-th device of
 *                      the process the n-th name       (default tap0, then tap1...)
 *   GONETIF_MAC        MAC as aa:bb:cc:dd:ee:ff, or a comma list
 *                                                      (default 02:12:34:56:78:ab, +n for the n-th)
 *   GONETIF_MTU        link MTU                         (default 1500)
 *   GONETIF_TAP_PLAIN  1: no IFF_VNET_HDR / offloads    (default: offloads on)
 *   GONETIF_TAP_NETNS  path of a network namespace to open the TAP in
 *                      (e.g. /var/run/netns/dut)        (default: current)
 *   GONETIF_IN_LOSS    percentage of received frames to drop (default: the
 *                      app's CONFIG_EXAMPLE_CONNECT_TAPIF_IN_LOSS, else 0)
 *   GONETIF_OUT_LOSS   percentage of sent frames to drop     (default: the
 *                      app's CONFIG_EXAMPLE_CONNECT_TAPIF_OUT_LOSS, else 0)
 *   GONETIF_PCAP       write every frame to this pcap file   (default: none;
 *                      "%d" in the path is the device index)
 *   GONETIF_TUN_DEVICE TUN/TAP clone device             (default /dev/net/tun)
 *   GONETIF_TAP_NETPOLL 0: read the TAP with a poll(2) thread (default: Go's netpoller)
 *   GONETIF_LOG_LEVEL  none|error|warn|info|debug|verbose    (default info)
 *   GONETIF_LINK       tap; user: a user-mode network in the process, no
 *                      TAP and no privileges (gateway = host loopback, DHCP,
 *                      DNS, outbound TCP/UDP as host sockets), one network
 *                      per device; vlan:PATH: join the gonetif-switch at
 *                      PATH (with -gateway: DHCP, DNS, host loopback there
 *                      too); vlan:NAME: a LAN inside the process;
 *                      user:NAME: that LAN with one user-mode gateway
 *                      shared by its devices (DHCP .15, .16, ...); a comma
 *                      list gives the n-th device the n-th kind, later
 *                      devices the last                     (default tap)
 *   GONETIF_USER_NET   user, user:NAME links: network; gateway .2, DNS .3,
 *                      DHCP from .15; a host address (192.168.5.1/24) is
 *                      the gateway
 *                                                       (default 10.0.2.0/24)
 *   GONETIF_HOSTFWD    user, user:NAME links: host ports into the first
 *                      device (user:NAME: the address given, else .15),
 *                      QEMU's hostfwd syntax, e.g.
 *                      tcp:127.0.0.1:8080-:80,udp::5353-:5353
 *   GONETIF_IN_DELAY   delay of received frames, "20ms" or "20ms/5ms" (with
 *   GONETIF_OUT_DELAY  jitter); delay of sent frames        (default: none)
 * (the full table with types and ranges: README, "Run-time configuration").
 * A bad value fails esp_netif_init()/tapio_create() with an E line.
 *
 * ---- compile-time configuration -------------------------------------------
 * The library is compiled once, without the app's sdkconfig.h; the
 * tapio_create()/tapio_create_with() macros below pass the app's
 * CONFIG_EXAMPLE_CONNECT_TAPIF_IN_LOSS/OUT_LOSS from the calling
 * compilation unit.  Order: a tapio_config_t field, then GONETIF_*, then
 * the app's CONFIG_*, then the default.
 */
#ifndef GONETIF_TAPIO_H
#define GONETIF_TAPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <esp_err.h> /* <>: IDF builds find IDF's, not the copy beside this file */
#include <esp_netif.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Open the TAP device configured by the environment (see above) and return
 * the driver handle for esp_netif_attach(); NULL on failure (logged).
 * Unlike IDF's singleton, every call creates a new, independent device.
 */
void *tapio_create(void);

/**
 * Write one complete Ethernet frame of len bytes (14..65549) to the TAP
 * device of handle h, as it is: it bypasses the stack and its loss and
 * capture layers, as tapif_io's driver writes to its TAP.  Works before and
 * after esp_netif_attach().  ESP_ERR_INVALID_ARG for a NULL or foreign
 * handle, a NULL buffer or a size out of range; ESP_FAIL when the TAP
 * refused the write (logged).  Used as esp_netif_driver_ifconfig_t.transmit.
 */
esp_err_t tapio_output(void *h, void *buffer, size_t len);

/*
 * gonetif extension: per-device settings, for several simulated devices in
 * one process.  A NULL pointer or 0 takes the environment variable, then
 * the default.
 */
typedef struct {
    const char    *tap_name;    /* GONETIF_TAP */
    const uint8_t *mac;         /* 6 bytes, or NULL: GONETIF_MAC */
    uint16_t       mtu;         /* GONETIF_MTU */
    bool           plain;       /* true: no offloads; false: GONETIF_TAP_PLAIN */
    const char    *netns;       /* GONETIF_TAP_NETNS */
    int            in_loss;     /* percent; GONETIF_IN_LOSS */
    int            out_loss;    /* percent; GONETIF_OUT_LOSS */
    const char    *pcap_path;   /* GONETIF_PCAP */
    const char    *link;        /* "tap", "user", "user:NAME", "vlan:PATH", "vlan:NAME"; GONETIF_LINK */
    const char    *hostfwd;     /* user link: port forwards; GONETIF_HOSTFWD */
} tapio_config_t;

/** Like tapio_create() with explicit settings; cfg NULL = tapio_create(). */
void *tapio_create_with(const tapio_config_t *cfg);

/* The app's compile-time settings, handed over at run time. */
typedef struct {
    int in_loss;  /* CONFIG_EXAMPLE_CONNECT_TAPIF_IN_LOSS, 0 when undefined */
    int out_loss; /* CONFIG_EXAMPLE_CONNECT_TAPIF_OUT_LOSS, 0 when undefined */
} gonetif_tapio_app_config_t;

/** tapio_create_with() with the app's compile-time settings. */
void *gonetif_tapio_create_app(const tapio_config_t *cfg, const gonetif_tapio_app_config_t *app);

#ifdef CONFIG_EXAMPLE_CONNECT_TAPIF_IN_LOSS
#define GONETIF_APP_IN_LOSS (CONFIG_EXAMPLE_CONNECT_TAPIF_IN_LOSS)
#else
#define GONETIF_APP_IN_LOSS 0
#endif
#ifdef CONFIG_EXAMPLE_CONNECT_TAPIF_OUT_LOSS
#define GONETIF_APP_OUT_LOSS (CONFIG_EXAMPLE_CONNECT_TAPIF_OUT_LOSS)
#else
#define GONETIF_APP_OUT_LOSS 0
#endif

/* Built in the app's compilation unit, so its sdkconfig.h counts. */
static inline void *gonetif_tapio_create_here(const tapio_config_t *cfg)
{
    gonetif_tapio_app_config_t app = {GONETIF_APP_IN_LOSS, GONETIF_APP_OUT_LOSS};
    return gonetif_tapio_create_app(cfg, &app);
}

/* Calls go through the app's settings; &tapio_create and (tapio_create)()
 * still name the plain functions, which know no sdkconfig. */
#define tapio_create() gonetif_tapio_create_here(NULL)
#define tapio_create_with(cfg) gonetif_tapio_create_here(cfg)

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_TAPIO_H */
