/*
 * gnt_ipapp: an IDF-style device for the DHCP, DNS, IPv6 and event tests.
 * Interfaces come first, then actions run in order; every IP event is
 * printed by a handler on the default esp_event loop as
 *   EVENT <id hex> <if_key> ip=<a.b.c.d> mask=<..> gw=<..> changed=<0|1> thread=<name>
 *
 *   gnt_ipapp [IFACE]... ACTION...
 *   IFACE:  --dhcp TAP[,prio]               DHCP client (got-IP id 0x1234, lost 0x1235)
 *           --if TAP,IP/PREFIX[,GW[,prio]]  static address
 *           --hostname NAME                 for the next --dhcp
 *   ACTION: wait-ip SECS                    until a got-IP event (all DHCP netifs)
 *           wait-ip6 SECS KIND              KIND = ll | global: until GOT_IP6 of that kind
 *           sleep SECS                      keep running, events keep printing
 *           info                            print addresses, DNS, default netif, DHCP status
 *           ll6                             esp_netif_create_ip6_linklocal + get_ip6_linklocal
 *           add6 ADDR                       esp_netif_add_ip6_address(first netif, preferred)
 *           arp MAC                         esp_netif_arp_get_client_by_mac(first netif)
 *           set-default N                   esp_netif_set_default_netif(Nth netif; -1: NULL)
 *           prio N P                        esp_netif_set_route_prio(Nth netif, P)
 *           dhcp-stop | dhcp-start          on the first DHCP netif (else the first)
 *           connected N                     esp_netif_action_connected(Nth netif)
 *           disconnected N                  esp_netif_action_disconnected(Nth netif)
 *           set-ip IP/PREFIX[,GW]           esp_netif_set_ip_info on the first netif
 *           dns SLOT ADDR                   esp_netif_set_dns_info (SLOT main|backup|fallback)
 *           resolve NAME FAMILY             getaddrinfo (FAMILY 4|6|any), prints RESOLVED/GAI
 *           hostbyname NAME                 gethostbyname
 *           tcp-echo HOST PORT MSG          connect (v4 or v6, HOST%N or HOST% for a scope), send, print REPLY
 *           tcp-echo-dev KEY HOST PORT MSG  the same through SO_BINDTODEVICE(KEY)
 *           ping6-wait SECS                 just sleep: the host pings us
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "lwip/tapif.h"
#include "tapio.h"

#define GOT_IP_ID 0x1234
#define LOST_IP_ID 0x1235
#define MAX_IFS 4

static esp_netif_t *ifs[MAX_IFS];
static int dhcp_if[MAX_IFS];
static int nifs;
static atomic_int got_ip_count, got_ll6, got_global6;

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    char thread[32] = "?";
    pthread_getname_np(pthread_self(), thread, sizeof(thread));
    if (id == IP_EVENT_GOT_IP6) {
        const ip_event_got_ip6_t *ev = data;
        esp_ip6_addr_type_t t = esp_netif_ip6_get_addr_type(&ev->ip6_info.ip);
        printf("EVENT6 %s " IPV6STR " type=%d index=%d thread=%s\n", esp_netif_get_ifkey(ev->esp_netif),
               IPV62STR(ev->ip6_info.ip), (int)t, ev->ip_index, thread);
        if (t == ESP_IP6_ADDR_IS_LINK_LOCAL) {
            atomic_fetch_add(&got_ll6, 1);
        } else {
            atomic_fetch_add(&got_global6, 1);
        }
    } else if (id == IP_EVENT_NETIF_UP || id == IP_EVENT_NETIF_DOWN) {
        const ip_event_netif_status_t *ev = data;
        printf("EVENT %s %s thread=%s\n", id == IP_EVENT_NETIF_UP ? "UP" : "DOWN", esp_netif_get_ifkey(ev->esp_netif),
               thread);
    } else {
        const ip_event_got_ip_t *ev = data;
        printf("EVENT 0x%x %s ip=" IPSTR " mask=" IPSTR " gw=" IPSTR " changed=%d thread=%s\n", (unsigned)id,
               esp_netif_get_ifkey(ev->esp_netif), IP2STR(&ev->ip_info.ip), IP2STR(&ev->ip_info.netmask),
               IP2STR(&ev->ip_info.gw), ev->ip_changed, thread);
        if (id != LOST_IP_ID) {
            atomic_fetch_add(&got_ip_count, 1);
        }
    }
    fflush(stdout);
}

static esp_netif_t *make_if(const char *tap, int dhcp, const char *ip, int prefix, const char *gw, int prio,
                            const char *hostname)
{
    tapio_config_t tcfg = {.tap_name = tap};
    void *drv = tapio_create_with(&tcfg);
    if (!drv) {
        return NULL;
    }
    esp_netif_ip_info_t info = {0};
    if (!dhcp) {
        info.ip.addr = ipaddr_addr(ip);
        info.netmask.addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
        info.gw.addr = gw && *gw ? ipaddr_addr(gw) : 0;
    }
    char *key = malloc(16);
    snprintf(key, 16, "TAP%d", nifs);
    esp_netif_inherent_config_t base = {
        .flags = ESP_NETIF_FLAG_EVENT_IP_MODIFIED | ESP_NETIF_FLAG_AUTOUP | (dhcp ? ESP_NETIF_DHCP_CLIENT : 0),
        .ip_info = &info,
        .get_ip_event = GOT_IP_ID,
        .lost_ip_event = LOST_IP_ID,
        .if_key = key,
        .if_desc = "tap",
        .route_prio = prio,
    };
    esp_netif_driver_ifconfig_t driver = {.handle = drv, .transmit = tapio_output};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    esp_netif_t *n = esp_netif_new(&cfg);
    if (!n) {
        return NULL;
    }
    if (hostname) {
        esp_netif_set_hostname(n, hostname);
    }
    if (esp_netif_attach(n, drv) != ESP_OK) {
        return NULL;
    }
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int wait_count(atomic_int *c, int want, double secs)
{
    double end = now_s() + secs;
    while (atomic_load(c) < want) {
        if (now_s() > end) {
            return -1;
        }
        usleep(20000);
    }
    return 0;
}

static esp_netif_t *first_dhcp(void)
{
    for (int i = 0; i < nifs; i++) {
        if (dhcp_if[i]) {
            return ifs[i];
        }
    }
    return ifs[0];
}

static void print_info(void)
{
    for (int i = 0; i < nifs; i++) {
        esp_netif_ip_info_t ip;
        esp_netif_get_ip_info(ifs[i], &ip);
        esp_netif_dhcp_status_t st = ESP_NETIF_DHCP_STATUS_MAX;
        esp_netif_dhcpc_get_status(ifs[i], &st);
        printf("INFO %s ip=" IPSTR " mask=" IPSTR " gw=" IPSTR " dhcp=%d\n", esp_netif_get_ifkey(ifs[i]),
               IP2STR(&ip.ip), IP2STR(&ip.netmask), IP2STR(&ip.gw), (int)st);
        esp_ip6_addr_t all[8];
        int n = esp_netif_get_all_ip6(ifs[i], all);
        for (int k = 0; k < n; k++) {
            printf("INFO6 %s " IPV6STR "\n", esp_netif_get_ifkey(ifs[i]), IPV62STR(all[k]));
        }
    }
    static const char *names[] = {"main", "backup", "fallback"};
    for (int t = 0; t < ESP_NETIF_DNS_MAX && nifs; t++) {
        esp_netif_dns_info_t d;
        if (esp_netif_get_dns_info(ifs[0], (esp_netif_dns_type_t)t, &d) == ESP_OK) {
            if (d.ip.type == ESP_IPADDR_TYPE_V4) {
                printf("DNS %s " IPSTR "\n", names[t], IP2STR(&d.ip.u_addr.ip4));
            } else {
                printf("DNS %s " IPV6STR "\n", names[t], IPV62STR(d.ip.u_addr.ip6));
            }
        }
    }
    esp_netif_t *def = esp_netif_get_default_netif();
    printf("DEFAULT %s\n", def ? esp_netif_get_ifkey(def) : "none");
    fflush(stdout);
}

static int resolve(const char *name, const char *fam)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_CANONNAME};
    hints.ai_family = !strcmp(fam, "4") ? AF_INET : !strcmp(fam, "6") ? AF_INET6 : AF_UNSPEC;
    struct addrinfo *res = NULL;
    double t0 = now_s();
    int rc = getaddrinfo(name, "80", &hints, &res);
    if (rc != 0) {
        printf("GAI %s %d %s (%.1fs)\n", name, rc, gai_strerror(rc), now_s() - t0);
        fflush(stdout);
        return 0;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char buf[INET6_ADDRSTRLEN];
        const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                 : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        inet_ntop(ai->ai_family, a, buf, sizeof(buf));
        printf("RESOLVED %s %s canon=%s (%.1fs)\n", name, buf, ai->ai_canonname ? ai->ai_canonname : "-",
               now_s() - t0);
    }
    freeaddrinfo(res);
    fflush(stdout);
    return 0;
}

/* HOST may be IPv6 with "%N" (scope id N) or "%" (the first netif's
 * index); dev, if not NULL, is bound with SO_BINDTODEVICE. */
