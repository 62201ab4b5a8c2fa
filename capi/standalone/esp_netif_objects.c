/*
 * The list of interfaces and the IP_EVENT base. In an IDF build IDF's own
 * esp_netif_objects.c provides these, so this file stays out of it.
 */
#include <pthread.h>
#include <string.h>

#include "esp_netif.h"
#include "glue.h"

ESP_EVENT_DEFINE_BASE(IP_EVENT);

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static esp_netif_t *list_head;
static size_t list_len;

void gonetif_list_add(esp_netif_t *netif)
{
    pthread_mutex_lock(&list_lock);
    esp_netif_t **tail = &list_head;
    while (*tail) {
        tail = &(*tail)->next;
    }
    netif->next = NULL;
    *tail = netif;
    list_len++;
    pthread_mutex_unlock(&list_lock);
}

void gonetif_list_remove(esp_netif_t *netif)
{
    pthread_mutex_lock(&list_lock);
    for (esp_netif_t **p = &list_head; *p; p = &(*p)->next) {
        if (*p == netif) {
            *p = netif->next;
            list_len--;
            break;
        }
    }
    pthread_mutex_unlock(&list_lock);
}

int gonetif_netif_valid(const esp_netif_t *p)
{
    int found = 0;
    if (!p) {
        return 0;
    }
    /* Walk the list rather than trust a magic number in memory that may
     * already be freed. */
    pthread_mutex_lock(&list_lock);
    for (esp_netif_t *n = list_head; n; n = n->next) {
        if (n == p) {
            found = n->magic == GONETIF_NETIF_MAGIC;
            break;
        }
    }
    pthread_mutex_unlock(&list_lock);
    return found;
}

esp_netif_t *gonetif_list_by_id(int id)
{
    esp_netif_t *found = NULL;
    if (id <= 0) {
        return NULL;
    }
    pthread_mutex_lock(&list_lock);
    for (esp_netif_t *n = list_head; n; n = n->next) {
        if (n->id == id) {
            found = n;
            break;
        }
    }
    pthread_mutex_unlock(&list_lock);
    return found;
}

esp_netif_t *esp_netif_next_unsafe(esp_netif_t *esp_netif)
{
    return esp_netif ? esp_netif->next : list_head;
}

static esp_netif_t *next_locked(esp_netif_t *esp_netif)
{
    pthread_mutex_lock(&list_lock);
    esp_netif_t *next = esp_netif_next_unsafe(esp_netif);
    pthread_mutex_unlock(&list_lock);
    return next;
}

size_t esp_netif_get_nr_of_ifs(void)
{
    pthread_mutex_lock(&list_lock);
    size_t n = list_len;
    pthread_mutex_unlock(&list_lock);
    return n;
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
    pthread_mutex_lock(&list_lock);
    for (esp_netif_t *n = list_head; n; n = n->next) {
        if (n->if_key && strcmp(n->if_key, if_key) == 0) {
            found = n;
            break;
        }
    }
    pthread_mutex_unlock(&list_lock);
    return found;
}
