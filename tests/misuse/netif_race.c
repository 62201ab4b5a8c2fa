/*
 * Interface name lookups (if_nametoindex, if_indextoname) racing
 * esp_netif_create/destroy on another thread. Built with AddressSanitizer:
 * a lookup that walks the interface list while an entry is freed is a
 * use after free, reported and fatal.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../c/check.h"
#include "../c/drop_netif.h"
#include "esp_netif.h"
#include "net/if.h"

#define ROUNDS 300
#define LOOKERS 3

static atomic_int done;
static atomic_long lookups, found;

static void *churn(void *arg)
{
    (void)arg;
    static struct drop_driver drv;
    for (int i = 0; i < ROUNDS; i++) {
        char key[16];
        snprintf(key, sizeof(key), "RACE%d", i % 4);
        esp_netif_ip_info_t ip = {.ip = {.addr = inet_addr("10.78.0.2")}, .netmask = {.addr = inet_addr("255.255.0.0")}};
        esp_netif_inherent_config_t base = {.flags = ESP_NETIF_FLAG_AUTOUP, .ip_info = &ip, .if_key = key,
                                            .if_desc = "race"};
        esp_netif_t *n = drop_netif_new(&drv, &base);
        CHECK(n != NULL);
        struct timespec live = {0, 200000}; /* long enough for lookups to meet it */
        nanosleep(&live, NULL);
        esp_netif_destroy(n);
    }
    atomic_store(&done, 1);
    return NULL;
}

static void *look(void *arg)
{
    (void)arg;
    char name[IF_NAMESIZE];
    while (!atomic_load(&done)) {
        for (unsigned i = 1; i < 8; i++) {
            char want[8];
            snprintf(want, sizeof(want), "en%u", i - 1);
            if (if_nametoindex(want) || if_nametoindex("RACE1")) {
                atomic_fetch_add(&found, 1);
            }
            if_indextoname(i, name);
            atomic_fetch_add(&lookups, 1);
        }
    }
    return NULL;
}

int main(void)
{
    CHECK(esp_netif_init() == ESP_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t c, l[LOOKERS];
    for (int i = 0; i < LOOKERS; i++) {
        pthread_create(&l[i], NULL, look, NULL);
    }
    pthread_create(&c, NULL, churn, NULL);
    pthread_join(c, NULL);
    for (int i = 0; i < LOOKERS; i++) {
        pthread_join(l[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%d create/destroy rounds, %ld lookups (%ld found) in %.2f s\n", ROUNDS, atomic_load(&lookups),
           atomic_load(&found), s);
    CHECK(atomic_load(&found) > 0); /* the lookups did meet live interfaces */
    CHECK(esp_netif_get_nr_of_ifs() == 0);
    return check_summary("netif_race");
}
