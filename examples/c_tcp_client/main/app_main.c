/*
 * Entry point: what IDF's app_main does on the Linux target, plus a few
 * command-line switches for scripted runs.
 *
 *   c_tcp_client [--dhcp] [--count N] [--interval-ms MS] [--host A.B.C.D] [--port P]
 *
 * --dhcp (or EXAMPLE_DHCP=1) takes the address from a DHCP server on the
 * host side of the TAP instead of the static CONFIG_EXAMPLE_CONNECT_TAPIF_*.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "protocol_examples_common.h"
#include "sdkconfig.h"
#include "tcp_client.h"

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--dhcp] [--count N] [--interval-ms MS] [--host ADDR] [--port PORT]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    struct tcp_client_options opt = {
        .host = CONFIG_EXAMPLE_IPV4_ADDR,
        .port = CONFIG_EXAMPLE_PORT,
        .interval_ms = 1000,
        .max_failures = 5,
    };
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--dhcp")) {
            setenv("EXAMPLE_DHCP", "1", 1);
        } else if (!strcmp(argv[i], "--count") && next) {
            opt.count = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--interval-ms") && next) {
            opt.interval_ms = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--host") && next) {
            opt.host = argv[++i];
        } else if (!strcmp(argv[i], "--port") && next) {
            opt.port = atoi(argv[++i]);
        } else {
            return usage(argv[0]);
        }
    }

    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    if (example_connect() != ESP_OK) {
        return 1;
    }
    int rc = tcp_client(&opt);
    example_disconnect();
    return rc;
}
