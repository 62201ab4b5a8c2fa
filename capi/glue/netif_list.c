/*
 * The netif list under one lock, its lookups, and the Ethernet-like stack
 * defaults: the same in both modes. The list itself is esp_netif's own
 * (esp_netif_add_to_list_unsafe and friends): IDF's esp_netif_objects.c in
 * an IDF build, capi/standalone/esp_netif_objects.c otherwise.
 */
#include <pthread.h>
#include <string.h>

#include "esp_log.h"
#include "esp_netif.h"
#include "glue.h"

static const char *TAG = "esp_netif";

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;

void gonetif_list_add(esp_netif_t *netif)
{
    gonetif_lock(&list_lock);
    esp_err_t err = esp_netif_add_to_list_unsafe(netif);
    gonetif_unlock(&list_lock);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "cannot list esp_netif %s: %s", netif->if_key, esp_err_to_name(err));
    }
}

void gonetif_list_remove(esp_netif_t *netif)
{
    gonetif_lock(&list_lock);
    esp_netif_remove_from_list_unsafe(netif);
    gonetif_unlock(&list_lock);
}

/* Walk the list rather than trust a magic number in memory that may
 * already be freed. */
int gonetif_netif_valid(const esp_netif_t *p)
{
    int found = 0;
    if (!p) {
        return 0;
    }
    gonetif_lock(&list_lock);
    for (esp_netif_t *n = esp_netif_next_unsafe(NULL); n; n = esp_netif_next_unsafe(n)) {
        if (n == p) {
            found = n->magic == GONETIF_NETIF_MAGIC;
            break;
        }
    }
    gonetif_unlock(&list_lock);
    return found;
}

esp_netif_t *gonetif_list_by_id(int id)
{
    esp_netif_t *found = NULL;
    if (id <= 0) {
        return NULL;
    }
    gonetif_lock(&list_lock);
    for (esp_netif_t *n = esp_netif_next_unsafe(NULL); n; n = esp_netif_next_unsafe(n)) {
        if (n->magic == GONETIF_NETIF_MAGIC && n->id == id) {
            found = n;
            break;
        }
    }
    gonetif_unlock(&list_lock);
    return found;
}

static esp_netif_t *next_locked(esp_netif_t *netif)
{
    gonetif_lock(&list_lock);
    esp_netif_t *next = esp_netif_next_unsafe(netif);
    gonetif_unlock(&list_lock);
    return next;
}

esp_netif_t *esp_netif_find_if(esp_netif_find_predicate_t fn, void *ctx)
{
    if (!fn) {
        return NULL;
    }
    /* The predicate may call back into esp_netif: do not hold the lock. */
    for (esp_netif_t *n = next_locked(NULL); n; n = next_locked(n)) {
        if (fn(n, ctx)) {
            return n;
        }
    }
    return NULL;
}

esp_netif_t *esp_netif_get_handle_from_ifkey(const char *if_key)
{
    if (!if_key) {
        return NULL;
    }
    esp_netif_t *found = NULL;
    gonetif_lock(&list_lock);
    for (esp_netif_t *n = esp_netif_next_unsafe(NULL); n; n = esp_netif_next_unsafe(n)) {
        if (n->if_key && strcmp(n->if_key, if_key) == 0) {
            found = n;
            break;
        }
    }
    gonetif_unlock(&list_lock);
    return found;
}

/* ---- the stack side of esp_netif_defaults.h -------------------------------
 * Ethernet-like interfaces (ETH, Wi-Fi station, bridge) are all backed by
 * gVisor through the ethernetif init/input pair. */

esp_err_t gonetif_stack_input(void *h, void *buffer, size_t len)
{
    return gonetif_netif_valid(h) ? gonetif_netif_receive(((esp_netif_t *)h)->id, buffer, len)
                                  : ESP_ERR_ESP_NETIF_INVALID_PARAMS;
}

err_t ethernetif_init(struct netif *netif)
{
    (void)netif;
    return ERR_OK;
}

esp_netif_recv_ret_t ethernetif_input(void *h, void *buffer, size_t len, void *l2_buff)
{
    (void)l2_buff;
    GONETIF_RECV_RETURN(gonetif_stack_input(h, buffer, len));
}

static const struct esp_netif_netstack_config ethernet_like = {
    .lwip = {.init_fn = ethernetif_init, .input_fn = ethernetif_input},
};
const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_eth = &ethernet_like;
const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_br = &ethernet_like;
const esp_netif_netstack_config_t *_g_esp_netif_netstack_default_wifi_sta = &ethernet_like;