static int tcp_echo(const char *host, int port, const char *msg, const char *dev)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int fam;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    char addr[64];
    snprintf(addr, sizeof(addr), "%s", host);
    char *pct = strchr(addr, '%');
    if (pct) {
        *pct++ = 0;
        s6->sin6_scope_id = *pct ? (uint32_t)atoi(pct) : (uint32_t)esp_netif_get_netif_impl_index(ifs[0]);
    }
    if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        fam = AF_INET6;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        len = sizeof(*s6);
    } else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        fam = AF_INET;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        len = sizeof(*s4);
    } else {
        fprintf(stderr, "bad address %s\n", host);
        return 1;
    }
    int s = socket(fam, SOCK_STREAM, 0);
    if (s >= 0 && dev && setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) != 0) {
        fprintf(stderr, "FAIL SO_BINDTODEVICE %s: %s\n", dev, strerror(errno));
        return 1;
    }
    if (s < 0 || connect(s, (struct sockaddr *)&ss, len) != 0) {
        fprintf(stderr, "FAIL connect %s: %s\n", host, strerror(errno));
        return 1;
    }
    send(s, msg, strlen(msg), 0);
    shutdown(s, SHUT_WR);
    char buf[512];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(buf) - 1 && (r = recv(s, buf + got, sizeof(buf) - 1 - got, 0)) > 0) {
        got += (size_t)r;
    }
    buf[got] = 0;
    printf("REPLY %s\n", buf);
    fflush(stdout);
    close(s);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (esp_netif_init() != ESP_OK || esp_event_loop_create_default() != ESP_OK) {
        fprintf(stderr, "FAIL init\n");
        return 1;
    }
    if (esp_event_handler_register(IP_EVENT, ESP_EVENT_ANY_ID, on_event, NULL) != ESP_OK) {
        fprintf(stderr, "FAIL register\n");
        return 1;
    }
    const char *hostname = NULL;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
        if (i + 1 >= argc || nifs >= MAX_IFS) {
            return 2;
        }
        char spec[128];
        snprintf(spec, sizeof(spec), "%s", argv[i + 1]);
        if (!strcmp(argv[i], "--hostname")) {
            hostname = argv[i + 1];
            continue;
        }
        int dhcp = !strcmp(argv[i], "--dhcp");
        char *tap = strtok(spec, ","), *ip = NULL, *gw = NULL, *prio_s = NULL;
        int prefix = 0;
        if (dhcp) {
            prio_s = strtok(NULL, ",");
        } else {
            ip = strtok(NULL, ",");
            gw = strtok(NULL, ",");
            prio_s = strtok(NULL, ",");
            char *slash = ip ? strchr(ip, '/') : NULL;
            if (!slash) {
                return 2;
            }
            *slash = 0;
            prefix = atoi(slash + 1);
        }
        int prio = prio_s ? atoi(prio_s) : 100 - nifs;
        esp_netif_t *n = make_if(tap, dhcp, ip, prefix, gw, prio, dhcp ? hostname : NULL);
        if (!n) {
            fprintf(stderr, "FAIL interface %s\n", argv[i + 1]);
            return 1;
        }
        dhcp_if[nifs] = dhcp;
        ifs[nifs++] = n;
        if (dhcp) {
            esp_netif_action_connected(n, NULL, 0, NULL);
        }
    }
    printf("READY\n");
    for (; i < argc; i++) {
        const char *a = argv[i], *b = i + 1 < argc ? argv[i + 1] : "", *c = i + 2 < argc ? argv[i + 2] : "";
        if (!strcmp(a, "wait-ip")) {
            int want = 0;
            for (int k = 0; k < nifs; k++) {
                want += dhcp_if[k];
            }
            if (wait_count(&got_ip_count, want ? want : 1, atof(b)) != 0) {
                printf("FAIL no got-ip\n");
                return 1;
            }
            i++;
        } else if (!strcmp(a, "wait-ip6")) {
            if (wait_count(!strcmp(c, "ll") ? &got_ll6 : &got_global6, 1, atof(b)) != 0) {
                printf("FAIL no got-ip6 %s\n", c);
                return 1;
            }
            i += 2;
        } else if (!strcmp(a, "sleep") || !strcmp(a, "ping6-wait")) {
            usleep((useconds_t)(atof(b) * 1e6));
            i++;
        } else if (!strcmp(a, "ll6")) {
            esp_ip6_addr_t ll;
            esp_err_t err = esp_netif_create_ip6_linklocal(ifs[0]);
            if (err == ESP_OK && esp_netif_get_ip6_linklocal(ifs[0], &ll) == ESP_OK) {
                printf("LL6 " IPV6STR " zone=%d\n", IPV62STR(ll), ll.zone);
            } else {
                printf("LL6 fail %d\n", err);
            }
        } else if (!strcmp(a, "connected")) {
            esp_netif_action_connected(ifs[atoi(b)], NULL, 0, NULL);
            i++;
        } else if (!strcmp(a, "disconnected")) {
            esp_netif_action_disconnected(ifs[atoi(b)], NULL, 0, NULL);
            i++;
        } else if (!strcmp(a, "add6")) {
            esp_ip6_addr_t a6 = {0};
            esp_netif_str_to_ip6(b, &a6);
            printf("ADD6 %d\n", esp_netif_add_ip6_address(ifs[0], a6, true));
            i++;
        } else if (!strcmp(a, "arp")) {
            esp_netif_pair_mac_ip_t p = {0};
            unsigned m[6];
            sscanf(b, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
            for (int k = 0; k < 6; k++) {
                p.mac[k] = (uint8_t)m[k];
            }
            esp_err_t err = esp_netif_arp_get_client_by_mac(ifs[0], &p);
            printf("ARP %d " IPSTR "\n", err, IP2STR(&p.ip));
            i++;
        } else if (!strcmp(a, "set-default")) {
            int k = atoi(b);
            printf("SET-DEFAULT %d\n", esp_netif_set_default_netif(k >= 0 && k < nifs ? ifs[k] : NULL));
            i++;
        } else if (!strcmp(a, "prio")) {
            printf("PRIO %d\n", esp_netif_set_route_prio(ifs[atoi(b)], atoi(c)));
            i += 2;
        } else if (!strcmp(a, "info")) {
            print_info();
        } else if (!strcmp(a, "dhcp-stop")) {
            printf("DHCP-STOP %d\n", esp_netif_dhcpc_stop(first_dhcp()));
        } else if (!strcmp(a, "dhcp-start")) {
            printf("DHCP-START %d\n", esp_netif_dhcpc_start(first_dhcp()));
        } else if (!strcmp(a, "set-ip")) {
            char spec[64];
            snprintf(spec, sizeof(spec), "%s", b);
            char *gw = strchr(spec, ',');
            if (gw) {
                *gw++ = 0;
            }
            char *slash = strchr(spec, '/');
            int prefix = slash ? atoi(slash + 1) : 24;
            if (slash) {
                *slash = 0;
            }
            esp_netif_ip_info_t info = {.ip = {.addr = ipaddr_addr(spec)},
                                        .netmask = {.addr = htonl(~0u << (32 - prefix))},
                                        .gw = {.addr = gw ? ipaddr_addr(gw) : 0}};
            printf("SET-IP %d\n", esp_netif_set_ip_info(ifs[0], &info));
            i++;
        } else if (!strcmp(a, "dns")) {
            esp_netif_dns_info_t d = {0};
            if (strchr(c, ':')) {
                d.ip.type = ESP_IPADDR_TYPE_V6;
                esp_netif_str_to_ip6(c, &d.ip.u_addr.ip6);
            } else {
                d.ip.type = ESP_IPADDR_TYPE_V4;
                d.ip.u_addr.ip4.addr = ipaddr_addr(c);
            }
            int slot = !strcmp(b, "main") ? ESP_NETIF_DNS_MAIN : !strcmp(b, "backup") ? ESP_NETIF_DNS_BACKUP
                                                                                   : ESP_NETIF_DNS_FALLBACK;
            printf("SET-DNS %d\n", esp_netif_set_dns_info(ifs[0], (esp_netif_dns_type_t)slot, &d));
            i += 2;
        } else if (!strcmp(a, "resolve")) {
            resolve(b, c);
            i += 2;
        } else if (!strcmp(a, "hostbyname")) {
            struct hostent *h = gethostbyname(b);
            if (!h) {
                printf("HOSTBYNAME %s fail h_errno=%d\n", b, h_errno);
            } else {
                for (char **p = h->h_addr_list; *p; p++) {
                    char buf[INET_ADDRSTRLEN];
                    printf("HOSTBYNAME %s %s\n", h->h_name, inet_ntop(AF_INET, *p, buf, sizeof(buf)));
                }
            }
            i++;
        } else if (!strcmp(a, "tcp-echo")) {
            if (tcp_echo(b, atoi(c), i + 3 < argc ? argv[i + 3] : "hi", NULL)) {
                return 1;
            }
            i += 3;
        } else if (!strcmp(a, "tcp-echo-dev")) {
            if (i + 4 >= argc || tcp_echo(c, atoi(argv[i + 3]), argv[i + 4], b)) {
                return 1;
            }
            i += 4;
        } else {
            fprintf(stderr, "unknown action %s\n", a);
            return 2;
        }
    }
    printf("DONE\n");
    return 0;
}
