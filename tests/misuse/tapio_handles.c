/*
 * tapio handles across create/destroy, on the user-mode link (no TAP, no
 * privileges), built with AddressSanitizer:
 *   - a failed tapio_create takes no device index: the next device still
 *     gets the first GONETIF_MAC entry;
 *   - esp_netif_destroy frees its tapio handle for reuse: many rounds of
 *     create/attach/destroy use a bounded number of handles;
 *   - a stale handle answers with an error (tapio_output, esp_netif_attach),
 *     never a use after free.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/check.h"
#include "esp_netif.h"
#include "lwip/tapif.h"
#include "tapio.h"

#define ROUNDS 40

static const uint8_t first_mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

static esp_netif_t *netif_on(void *tap, const char *key)
{
    esp_netif_ip_info_t ip = {.ip = {.addr = inet_addr("10.0.2.15")}, .netmask = {.addr = inet_addr("255.255.255.0")}};
    esp_netif_inherent_config_t base = {.flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &ip, .if_key = key, .route_prio = 10};
    esp_netif_driver_ifconfig_t driver = {.handle = tap, .transmit = tapio_output};
    struct esp_netif_netstack_config stack = {.lwip = {.init_fn = lwip_tapif_init, .input_fn = lwip_tapif_input}};
    esp_netif_config_t cfg = {.base = &base, .driver = &driver, .stack = &stack};
    return esp_netif_new(&cfg);
}

int main(void)
{
    setenv("GONETIF_LINK", "user", 1);
    setenv("GONETIF_MAC", "02:00:5e:10:00:01,02:00:5e:10:00:02", 1);

    /* A failed open: an unknown link kind. */
    tapio_config_t bad = {.link = "no-such-link-kind"};
    CHECK(tapio_create_with(&bad) == NULL);

    void *tap = tapio_create();
    CHECK(tap != NULL);
    esp_netif_t *n = netif_on(tap, "TAPH0");
    CHECK(n != NULL);
    CHECK(esp_netif_attach(n, tap) == ESP_OK);
    uint8_t mac[6] = {0};
    CHECK(esp_netif_get_mac(n, mac) == ESP_OK);
    if (memcmp(mac, first_mac, 6) != 0) {
        fprintf(stderr, "device 0 has MAC %02x:%02x:%02x:%02x:%02x:%02x, want the first GONETIF_MAC entry\n",
                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    }
    CHECK(memcmp(mac, first_mac, 6) == 0);
    esp_netif_destroy(n);

    /* The destroyed interface's handle is stale now: errors, no crash. */
    uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
    CHECK(tapio_output(tap, frame, sizeof(frame)) == ESP_ERR_INVALID_ARG);
    esp_netif_t *other = netif_on(tap, "TAPH1");
    CHECK(other != NULL);
    CHECK(esp_netif_attach(other, tap) != ESP_OK);
    esp_netif_destroy(other);

    /* Handles come back: ROUNDS devices, one after the other, need few. */
    void *seen[ROUNDS];
    int distinct = 0;
    for (int i = 0; i < ROUNDS; i++) {
        void *t = tapio_create();
        CHECK(t != NULL);
        esp_netif_t *r = netif_on(t, "TAPHR");
        CHECK(r != NULL && esp_netif_attach(r, t) == ESP_OK);
        CHECK(tapio_output(t, frame, sizeof(frame)) == ESP_OK);
        esp_netif_destroy(r);
        int known = 0;
        for (int j = 0; j < distinct; j++) {
            known |= seen[j] == t;
        }
        if (!known) {
            seen[distinct++] = t;
        }
    }
    printf("tapio_handles: %d rounds used %d distinct handles\n", ROUNDS, distinct);
    CHECK(distinct <= 2);
    return check_summary("tapio_handles");
}
