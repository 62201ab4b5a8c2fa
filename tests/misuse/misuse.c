/*
 * Every public C function given NULL, bad, closed or foreign arguments.
 * Built with -fsanitize=address,undefined against a glue library compiled
 * the same way: each call must answer an error (errno, esp_err_t, NULL,
 * -1, false), and a read or write out of bounds, a use after free or
 * undefined behaviour anywhere in the C side stops the run.
 *
 * Needs no privileges: the interfaces have a C driver that drops frames.
 */
#define _GNU_SOURCE 1 /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../c/check.h"
#include "../c/drop_netif.h"
#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "net/if.h"
#include "lwip/sockets.h"
#include "lwip/tapif.h"
#include "tapio.h"

/* Values hidden from the compiler, so it neither warns about nor folds the
 * misuse. */
static void *volatile null_p;
static volatile size_t huge = (size_t)1 << 40;

static struct drop_driver drivers[2];

static esp_netif_t *make_netif(const char *key, int i)
{
    esp_netif_ip_info_t ip = {.ip = {.addr = ipaddr_addr("10.77.0.2")}, .netmask = {.addr = ipaddr_addr("255.255.255.0")}};
    ip.ip.addr = htonl(ntohl(ip.ip.addr) + (uint32_t)(i << 8));
    esp_netif_inherent_config_t base = {.flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &ip, .if_key = key, .if_desc = key,
                                        .route_prio = 10};
    return drop_netif_new(&drivers[i], &base);
}

/* Handles that are not live interfaces: NULL, a destroyed one, and memory
 * that never was an esp_netif. */
static esp_netif_t *bad_netifs[3];

static bool never_matches(esp_netif_t *n, void *ctx)
{
    (void)n, (void)ctx;
    return false;
}

static esp_err_t exec_fn(void *ctx)
{
    (void)ctx;
    return ESP_OK;
}

