/*
 * bench/tapfwd.c — the "kernel over a TAP pair" link: two TAP devices, each
 * the only interface of a kernel stack in its own namespace, joined by this
 * program, which moves whole frames between their descriptors. Both are
 * opened with IFF_VNET_HDR and TSO/checksum offload, and the virtio-net
 * header travels with each frame, so a 64 KiB TSO super-frame from one
 * kernel reaches the other as one GSO packet: the cheapest path a frame
 * can take through a TAP descriptor in user space (what a VM's user-space
 * backend does without vhost-net). One thread per direction, one read and
 * one write per (super-)frame, no processing.
 *
 *   tapfwd TAP_A NETNS_PATH_A TAP_B NETNS_PATH_B [MAX_SECONDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BUF_SIZE (128 * 1024)

static int open_tap_in(const char *name, const char *netns)
{
    int ns = open(netns, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
        perror(netns);
        exit(1);
    }
    close(ns);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        perror("/dev/net/tun");
        exit(1);
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror("TUNSETIFF");
        exit(1);
    }
    unsigned long off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (ioctl(fd, TUNSETOFFLOAD, off) < 0) {
        perror("TUNSETOFFLOAD");
        exit(1);
    }
    return fd;
}

struct dir {
    int from, to;
};

static void *pump(void *arg)
{
    struct dir *d = arg;
    char *buf = malloc(BUF_SIZE);
    if (!buf) {
        return NULL;
    }
    for (;;) {
        ssize_t n = read(d->from, buf, BUF_SIZE);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            perror("tapfwd: read");
            exit(1);
        }
        /* A failed write is a dropped frame, as on a wire. */
        while (write(d->to, buf, (size_t)n) < 0 && errno == EINTR) {
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s TAP_A NETNS_A TAP_B NETNS_B [MAX_SECONDS]\n", argv[0]);
        return 2;
    }
    int a = open_tap_in(argv[1], argv[2]);
    int b = open_tap_in(argv[3], argv[4]);
    int max_s = argc > 5 ? atoi(argv[5]) : 900;
    static struct dir ab, ba;
    ab.from = a, ab.to = b;
    ba.from = b, ba.to = a;
    pthread_t t1, t2;
    if (pthread_create(&t1, NULL, pump, &ab) || pthread_create(&t2, NULL, pump, &ba)) {
        fprintf(stderr, "tapfwd: pthread_create failed\n");
        return 1;
    }
    printf("tapfwd ready\n");
    fflush(stdout);
    sleep((unsigned)max_s);
    return 0;
}
