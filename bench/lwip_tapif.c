/*
 * bench/lwip_tapif.c — a TAP network interface for Debian's lwIP 2.1.3
 * (the "unix" port and sys_arch shipped in liblwip), written for the
 * benchmark because the packaged tapif corrupts the heap on frames above
 * ~592 bytes (docs/DESIGN.md D12).
 *
 * Receive: a thread reads each frame straight into a PBUF_RAM pbuf (one
 * contiguous buffer, trimmed to the frame) and hands it to tcpip_input.
 * Transmit: the pbuf chain goes out with one writev. The TAP is opened
 * plain (no vnet header) and its offloads are cleared explicitly, since a
 * persistent TAP keeps the flags of its previous user (docs/DESIGN.md D1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

/* Room for one frame: MTU 1500 + Ethernet header + a VLAN tag, rounded. */
#define FRAME_ROOM 1536
#define MAX_IOV 32

struct tap_dev {
    int fd;
    char name[IFNAMSIZ];
    struct netif nif;
};

static struct tap_dev the_dev = {.fd = -1};

static int tap_open(struct tap_dev *d)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        perror("lwip_tapif: /dev/net/tun");
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", d->name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror("lwip_tapif: TUNSETIFF");
        close(fd);
        return -1;
    }
    if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
        perror("lwip_tapif: TUNSETOFFLOAD");
        close(fd);
        return -1;
    }
    d->fd = fd;
    return 0;
}

static err_t tap_linkoutput(struct netif *nif, struct pbuf *p)
{
    struct tap_dev *d = nif->state;
    struct iovec iov[MAX_IOV];
    int n = 0;
    for (struct pbuf *q = p; q; q = q->next) {
        if (n == MAX_IOV) {
            return ERR_BUF;
        }
        iov[n].iov_base = q->payload;
        iov[n].iov_len = q->len;
        n++;
    }
    for (;;) {
        ssize_t w = writev(d->fd, iov, n);
        if (w == (ssize_t)p->tot_len) {
            return ERR_OK;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        return ERR_IF;
    }
}

static void tap_rx_thread(void *arg)
{
    struct tap_dev *d = arg;
    for (;;) {
        struct pbuf *p = pbuf_alloc(PBUF_RAW, FRAME_ROOM, PBUF_RAM);
        if (!p) {
            sys_msleep(1);
            continue;
        }
        ssize_t n = read(d->fd, p->payload, FRAME_ROOM);
        if (n <= 0) {
            pbuf_free(p);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            perror("lwip_tapif: read");
            return;
        }
        pbuf_realloc(p, (u16_t)n);
        if (d->nif.input(p, &d->nif) != ERR_OK) {
            pbuf_free(p);
        }
    }
}

static err_t tap_netif_init(struct netif *nif)
{
    struct tap_dev *d = nif->state;
    static const u8_t mac[6] = {0x02, 0x1b, 0x00, 0x00, 0x00, 0x02};
    nif->name[0] = 't';
    nif->name[1] = 'p';
    nif->output = etharp_output;
#if LWIP_IPV6
    nif->output_ip6 = ethip6_output;
#endif
    nif->linkoutput = tap_linkoutput;
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    memcpy(nif->hwaddr, mac, 6);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    if (tap_open(d) < 0) {
        return ERR_IF;
    }
    sys_thread_new("tap_rx", tap_rx_thread, d, 0, 0);
    return ERR_OK;
}

static void tcpip_ready(void *arg)
{
    sys_sem_signal((sys_sem_t *)arg);
}

int bench_lwip_up(const char *tap, const char *ip, const char *mask, const char *gw)
{
    sys_sem_t ready;
    if (sys_sem_new(&ready, 0) != ERR_OK) {
        return -1;
    }
    tcpip_init(tcpip_ready, &ready);
    sys_sem_wait(&ready);
    sys_sem_free(&ready);

    ip4_addr_t a, m, g;
    if (!ip4addr_aton(ip, &a) || !ip4addr_aton(mask, &m) || !ip4addr_aton(gw, &g)) {
        return -1;
    }
    struct tap_dev *d = &the_dev;
    snprintf(d->name, sizeof d->name, "%s", tap);
    int rc = 0;
    LOCK_TCPIP_CORE();
    if (!netif_add(&d->nif, &a, &m, &g, d, tap_netif_init, tcpip_input)) {
        rc = -1;
    } else {
        netif_set_default(&d->nif);
        netif_set_up(&d->nif);
        netif_set_link_up(&d->nif);
    }
    UNLOCK_TCPIP_CORE();
    return rc;
}