static void netif_misuse(esp_netif_t *good)
{
    uint8_t mac[6];
    esp_netif_ip_info_t ip = {0};
    esp_netif_dns_info_t dns = {0};
    esp_ip6_addr_t ip6[8];
    const char *name_p;
    char name[8];
    uint16_t mtu;
    esp_netif_dhcp_status_t st;
    esp_netif_pair_mac_ip_t pair = {0};

    for (int i = 0; i < 3; i++) {
        esp_netif_t *b = bad_netifs[i];
        CHECK(esp_netif_attach(b, &drivers[0]) != ESP_OK);
        CHECK(esp_netif_set_driver_config(b, NULL) != ESP_OK);
        CHECK(esp_netif_transmit(b, "x", 1) != ESP_OK);
        CHECK(esp_netif_transmit_wrap(b, "x", 1, NULL) != ESP_OK);
        CHECK(esp_netif_receive(b, "x", 1, NULL) != ESP_OK);
        esp_netif_free_rx_buffer(b, NULL);
        esp_netif_action_start(b, NULL, 0, NULL);
        esp_netif_action_stop(b, NULL, 0, NULL);
        esp_netif_action_connected(b, NULL, 0, NULL);
        esp_netif_action_disconnected(b, NULL, 0, NULL);
        esp_netif_action_got_ip(b, NULL, 0, NULL);
        esp_netif_action_add_ip6_address(b, NULL, 0, NULL);
        esp_netif_action_remove_ip6_address(b, NULL, 0, NULL);
        esp_netif_action_join_ip6_multicast_group(b, NULL, 0, NULL);
        esp_netif_action_leave_ip6_multicast_group(b, NULL, 0, NULL);
        CHECK(esp_netif_set_default_netif(b) != ESP_OK || b == NULL);
        CHECK(esp_netif_set_route_prio(b, 5) == -1);
        CHECK(esp_netif_get_route_prio(b) == -1);
        CHECK(esp_netif_set_mac(b, mac) != ESP_OK);
        CHECK(esp_netif_get_mac(b, mac) != ESP_OK);
        CHECK(esp_netif_set_hostname(b, "h") != ESP_OK);
        CHECK(esp_netif_get_hostname(b, &name_p) != ESP_OK);
        CHECK(!esp_netif_is_netif_up(b));
        CHECK(esp_netif_get_ip_info(b, &ip) != ESP_OK);
        CHECK(esp_netif_set_ip_info(b, &ip) != ESP_OK);
        CHECK(esp_netif_get_old_ip_info(b, &ip) != ESP_OK);
        CHECK(esp_netif_set_old_ip_info(b, &ip) != ESP_OK);
        CHECK(esp_netif_get_netif_impl_index(b) == -1);
        CHECK(esp_netif_get_netif_impl_name(b, name) != ESP_OK);
        CHECK(esp_netif_set_mtu(b, 1500) != ESP_OK);
        CHECK(esp_netif_get_mtu(b, &mtu) != ESP_OK);
        CHECK(esp_netif_get_io_driver(b) == NULL);
        CHECK(esp_netif_get_flags(b) == 0);
        CHECK(esp_netif_get_ifkey(b) == NULL);
        CHECK(esp_netif_get_desc(b) == NULL);
        CHECK(esp_netif_get_event_id(b, ESP_NETIF_IP_EVENT_GOT_IP) == -1);
        CHECK(esp_netif_get_netif_impl(b) == NULL);
        CHECK(esp_netif_get_handle_from_netif_impl(b) == NULL);
        CHECK(esp_netif_set_link_speed(b, 100) != ESP_OK);
        CHECK(esp_netif_dhcpc_start(b) != ESP_OK);
        CHECK(esp_netif_dhcpc_stop(b) != ESP_OK);
        CHECK(esp_netif_dhcpc_get_status(b, &st) != ESP_OK);
        CHECK(esp_netif_dhcpc_option(b, ESP_NETIF_OP_SET, ESP_NETIF_VENDOR_CLASS_IDENTIFIER, "v", 1) != ESP_OK);
        CHECK(esp_netif_dhcps_get_status(b, &st) != ESP_OK);
        CHECK(esp_netif_dhcps_start(b) != ESP_OK);
        CHECK(esp_netif_dhcps_stop(b) != ESP_OK);
        CHECK(esp_netif_dhcps_option(b, ESP_NETIF_OP_GET, ESP_NETIF_IP_ADDRESS_LEASE_TIME, mac, 4) != ESP_OK);
        CHECK(esp_netif_set_dns_info(b, ESP_NETIF_DNS_MAIN, &dns) != ESP_OK);
        CHECK(esp_netif_get_dns_info(b, ESP_NETIF_DNS_MAIN, &dns) != ESP_OK);
        CHECK(esp_netif_create_ip6_linklocal(b) != ESP_OK);
        CHECK(esp_netif_get_ip6_linklocal(b, ip6) != ESP_OK);
        CHECK(esp_netif_get_ip6_global(b, ip6) != ESP_OK);
        CHECK(esp_netif_get_all_ip6(b, ip6) == 0);
        CHECK(esp_netif_get_all_preferred_ip6(b, ip6) == 0);
        CHECK(esp_netif_add_ip6_address(b, ip6[0], true) != ESP_OK);
        CHECK(esp_netif_remove_ip6_address(b, ip6) != ESP_OK);
        CHECK(esp_netif_join_ip6_multicast_group(b, ip6) != ESP_OK);
        CHECK(esp_netif_leave_ip6_multicast_group(b, ip6) != ESP_OK);
        CHECK(esp_netif_arp_get_client_by_mac(b, &pair) != ESP_OK);
        CHECK(esp_netif_dhcps_get_clients_by_mac(b, 1, &pair) != ESP_OK);
        CHECK(esp_netif_napt_enable(b) != ESP_OK);
        CHECK(esp_netif_napt_disable(b) != ESP_OK);
        CHECK(esp_netif_tx_rx_event_enable(b) != ESP_OK);
        CHECK(esp_netif_tx_rx_event_disable(b) != ESP_OK);
        CHECK(lwip_tapif_input(b, "x", 1, NULL) != ESP_OK);
        CHECK(tapio_output(b, "x", 1) == ESP_ERR_INVALID_ARG); /* an esp_netif is not a tapio handle */
        esp_netif_destroy(b);
    }

    /* A live interface with NULL or bad pointers and sizes. */
    CHECK(esp_netif_set_driver_config(good, NULL) != ESP_OK);
    CHECK(esp_netif_transmit(good, NULL, 1) != ESP_OK);
    CHECK(esp_netif_transmit(good, "x", 0) != ESP_OK);
    CHECK(esp_netif_receive(good, NULL, 10, NULL) != ESP_OK);
    CHECK(esp_netif_receive(good, "x", 0, NULL) != ESP_OK);
    esp_netif_action_got_ip(good, NULL, 0, NULL);
    esp_netif_action_add_ip6_address(good, NULL, 0, NULL);
    esp_netif_action_remove_ip6_address(good, NULL, 0, NULL);
    esp_netif_action_join_ip6_multicast_group(good, NULL, 0, NULL);
    esp_netif_action_leave_ip6_multicast_group(good, NULL, 0, NULL);
    CHECK(esp_netif_set_mac(good, NULL) != ESP_OK);
    CHECK(esp_netif_get_mac(good, NULL) != ESP_OK);
    CHECK(esp_netif_set_hostname(good, NULL) != ESP_OK);
    CHECK(esp_netif_get_hostname(good, NULL) != ESP_OK);
    char long_name[400];
    memset(long_name, 'h', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    CHECK(esp_netif_set_hostname(good, long_name) != ESP_OK); /* longer than a DHCP option */
    CHECK(esp_netif_get_ip_info(good, NULL) != ESP_OK);
    CHECK(esp_netif_set_ip_info(good, NULL) != ESP_OK);
    CHECK(esp_netif_get_old_ip_info(good, NULL) != ESP_OK);
    CHECK(esp_netif_set_old_ip_info(good, NULL) != ESP_OK);
    CHECK(esp_netif_get_netif_impl_name(good, NULL) != ESP_OK);
    CHECK(esp_netif_set_mtu(good, 0) != ESP_OK);
    CHECK(esp_netif_get_mtu(good, NULL) != ESP_OK);
    CHECK(esp_netif_get_event_id(good, (esp_netif_ip_event_type_t)99) == -1);
    CHECK(esp_netif_dhcpc_get_status(good, NULL) != ESP_OK);
    /* Option values: NULL, a length far past the buffer, unknown ids. */
    CHECK(esp_netif_dhcpc_option(good, ESP_NETIF_OP_SET, ESP_NETIF_VENDOR_CLASS_IDENTIFIER, NULL, 4) != ESP_OK);
    char small[8] = "vendor";
    CHECK(esp_netif_dhcpc_option(good, ESP_NETIF_OP_SET, ESP_NETIF_VENDOR_CLASS_IDENTIFIER, small, (uint32_t)-1) ==
          ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    CHECK(esp_netif_dhcpc_option(good, ESP_NETIF_OP_SET, ESP_NETIF_VENDOR_CLASS_IDENTIFIER, small, 1u << 31) ==
          ESP_ERR_ESP_NETIF_INVALID_PARAMS);
    CHECK(esp_netif_dhcpc_option(good, ESP_NETIF_OP_SET, ESP_NETIF_REQUESTED_IP_ADDRESS, small, (uint32_t)-1) != ESP_OK);
    CHECK(esp_netif_dhcpc_option(good, ESP_NETIF_OP_GET, ESP_NETIF_IP_REQUEST_RETRY_TIME, small, 2) != ESP_OK);
    CHECK(esp_netif_dhcpc_option(good, ESP_NETIF_OP_GET, ESP_NETIF_VENDOR_CLASS_IDENTIFIER, small, 0) != ESP_OK);
    CHECK(esp_netif_dhcpc_option(good, (esp_netif_dhcp_option_mode_t)77, ESP_NETIF_VENDOR_CLASS_IDENTIFIER, small, 1) !=
          ESP_OK);
    CHECK(esp_netif_dhcpc_option(good, ESP_NETIF_OP_SET, (esp_netif_dhcp_option_id_t)250, small, 1) != ESP_OK);
    CHECK(esp_netif_set_dns_info(good, ESP_NETIF_DNS_MAIN, NULL) != ESP_OK);
    CHECK(esp_netif_set_dns_info(good, (esp_netif_dns_type_t)9, &dns) != ESP_OK);
    CHECK(esp_netif_get_dns_info(good, (esp_netif_dns_type_t)9, &dns) != ESP_OK);
    CHECK(esp_netif_get_dns_info(good, ESP_NETIF_DNS_MAIN, NULL) != ESP_OK);
    dns.ip.type = 77;
    CHECK(esp_netif_set_dns_info(good, ESP_NETIF_DNS_MAIN, &dns) != ESP_OK);
    CHECK(esp_netif_get_ip6_linklocal(good, NULL) != ESP_OK);
    CHECK(esp_netif_get_ip6_global(good, NULL) != ESP_OK);
    CHECK(esp_netif_get_all_ip6(good, NULL) == 0);
    CHECK(esp_netif_remove_ip6_address(good, NULL) != ESP_OK);
    CHECK(esp_netif_join_ip6_multicast_group(good, NULL) != ESP_OK);
    CHECK(esp_netif_leave_ip6_multicast_group(good, NULL) != ESP_OK);
    CHECK(esp_netif_arp_get_client_by_mac(good, NULL) != ESP_OK);
    CHECK(esp_netif_ip6_get_addr_type(NULL) == ESP_IP6_ADDR_IS_UNKNOWN);
    CHECK(esp_netif_find_if(NULL, NULL) == NULL);
    CHECK(esp_netif_find_if(never_matches, NULL) == NULL);
    CHECK(esp_netif_get_handle_from_ifkey(NULL) == NULL);
    CHECK(esp_netif_get_handle_from_ifkey("NO-SUCH") == NULL);
    CHECK(esp_netif_tcpip_exec(NULL, NULL) != ESP_OK);
    CHECK(esp_netif_tcpip_exec(exec_fn, NULL) == ESP_OK);
    CHECK(esp_netif_str_to_ip4(NULL, NULL) != ESP_OK);
    CHECK(esp_netif_str_to_ip4("1.2.3.4.5", &ip.ip) != ESP_OK);
    CHECK(esp_netif_str_to_ip6(NULL, NULL) != ESP_OK);
    CHECK(esp_netif_str_to_ip6("::g", ip6) != ESP_OK);
    CHECK(esp_ip4addr_ntoa(NULL, name, sizeof(name)) == NULL);
    CHECK(esp_ip4addr_ntoa(&ip.ip, NULL, 8) == NULL);
    CHECK(esp_ip4addr_ntoa(&ip.ip, name, 0) == NULL);
    ip.ip.addr = 0xffffffff;
    CHECK(esp_ip4addr_ntoa(&ip.ip, name, 4) == NULL); /* "255.255.255.255" does not fit */
    CHECK(esp_ip4addr_aton(NULL) == IPADDR_NONE);
    esp_netif_set_ip4_addr(NULL, 1, 2, 3, 4);
    esp_netif_netstack_buf_ref(NULL);
    esp_netif_netstack_buf_free(NULL);

    /* esp_netif_new with incomplete or odd configurations. */
    CHECK(esp_netif_new(NULL) == NULL);
    esp_netif_config_t empty = {0};
    CHECK(esp_netif_new(&empty) == NULL);
    esp_netif_inherent_config_t nokey = {.if_desc = "x"};
    struct esp_netif_netstack_config st_tap = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t c1 = {.base = &nokey, .stack = &st_tap};
    CHECK(esp_netif_new(&c1) == NULL);
    esp_netif_inherent_config_t dup = {.if_key = "MISUSE0"};
    esp_netif_config_t c2 = {.base = &dup, .stack = &st_tap};
    CHECK(esp_netif_new(&c2) == NULL); /* the key is taken */
    char key_long[300];
    memset(key_long, 'k', sizeof(key_long) - 1);
    key_long[sizeof(key_long) - 1] = 0;
    esp_netif_inherent_config_t lk = {.if_key = key_long, .mtu = 65535};
    esp_netif_config_t c3 = {.base = &lk, .stack = &st_tap};
    esp_netif_t *odd = esp_netif_new(&c3);
    esp_netif_destroy(odd); /* made or refused: either way no fault */
    esp_netif_destroy(NULL);
}

static void tapio_misuse(void)
{
    CHECK(tapio_output(NULL, "x", 1) == ESP_ERR_INVALID_ARG);
    char junk[64];
    memset(junk, 0xa5, sizeof(junk));
    CHECK(tapio_output(junk, "x", 1) == ESP_ERR_INVALID_ARG);
    /* Bad settings: no TAP opened, NULL back, a log line says why. */
    tapio_config_t bad_loss = {.tap_name = "gnt-misuse0", .in_loss = 200};
    CHECK(tapio_create_with(&bad_loss) == NULL);
    tapio_config_t neg_loss = {.tap_name = "gnt-misuse0", .out_loss = -1};
    CHECK(tapio_create_with(&neg_loss) == NULL);
    tapio_config_t long_name = {.tap_name = "a-name-longer-than-ifnamsiz"};
    CHECK(tapio_create_with(&long_name) == NULL);
    tapio_config_t missing = {.tap_name = "gnt-misuse-nx"};
    CHECK(tapio_create_with(&missing) == NULL);
    tapio_config_t bad_mtu = {.tap_name = "gnt-misuse-nx", .mtu = 20};
    CHECK(tapio_create_with(&bad_mtu) == NULL);
    tapio_config_t bad_ns = {.tap_name = "lo", .netns = "/nonexistent/netns"};
    CHECK(tapio_create_with(&bad_ns) == NULL);
    tapio_config_t bad_clone = {.tap_name = "lo", .netns = NULL, .pcap_path = "/nonexistent/dir/x.pcap"};
    CHECK(tapio_create_with(&bad_clone) == NULL); /* lo is no TAP; and the capture file cannot be made */
    static const uint8_t multicast_mac[6] = {0x01, 0, 0x5e, 0, 0, 1};
    tapio_config_t bad_mac = {.tap_name = "gnt-misuse-nx", .mac = multicast_mac};
    CHECK(tapio_create_with(&bad_mac) == NULL);
}

static void socket_misuse(void)
{
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(s >= 0);
    int closed = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(closed >= 0 && close(closed) == 0);
    int fds[] = {-1, closed, 1 << 20, pfd[0]};
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    char buf[16];
    int v = 1;
    struct msghdr m = {0};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        int fd = fds[i];
        int want = fd == pfd[0] ? ENOTSOCK : EBADF;
        errno = 0;
        CHECK(lwip_bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == want);
        CHECK(lwip_listen(fd, 1) == -1 && errno == want);
        CHECK(lwip_accept(fd, NULL, NULL) == -1 && errno == want);
        CHECK(lwip_accept4(fd, NULL, NULL, 0) == -1 && errno == want);
        CHECK(lwip_connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == want);
        CHECK(lwip_shutdown(fd, SHUT_RDWR) == -1 && errno == want);
        CHECK(lwip_getsockname(fd, (struct sockaddr *)&a, &len) == -1 && errno == want);
        CHECK(lwip_getpeername(fd, (struct sockaddr *)&a, &len) == -1 && errno == want);
        CHECK(lwip_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)) == -1 && errno == want);
        len = sizeof(v);
        CHECK(lwip_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1 && errno == want);
        CHECK(lwip_send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == -1 && errno == want);
        CHECK(lwip_sendto(fd, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == want);
        CHECK(lwip_recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == want);
        CHECK(lwip_recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL) == -1 && errno == want);
        CHECK(lwip_sendmsg(fd, &m, MSG_DONTWAIT) == -1 && errno == want);
        CHECK(lwip_recvmsg(fd, &m, MSG_DONTWAIT) == -1 && errno == want);
        if (fd != pfd[0]) {
            CHECK(lwip_read(fd, buf, 1) == -1 && errno == EBADF);
            CHECK(lwip_write(fd, "x", 1) == -1 && errno == EBADF);
            CHECK(lwip_close(fd) == -1 && errno == EBADF);
            CHECK(lwip_fcntl(fd, F_GETFL, 0) == -1 && errno == EBADF);
            CHECK(lwip_ioctl(fd, FIONREAD, &v) == -1 && errno == EBADF);
        }
    }
    /* A live socket with NULL and out-of-range pointers and sizes. */
    CHECK(lwip_bind(s, NULL, sizeof(a)) == -1 && errno == EFAULT);
    CHECK(lwip_bind(s, (struct sockaddr *)&a, (socklen_t)-1) == -1 && errno == EINVAL);
    CHECK(lwip_connect(s, NULL, sizeof(a)) == -1 && errno == EFAULT);
    CHECK(lwip_connect(s, (struct sockaddr *)&a, 100000) == -1 && errno == EINVAL);
    CHECK(lwip_sendto(s, "x", 1, 0, (struct sockaddr *)&a, 1u << 31) == -1 && errno == EINVAL);
    CHECK(lwip_sendto(s, NULL, 4, 0, NULL, 0) == -1);
    CHECK(lwip_send(s, NULL, huge, MSG_DONTWAIT) == -1);
    CHECK(lwip_recv(s, NULL, 4, MSG_DONTWAIT) == -1);
    CHECK(lwip_recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, NULL) == -1 && errno == EFAULT);
    CHECK(lwip_getsockname(s, NULL, &len) == -1 && errno == EFAULT);
    CHECK(lwip_getsockname(s, (struct sockaddr *)&a, NULL) == -1 && errno == EFAULT);
    len = (socklen_t)-1;
    CHECK(lwip_getsockname(s, (struct sockaddr *)&a, &len) == -1 && errno == EINVAL);
    CHECK(lwip_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, NULL, 4) == -1 && errno == EFAULT);
    CHECK(lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, NULL, 16) == -1 && errno == EFAULT);
    CHECK(lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &v, 1) == -1 && errno == EINVAL);
    CHECK(lwip_setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "nosuchdev", (socklen_t)-1) == -1);
    CHECK(lwip_setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "nosuchdev", 9) == -1 && errno == ENODEV);
    CHECK(lwip_setsockopt(s, SOL_SOCKET, SO_LINGER, &v, 1) == -1);
    CHECK(lwip_getsockopt(s, SOL_SOCKET, SO_TYPE, NULL, &len) == -1 && errno == EFAULT);
    CHECK(lwip_getsockopt(s, SOL_SOCKET, SO_TYPE, &v, NULL) == -1 && errno == EFAULT);
    len = 0;
    CHECK(lwip_getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, buf, &len) == 0);
    CHECK(lwip_sendmsg(s, NULL, 0) == -1 && errno == EFAULT);
    CHECK(lwip_recvmsg(s, NULL, 0) == -1 && errno == EFAULT);
    m.msg_iov = null_p;
    m.msg_iovlen = 3;
    CHECK(lwip_sendmsg(s, &m, 0) == -1 && errno == EFAULT);
    CHECK(lwip_recvmsg(s, &m, MSG_DONTWAIT) == -1 && errno == EFAULT);
    m.msg_iovlen = huge;
    CHECK(lwip_sendmsg(s, &m, 0) == -1 && errno == EMSGSIZE);
    struct iovec iov[2] = {{buf, 4}, {NULL, 4}};
    CHECK(lwip_writev(s, iov, 2) == -1 && errno == EFAULT);
    CHECK(lwip_readv(s, null_p, 2) == -1 && errno == EFAULT);
    CHECK(lwip_readv(s, iov, -5) == -1 && errno == EINVAL);
    struct iovec wide[2] = {{buf, (size_t)-1 / 2 + 1}, {buf, (size_t)-1 / 2 + 1}};
    CHECK(lwip_writev(s, wide, 2) == -1 && errno == EINVAL); /* the total overflows */
    CHECK(lwip_ioctl(s, FIONBIO, NULL) == -1 && errno == EFAULT);
    CHECK(lwip_ioctl(s, FIONREAD, NULL) == -1 && errno == EFAULT);
    CHECK(lwip_ioctl(s, 0x7777, &v) == -1 && errno == ENOTTY);
    CHECK(lwip_fcntl(s, 12345, 0) == -1 && errno == EINVAL);
    CHECK(lwip_shutdown(s, 99) == -1 && errno == EINVAL);
    CHECK(lwip_accept4(s, NULL, NULL, 0x4000000) == -1 && errno == EINVAL);
    CHECK(lwip_socket(AF_INET, 12345, 0) == -1);
    CHECK(lwip_socket(AF_INET, SOCK_RAW, 0) == -1);
    CHECK(lwip_socket(AF_INET, SOCK_STREAM, 99) == -1);

    /* poll and select with NULL arrays and silly sizes. */
    struct pollfd p = {.fd = s, .events = POLLOUT};
    CHECK(lwip_poll(null_p, 2, 0) == -1 && errno == EFAULT);
    CHECK(lwip_poll(&p, (nfds_t)1 << 40, 0) == 0);
    CHECK(lwip_poll(&p, 0x7fffffff, 0) == -1 && errno == EINVAL);
    struct timespec bad_ts = {0, -1};
    CHECK(ppoll(&p, 1, &bad_ts, NULL) == -1 && errno == EINVAL);
    struct timeval bad_tv = {-1, 0};
    CHECK(lwip_select(1, NULL, NULL, NULL, &bad_tv) == -1 && errno == EINVAL);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    struct timeval zero = {0, 0};
    CHECK(lwip_select(100000, &rd, NULL, NULL, &zero) >= 0); /* nfds past FD_SETSIZE is cut */
    CHECK(pselect(-1, NULL, NULL, NULL, NULL, NULL) == -1 && errno == EINVAL);

    /* inet and if helpers. */
    char addr[4];
    CHECK(lwip_inet_pton(AF_INET, NULL, addr) == -1 && errno == EFAULT);
    CHECK(lwip_inet_pton(AF_INET, "1.2.3.4", NULL) == -1 && errno == EFAULT);
    CHECK(lwip_inet_pton(12345, "1.2.3.4", addr) == -1 && errno == EAFNOSUPPORT);
    CHECK(lwip_inet_ntop(AF_INET, NULL, buf, sizeof(buf)) == NULL && errno == EFAULT);
    CHECK(lwip_inet_ntop(AF_INET, addr, NULL, 16) == NULL && errno == EFAULT);
    CHECK(lwip_inet_ntop(AF_INET, addr, buf, 2) == NULL && errno == ENOSPC);
    CHECK(lwip_inet_ntop(12345, addr, buf, sizeof(buf)) == NULL && errno == EAFNOSUPPORT);
    CHECK(lwip_if_nametoindex(NULL) == 0);
    CHECK(lwip_if_nametoindex("nosuch0") == 0 && errno == ENODEV);
    CHECK(lwip_if_indextoname(0, buf) == NULL);
    CHECK(lwip_if_indextoname(9999, buf) == NULL && errno == ENXIO);
    CHECK(lwip_if_indextoname(1, NULL) == NULL);
    CHECK(ipaddr_addr(NULL) == IPADDR_NONE);

    /* netdb: every pointer may be NULL; no lookup leaves the stack. */
    struct addrinfo *res = (struct addrinfo *)0x1, hints = {.ai_family = 12345};
    CHECK(lwip_getaddrinfo("1.2.3.4", NULL, NULL, NULL) != 0);
    CHECK(lwip_getaddrinfo(NULL, NULL, NULL, &res) == EAI_NONAME && res == NULL);
    CHECK(lwip_getaddrinfo("1.2.3.4", NULL, &hints, &res) == EAI_FAMILY);
    hints = (struct addrinfo){.ai_flags = 0x7fff0000};
    CHECK(lwip_getaddrinfo("1.2.3.4", NULL, &hints, &res) == EAI_BADFLAGS);
    hints = (struct addrinfo){.ai_socktype = 77};
    CHECK(lwip_getaddrinfo("1.2.3.4", NULL, &hints, &res) == EAI_SOCKTYPE);
    CHECK(lwip_getaddrinfo("1.2.3.4", "-5", NULL, &res) == EAI_SERVICE);
    CHECK(lwip_getaddrinfo("1.2.3.4", "99999", NULL, &res) == 0); /* port 34463, as glibc */
    lwip_freeaddrinfo(res);
    hints = (struct addrinfo){.ai_flags = AI_NUMERICHOST};
    CHECK(lwip_getaddrinfo("not-numeric", NULL, &hints, &res) == EAI_NONAME);
    char long_host[2000];
    memset(long_host, 'a', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = 0;
    CHECK(lwip_getaddrinfo(long_host, NULL, NULL, &res) != 0);
    CHECK(lwip_getaddrinfo("fe80::1%notanumber", NULL, NULL, &res) != 0);
    lwip_freeaddrinfo(NULL);
    CHECK(lwip_gai_strerror(-12345) != NULL);
    CHECK(lwip_gethostbyname(NULL) == NULL);
    struct hostent he, *hr = (struct hostent *)0x1;
    int herr = 0;
    CHECK(lwip_gethostbyname_r(NULL, &he, buf, sizeof(buf), &hr, &herr) == EINVAL && hr == NULL);
    CHECK(lwip_gethostbyname_r("1.2.3.4", NULL, buf, sizeof(buf), &hr, &herr) == EINVAL);
    CHECK(lwip_gethostbyname_r("1.2.3.4", &he, NULL, 100, &hr, NULL) == EINVAL);
    CHECK(lwip_gethostbyname_r("1.2.3.4", &he, buf, 4, &hr, &herr) == ERANGE && hr == NULL);
    CHECK(lwip_gethostbyname_r("1.2.3.4", &he, buf, sizeof(buf), NULL, &herr) == EINVAL);

    close(s);
    close(pfd[0]);
    close(pfd[1]);
}

int main(void)
{
    CHECK(esp_netif_init() == ESP_OK);
    esp_netif_t *good = make_netif("MISUSE0", 0);
    CHECK(good != NULL);
    esp_netif_t *gone = make_netif("MISUSE1", 1);
    CHECK(gone != NULL);
    esp_netif_destroy(gone);
    static char not_a_netif[512];
    memset(not_a_netif, 0x5a, sizeof(not_a_netif));
    bad_netifs[0] = NULL;
    bad_netifs[1] = gone; /* freed: only its address is compared */
    bad_netifs[2] = (esp_netif_t *)not_a_netif;

    netif_misuse(good);
    tapio_misuse();
    socket_misuse();
    esp_netif_destroy(good);
    return check_summary("misuse");
}
