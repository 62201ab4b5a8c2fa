/*
 * The esp_netif object API end to end, with no TAP and no privileges: the
 * interfaces run on a driver written here whose transmit captures frames.
 * An ARP request fed through esp_netif_receive must come back as an ARP
 * reply through transmit, which proves the whole receive/transmit path.
 */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "lwip/tapif.h"



struct capture_driver {
    esp_netif_driver_base_t base;
    atomic_int frames;
    uint8_t last[1514];
    size_t last_len;
};

static esp_err_t capture_transmit(void *h, void *buffer, size_t len)
{
    struct capture_driver *d = h;
    if (len <= sizeof(d->last)) {
        memcpy(d->last, buffer, len);
        d->last_len = len;
    }
    atomic_fetch_add(&d->frames, 1);
    return ESP_OK;
}

static esp_err_t capture_post_attach(esp_netif_t *netif, esp_netif_iodriver_handle h)
{
    struct capture_driver *d = h;
    d->base.netif = netif;
    esp_netif_driver_ifconfig_t cfg = {.handle = d, .transmit = capture_transmit};
    esp_netif_set_driver_config(netif, &cfg);
    esp_netif_action_start(netif, NULL, 0, NULL);
    return ESP_OK;
}

static esp_netif_t *make_netif(struct capture_driver *d, const char *key, const char *ip, int prio)
{
    esp_netif_ip_info_t info = {.ip = {.addr = ipaddr_addr(ip)},
                                .netmask = {.addr = ipaddr_addr("255.255.255.0")},
                                .gw = {.addr = ipaddr_addr("192.168.7.1")}};
    esp_netif_inherent_config_t base = {.flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &info, .if_key = key,
                                        .if_desc = "cap", .route_prio = prio};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .stack = &stack};
    d->base.post_attach = capture_post_attach;
    esp_netif_t *n = esp_netif_new(&cfg);
    if (n && esp_netif_attach(n, d) != ESP_OK) {
        return NULL;
    }
    return n;
}

static bool key_is_b(esp_netif_t *n, void *ctx)
{
    return strcmp(esp_netif_get_ifkey(n), (const char *)ctx) == 0;
}

