/*
 * Bad input gets a clear error, never a crash: NULL configs, unknown
 * init_fn, a TAP that is missing or not ours, NULL driver handles, and
 * descriptors that are closed, unknown or belong to the host.
 *
 *   bad_input [--tap-missing NAME] [--tap-forbidden NAME]
 * The TAP checks run only when named (the caller sets the TAPs up).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "esp_netif.h"
#include "lwip/tapif.h"
#include "tapio.h"



static err_t unknown_init(struct netif *n)
{
    (void)n;
    return ERR_OK;
}

static void netif_checks(void)
{
    CHECK(esp_netif_new(NULL) == NULL);
    esp_netif_config_t empty = {0};
    CHECK(esp_netif_new(&empty) == NULL);

    esp_netif_inherent_config_t base = {.if_key = "BAD", .if_desc = "bad"};
    struct esp_netif_netstack_config unknown = {.lwip = {.init_fn = unknown_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .stack = &unknown};
    CHECK(esp_netif_new(&cfg) == NULL);

    struct esp_netif_netstack_config tapif = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t good = {.base = &base, .stack = &tapif};
    esp_netif_t *n = esp_netif_new(&good);
    CHECK(n != NULL);
    CHECK(esp_netif_new(&good) == NULL); /* duplicate if_key */
    esp_netif_inherent_config_t both = {.if_key = "BOTH", .flags = ESP_NETIF_DHCP_CLIENT | ESP_NETIF_DHCP_SERVER};
    esp_netif_config_t both_cfg = {.base = &both, .stack = &tapif};
    CHECK(esp_netif_new(&both_cfg) == NULL);

    CHECK(esp_netif_attach(n, NULL) == ESP_ERR_ESP_NETIF_DRIVER_ATTACH_FAILED);
    CHECK(esp_netif_attach(NULL, NULL) != ESP_OK);
    esp_netif_action_start(n, NULL, 0, NULL); /* no driver: logged, no crash */
    CHECK(!esp_netif_is_netif_up(n));
    CHECK(esp_netif_get_ip_info(n, NULL) == ESP_ERR_INVALID_ARG);
    CHECK(esp_netif_get_ip_info(NULL, NULL) == ESP_ERR_INVALID_ARG);
    CHECK(esp_netif_set_ip_info(NULL, NULL) == ESP_ERR_INVALID_STATE);
    CHECK(esp_netif_receive(n, NULL, 0, NULL) != ESP_OK);
    CHECK(esp_netif_receive(NULL, "x", 1, NULL) != ESP_OK);
    CHECK(esp_netif_set_hostname(n, NULL) == ESP_ERR_INVALID_ARG);
    CHECK(esp_netif_get_route_prio(NULL) == -1);
    CHECK(esp_netif_get_netif_impl_index(NULL) == -1);
    CHECK(esp_netif_get_handle_from_ifkey("BAD") == n);
    CHECK(esp_netif_get_handle_from_ifkey("NOPE") == NULL);
    CHECK(esp_netif_get_nr_of_ifs() == 1);
    CHECK(tapio_output(NULL, "x", 1) == ESP_ERR_INVALID_ARG);
    CHECK(tapio_output(&base, "x", 1) == ESP_ERR_INVALID_ARG); /* not a tapio handle */
    esp_netif_destroy(n);
    CHECK(esp_netif_get_nr_of_ifs() == 0);
    esp_netif_destroy(NULL);
    esp_netif_destroy(n); /* stale handle: logged, ignored */
}

static void socket_checks(void)
{
    char buf[8];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1)};

    errno = 0;
    CHECK(send(987, "x", 1, 0) == -1 && errno == EBADF);
    CHECK(recv(-1, buf, 1, 0) == -1 && errno == EBADF);
    CHECK(connect(100000, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == EBADF);

    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(send(p[1], "x", 1, 0) == -1 && errno == ENOTSOCK); /* a host fd, not a socket */
    CHECK(write(p[1], "x", 1) == 1);                          /* host fds keep working */
    CHECK(read(p[0], buf, 1) == 1 && buf[0] == 'x');
    CHECK(close(p[0]) == 0 && close(p[1]) == 0);
    CHECK(close(p[0]) == -1 && errno == EBADF);

    int ux = socket(AF_UNIX, SOCK_STREAM, 0); /* not IP: a host socket, as on Linux */
    CHECK(ux >= 0 && close(ux) == 0);
    CHECK(socket(AF_INET, 77, 0) == -1 && errno == EINVAL);
    CHECK(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -1 && errno == EPROTONOSUPPORT);

    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    CHECK(fcntl(s, F_GETFD) >= 0); /* the number is held by a live placeholder */
    CHECK(bind(s, NULL, sizeof(a)) == -1 && errno == EFAULT);
    CHECK(bind(s, (struct sockaddr *)&a, 4) == -1 && errno == EINVAL);
    CHECK(connect(s, (struct sockaddr *)&a, 0) == -1 && errno == EINVAL);
    CHECK(recv(s, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == ENOTCONN);
    CHECK(send(s, "x", 1, MSG_NOSIGNAL) == -1 && (errno == ENOTCONN || errno == EPIPE));
    /* As Linux: the length is checked before the buffer is read. */
    CHECK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, NULL, 0) == -1 && errno == EINVAL);
    CHECK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, NULL, 16) == -1 && errno == EFAULT);
    CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, NULL, NULL) == -1 && errno == EFAULT);
    CHECK(shutdown(s, 99) == -1 && errno == EINVAL);
    CHECK(close(s) == 0);
    CHECK(close(s) == -1 && errno == EBADF);
    CHECK(send(s, "x", 1, 0) == -1 && errno == EBADF);
}

int main(int argc, char **argv)
{
    CHECK(esp_netif_init() == ESP_OK);
    CHECK(esp_netif_init() == ESP_OK); /* repeat calls are fine */
    netif_checks();
    socket_checks();
    for (int i = 1; i + 1 < argc; i += 2) {
        tapio_config_t cfg = {.tap_name = argv[i + 1]};
        if (!strcmp(argv[i], "--tap-missing") || !strcmp(argv[i], "--tap-forbidden")) {
            CHECK(tapio_create_with(&cfg) == NULL);
        }
    }
    return check_summary("bad_input");
}
