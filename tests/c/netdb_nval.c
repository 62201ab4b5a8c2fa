/*
 * getaddrinfo waits for a lookup on a wait word of its own (the port's
 * futex wait), not on a descriptor: an earlier eventfd could be closed by
 * another thread behind its back (issue 10 defect 7). So: while a lookup
 * is in flight no new blocking eventfd exists to be closed, signals that
 * interrupt the wait do not end it early, and it ends by itself with
 * EAI_AGAIN once the resolver's tries are used up.
 * No privileges: the interface's C driver drops every frame, so the DNS
 * server never answers and the lookup stays in flight.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "drop_netif.h"
#include "esp_netif.h"

/* Whether fd was opened without O_NONBLOCK: getaddrinfo's own eventfd is
 * blocking, the Go runtime's and the socket placeholders are not. */
static int blocking(int fd)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    unsigned flags = 0;
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "flags: %o", &flags);
    }
    if (f) {
        fclose(f);
    }
    return !(flags & O_NONBLOCK);
}

/* Bitmap of the blocking eventfds open now. */
static void eventfds(unsigned char *set, int max)
{
    memset(set, 0, (size_t)max);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int fd = atoi(e->d_name);
        char path[64], link[64] = "";
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n > 0 && fd < max && strstr(link, "eventfd") && blocking(fd)) {
            set[fd] = 1;
        }
    }
    if (d) {
        closedir(d);
    }
}

static atomic_int finished, rc;

static void on_usr2(int sig)
{
    (void)sig;
}

static void *lookup(void *arg)
{
    (void)arg;
    struct addrinfo *res = NULL;
    atomic_store(&rc, getaddrinfo("never-answered.example", "80", NULL, &res));
    atomic_store(&finished, 1);
    return NULL;
}

int main(void)
{
    static struct drop_driver drv;
    CHECK(esp_netif_init() == ESP_OK);
    esp_netif_ip_info_t ip = {.ip = {.addr = inet_addr("10.79.0.2")}, .netmask = {.addr = inet_addr("255.255.255.0")},
                              .gw = {.addr = inet_addr("10.79.0.1")}};
    esp_netif_inherent_config_t base = {.flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &ip, .if_key = "DROP", .route_prio = 1};
    esp_netif_t *n = drop_netif_new(&drv, &base);
    CHECK(n != NULL);
    esp_netif_dns_info_t dns = {.ip = {.type = ESP_IPADDR_TYPE_V4}};
    dns.ip.u_addr.ip4.addr = inet_addr("10.79.0.1");
    CHECK(esp_netif_set_dns_info(n, ESP_NETIF_DNS_MAIN, &dns) == ESP_OK);

    enum { MAXFD = 4096 };
    static unsigned char before[MAXFD], after[MAXFD];
    eventfds(before, MAXFD);
    struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = SA_ONSTACK}; /* no SA_RESTART */
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t t;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&t, NULL, lookup, NULL);
    struct timespec step = {0, 10 * 1000 * 1000};
    int signals = 0, new_fd = -1;
    for (int i = 0; i < 1500 && !atomic_load(&finished); i++) {
        nanosleep(&step, NULL);
        if (i % 10 == 0 && i < 200) {
            eventfds(after, MAXFD);
            for (int fd = 0; fd < MAXFD; fd++) {
                if (after[fd] && !before[fd]) {
                    new_fd = fd;
                }
            }
            pthread_kill(t, SIGUSR2); /* interrupts the wait, which goes on */
            signals++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!atomic_load(&finished)) {
        printf("netdb_nval: getaddrinfo still waiting after %.1f s\n", s);
        fflush(stdout);
        _exit(1); /* the thread is stuck: do not join it */
    }
    pthread_join(t, NULL);
    printf("netdb_nval: EAI %d after %.2f s and %d signals\n", atomic_load(&rc), s, signals);
    CHECK(new_fd < 0);                     /* no descriptor of its own to lose */
    CHECK(signals >= 5);                   /* the signals met the wait */
    CHECK(atomic_load(&rc) == EAI_AGAIN);  /* ended by the resolver's bound, not a signal */
    /* The stack still resolves numeric names afterwards, and Go wrote to
     * no descriptor it no longer owned. */
    struct addrinfo *res = NULL;
    CHECK(getaddrinfo("10.1.2.3", NULL, NULL, &res) == 0);
    freeaddrinfo(res);
    return check_summary("netdb_nval");
}