static void arp_round_trip(esp_netif_t *n, struct capture_driver *d)
{
    uint8_t mac[6];
    CHECK(esp_netif_get_mac(n, mac) == ESP_OK);
    static const uint8_t peer[6] = {0x02, 0, 0, 0, 0, 0x99};
    uint8_t f[60] = {0};
    memset(f, 0xff, 6);
    memcpy(f + 6, peer, 6);
    f[12] = 0x08, f[13] = 0x06;           /* ARP */
    f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0; /* Ethernet, IPv4 */
    f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1; /* request */
    memcpy(f + 22, peer, 6);
    uint32_t spa = ipaddr_addr("192.168.7.1"), tpa = ipaddr_addr("192.168.7.100");
    memcpy(f + 28, &spa, 4);
    memcpy(f + 38, &tpa, 4);
    int before = atomic_load(&d->frames);
    CHECK(esp_netif_receive(n, f, sizeof(f), NULL) == ESP_OK);
    for (int i = 0; i < 100 && atomic_load(&d->frames) == before; i++) {
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    CHECK(atomic_load(&d->frames) > before);
    const uint8_t *r = d->last;
    CHECK(d->last_len >= 42);
    CHECK(memcmp(r, peer, 6) == 0 && memcmp(r + 6, mac, 6) == 0);
    CHECK(r[12] == 0x08 && r[13] == 0x06 && r[21] == 2); /* ARP reply */
    CHECK(memcmp(r + 22, mac, 6) == 0 && memcmp(r + 28, &tpa, 4) == 0 && memcmp(r + 38, &spa, 4) == 0);
}

int main(void)
{
    static struct capture_driver da, db;
    CHECK(esp_netif_init() == ESP_OK);
    esp_netif_t *a = make_netif(&da, "A", "192.168.7.100", 10);
    esp_netif_t *b = make_netif(&db, "B", "192.168.8.100", 20);
    CHECK(a && b);
    if (!a || !b) {
        return 1;
    }

    CHECK(esp_netif_is_netif_up(a) && esp_netif_is_netif_up(b));
    CHECK(esp_netif_get_io_driver(a) == &da);
    CHECK(strcmp(esp_netif_get_ifkey(a), "A") == 0 && strcmp(esp_netif_get_desc(a), "cap") == 0);
    CHECK(esp_netif_get_flags(a) == ESP_NETIF_FLAG_AUTOUP);
    CHECK(esp_netif_get_handle_from_ifkey("B") == b);
    CHECK(esp_netif_get_nr_of_ifs() == 2);
    CHECK(esp_netif_next_unsafe(NULL) == a && esp_netif_next_unsafe(a) == b && esp_netif_next_unsafe(b) == NULL);
    CHECK(esp_netif_find_if(key_is_b, "B") == b && esp_netif_find_if(key_is_b, "Z") == NULL);
    CHECK(esp_netif_get_netif_impl_index(a) > 0 && esp_netif_get_netif_impl_index(a) != esp_netif_get_netif_impl_index(b));
    char name[6];
    CHECK(esp_netif_get_netif_impl_name(a, name) == ESP_OK && strncmp(name, "tp", 2) == 0);
    CHECK(esp_netif_get_handle_from_netif_impl(esp_netif_get_netif_impl(a)) == a);

    /* Addresses. */
    esp_netif_ip_info_t ip;
    CHECK(esp_netif_get_ip_info(a, &ip) == ESP_OK);
    char text[16];
    CHECK(strcmp(esp_ip4addr_ntoa(&ip.ip, text, sizeof(text)), "192.168.7.100") == 0);
    CHECK(esp_ip4addr_ntoa(&ip.ip, text, 5) == NULL); /* too small */
    snprintf(text, sizeof(text), IPSTR, IP2STR(&ip.gw));
    CHECK(strcmp(text, "192.168.7.1") == 0);
    esp_netif_ip_info_t next = ip;
    esp_netif_set_ip4_addr(&next.ip, 192, 168, 7, 101);
    CHECK(next.ip.addr == ESP_IP4TOADDR(192, 168, 7, 101) && next.ip.addr == esp_ip4addr_aton("192.168.7.101"));
    CHECK(esp_netif_set_ip_info(a, &next) == ESP_OK);
    CHECK(esp_netif_get_ip_info(a, &ip) == ESP_OK && ip.ip.addr == next.ip.addr);
    esp_netif_ip_info_t old;
    CHECK(esp_netif_get_old_ip_info(a, &old) == ESP_OK && old.ip.addr == ipaddr_addr("192.168.7.100"));
    esp_netif_set_ip4_addr(&next.ip, 192, 168, 7, 100);
    CHECK(esp_netif_set_ip_info(a, &next) == ESP_OK);
    esp_ip4_addr_t parsed;
    CHECK(esp_netif_str_to_ip4("10.1.2.3", &parsed) == ESP_OK && parsed.addr == ESP_IP4TOADDR(10, 1, 2, 3));
    CHECK(esp_netif_str_to_ip4("10.1.2", &parsed) == ESP_FAIL);
    CHECK(esp_netif_str_to_ip4(NULL, &parsed) == ESP_ERR_INVALID_ARG);
    CHECK(ipaddr_addr("not an address") == IPADDR_NONE);

    /* MAC, hostname, MTU. */
    uint8_t mac[6], want[6] = {0x02, 0x12, 0x34, 0x56, 0x78, 0xab};
    CHECK(esp_netif_get_mac(a, mac) == ESP_OK && memcmp(mac, want, 6) == 0);
    uint8_t other[6] = {0x02, 0xaa, 0, 0, 0, 1};
    CHECK(esp_netif_set_mac(b, other) == ESP_OK);
    CHECK(esp_netif_get_mac(b, mac) == ESP_OK && memcmp(mac, other, 6) == 0);
    const char *host = NULL;
    CHECK(esp_netif_get_hostname(a, &host) == ESP_ERR_ESP_NETIF_IF_NOT_READY);
    CHECK(esp_netif_set_hostname(a, "sim-device") == ESP_OK);
    CHECK(esp_netif_get_hostname(a, &host) == ESP_OK && strcmp(host, "sim-device") == 0);
    uint16_t mtu = 0;
    CHECK(esp_netif_get_mtu(a, &mtu) == ESP_OK && mtu == 1500);
    CHECK(esp_netif_set_mtu(a, 10) == ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    CHECK(esp_netif_set_mtu(a, 9001) == ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    CHECK(esp_netif_set_mtu(a, 1500) == ESP_OK);

    /* DNS slots: Go's rules reached through the C API. */
    esp_netif_dns_info_t dns = {.ip = ESP_IP4ADDR_INIT(10, 9, 0, 53)}, got;
    CHECK(esp_netif_set_dns_info(a, ESP_NETIF_DNS_MAIN, &dns) == ESP_OK);
    esp_netif_dns_info_t any4 = {.ip = ESP_IP4ADDR_INIT(0, 0, 0, 0)}, any6 = {.ip = ESP_IP6ADDR_INIT(0, 0, 0, 0)};
    CHECK(esp_netif_set_dns_info(a, ESP_NETIF_DNS_MAIN, &any4) == ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    CHECK(esp_netif_set_dns_info(a, ESP_NETIF_DNS_MAIN, &any6) == ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    CHECK(esp_netif_set_dns_info(a, ESP_NETIF_DNS_MAX, &dns) == ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    esp_netif_dns_info_t badtype = dns;
    badtype.ip.type = 7;
    CHECK(esp_netif_set_dns_info(a, ESP_NETIF_DNS_MAIN, &badtype) == ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    CHECK(esp_netif_get_dns_info(a, ESP_NETIF_DNS_MAIN, &got) == ESP_OK && got.ip.type == ESP_IPADDR_TYPE_V4 &&
          got.ip.u_addr.ip4.addr == dns.ip.u_addr.ip4.addr);

    /* IPv6 address kinds, by prefix. */
    esp_ip6_addr_t ll = {.addr = {htonl(0xfe800000), 0, 0, htonl(1)}}, gl = {.addr = {htonl(0x20010db8), 0, 0, htonl(1)}},
                   ula = {.addr = {htonl(0xfd000000), 0, 0, htonl(1)}}, mapped = {.addr = {0, 0, htonl(0xffff), htonl(1)}},
                   mc = {.addr = {htonl(0xff020000), 0, 0, htonl(1)}};
    CHECK(esp_netif_ip6_get_addr_type(&ll) == ESP_IP6_ADDR_IS_LINK_LOCAL);
    CHECK(esp_netif_ip6_get_addr_type(&gl) == ESP_IP6_ADDR_IS_GLOBAL);
    CHECK(esp_netif_ip6_get_addr_type(&ula) == ESP_IP6_ADDR_IS_UNIQUE_LOCAL);
    CHECK(esp_netif_ip6_get_addr_type(&mapped) == ESP_IP6_ADDR_IS_IPV4_MAPPED_IPV6);
    CHECK(esp_netif_ip6_get_addr_type(&mc) == ESP_IP6_ADDR_IS_UNKNOWN);
    CHECK(esp_netif_ip6_get_addr_type(NULL) == ESP_IP6_ADDR_IS_UNKNOWN);

    /* Default interface: route priority, forced, back to priority. */
    CHECK(esp_netif_get_default_netif() == b);
    CHECK(esp_netif_set_default_netif(a) == ESP_OK && esp_netif_get_default_netif() == a);
    CHECK(esp_netif_set_default_netif(NULL) == ESP_OK && esp_netif_get_default_netif() == b);
    CHECK(esp_netif_set_route_prio(a, 30) == 30 && esp_netif_get_route_prio(a) == 30);
    CHECK(esp_netif_get_default_netif() == a);

    arp_round_trip(a, &da);

    /* Stop and destroy. */
    esp_netif_action_stop(b, NULL, 0, NULL);
    CHECK(!esp_netif_is_netif_up(b));
    esp_netif_destroy(b);
    CHECK(esp_netif_get_nr_of_ifs() == 1 && esp_netif_get_default_netif() == a);
    esp_netif_destroy(a);
    CHECK(esp_netif_get_nr_of_ifs() == 0 && esp_netif_get_default_netif() == NULL);

    return check_summary("netif_api");
}
