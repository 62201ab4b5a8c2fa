/*
 * esp_netif's list of interfaces, unlocked (gonetif's netif_list.c holds
 * the lock around it), and the IP_EVENT base. In an IDF build IDF's own
 * esp_netif_objects.c provides these, so this file stays out of it.
 */
#include "esp_netif.h"
#include "glue.h"

ESP_EVENT_DEFINE_BASE(IP_EVENT);

static esp_netif_t *list_head;
static size_t list_len;

/* Appends, so a walk sees interfaces in the order they were made. */
esp_err_t esp_netif_add_to_list_unsafe(esp_netif_t *netif)
{
    esp_netif_t **tail = &list_head;
    while (*tail) {
        tail = &(*tail)->next;
    }
    netif->next = NULL;
    *tail = netif;
    __atomic_add_fetch(&list_len, 1, __ATOMIC_RELAXED);
    return ESP_OK;
}

esp_err_t esp_netif_remove_from_list_unsafe(esp_netif_t *netif)
{
    for (esp_netif_t **p = &list_head; *p; p = &(*p)->next) {
        if (*p == netif) {
            *p = netif->next;
            __atomic_sub_fetch(&list_len, 1, __ATOMIC_RELAXED);
            return ESP_OK;
        }
    }
    return ESP_ERR_NOT_FOUND;
}

esp_netif_t *esp_netif_next_unsafe(esp_netif_t *esp_netif)
{
    return esp_netif ? esp_netif->next : list_head;
}

size_t esp_netif_get_nr_of_ifs(void)
{
    return __atomic_load_n(&list_len, __ATOMIC_RELAXED);
}
