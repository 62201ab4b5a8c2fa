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
 *   GONETIF_IN_LOSS    percentage of received frames to drop (default 0)
 *   GONETIF_OUT_LOSS   percentage of sent frames to drop     (default 0)
 *   GONETIF_PCAP       write every frame to this pcap file   (default: none;
 *                      "%d" in the path is the device index)
 *   GONETIF_TUN_DEVICE TUN/TAP clone device             (default /dev/net/tun)
 *   GONETIF_TAP_NETPOLL 0: read the TAP with a poll(2) thread (default: Go's netpoller)
 *   GONETIF_LOG_LEVEL  none|error|warn|info|debug|verbose    (default info)
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
 * Transmit one frame of len bytes on the TAP device of handle h.  ESP_OK
 * also when the frame was dropped on purpose (GONETIF_OUT_LOSS); ESP_FAIL on
 * a short or failed write.  Used as esp_netif_driver_ifconfig_t.transmit.
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
} tapio_config_t;

/** Like tapio_create() with explicit settings; cfg NULL = tapio_create(). */
void *tapio_create_with(const tapio_config_t *cfg);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_TAPIO_H */
