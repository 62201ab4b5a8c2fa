/*
 * tapif_io's driver and stack halves on gonetif. The TAP device is opened,
 * read and written in Go; this file gives C the IDF-shaped handle.
 */
#include <pthread.h>
#include <stdlib.h>

#include "esp_log.h"
#include "glue.h"
#include "lwip/tapif.h"
#include "tapio.h"

static const char *TAG = "tapio";

/* The handle: IDF drivers start with esp_netif_driver_base_t. Handles are
 * never given back to malloc: esp_netif_destroy returns its interface's
 * handle to a queue of free ones, reused oldest first, so a stale handle
 * still points at a handle, which answers with an error while it is free
 * (esp_netif_attach calls through it before anything can check it). */
struct gonetif_tapio {
    esp_netif_driver_base_t base;
    int link;                        /* 0 while free */
    struct gonetif_tapio *next;      /* every handle made */
    struct gonetif_tapio *next_free; /* the free queue */
};

static pthread_mutex_t tapio_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gonetif_tapio *tapio_list;
static struct gonetif_tapio *free_head, **free_tail = &free_head;

/* The live handle h is, or NULL; call with tapio_lock held. */
static struct gonetif_tapio *live_locked(void *h)
{
    for (struct gonetif_tapio *t = tapio_list; t; t = t->next) {
        if (t == h) {
            return t->link > 0 ? t : NULL;
        }
    }
    return NULL;
}

int gonetif_tapio_link_of(void *handle)
{
    gonetif_lock(&tapio_lock);
    struct gonetif_tapio *t = live_locked(handle);
    int link = t ? t->link : 0;
    gonetif_unlock(&tapio_lock);
    return link;
}

static esp_err_t tapio_post_attach(esp_netif_t *netif, esp_netif_iodriver_handle h)
{
    gonetif_lock(&tapio_lock);
    struct gonetif_tapio *t = live_locked(h);
    if (t) {
        t->base.netif = netif;
    }
    gonetif_unlock(&tapio_lock);
    if (!t) {
        ESP_LOGE(TAG, "esp_netif_attach: %p is not a live tapio handle (its interface was destroyed?)", h);
        return ESP_ERR_INVALID_ARG;
    }
    esp_netif_action_start(netif, NULL, 0, NULL);
    return esp_netif_is_netif_up(netif) || gonetif_netif_has_link(((struct esp_netif_obj *)netif)->id) == 1
               ? ESP_OK
               : ESP_FAIL;
}

void gonetif_tapio_release(void *handle)
{
    gonetif_lock(&tapio_lock);
    struct gonetif_tapio *t = live_locked(handle);
    int link = 0;
    if (t) {
        link = t->link;
        t->link = 0;
        t->base.netif = NULL;
        t->next_free = NULL;
        *free_tail = t;
        free_tail = &t->next_free;
    }
    gonetif_unlock(&tapio_lock);
    if (link) {
        gonetif_link_close(link); /* a no-op once an interface took the link */
    }
}

/* A free handle, or a new one (listed for good); NULL when out of memory. */
static struct gonetif_tapio *take_handle(int link)
{
    gonetif_lock(&tapio_lock);
    struct gonetif_tapio *t = free_head;
    if (t) {
        free_head = t->next_free;
        if (!free_head) {
            free_tail = &free_head;
        }
    } else if ((t = calloc(1, sizeof(*t))) != NULL) {
        t->next = tapio_list;
        tapio_list = t;
    }
    if (t) {
        t->base.post_attach = tapio_post_attach;
        t->base.netif = NULL;
        t->next_free = NULL;
        t->link = link;
    }
    gonetif_unlock(&tapio_lock);
    return t;
}

/* Captures are buffered in Go, and Go does not see C's exit: flush them
 * from an atexit hook (most apps exit without esp_netif_destroy). */
static pthread_once_t capture_exit_once = PTHREAD_ONCE_INIT;

static void flush_captures_at_exit(void)
{
    gonetif_capture_flush();
}

static void register_capture_exit(void)
{
    if (atexit(flush_captures_at_exit) != 0) {
        ESP_LOGW(TAG, "cannot register the capture flush at exit: the last frames may be missing");
    }
}

/* The app's sdkconfig reaches us through tapio.h's macros (app); this
 * file is compiled without it. */
void *gonetif_tapio_create_app(const tapio_config_t *cfg, const gonetif_tapio_app_config_t *app)
{
    tapio_config_t c = {0};
    if (cfg) {
        c = *cfg;
    }
    gonetif_tapio_app_config_t a = {0};
    if (app) {
        a = *app;
    }
    if (gonetif_glue_init() != 0) {
        ESP_LOGE(TAG, "gonetif did not start (see the lines above)");
        return NULL;
    }
    int link = gonetif_tap_open((char *)c.tap_name, (uint8_t *)c.mac, c.mtu, c.plain, (char *)c.netns, c.in_loss,
                                c.out_loss, (char *)c.pcap_path, a.in_loss, a.out_loss, (char *)c.link,
                                (char *)c.hostfwd);
    if (link < 0) {
        return NULL; /* Go logged the reason */
    }
    struct gonetif_tapio *t = take_handle(link);
    if (!t) {
        ESP_LOGE(TAG, "out of memory");
        gonetif_link_close(link);
        return NULL;
    }
    pthread_once(&capture_exit_once, register_capture_exit);
    return t;
}

/* Parenthesised names: the plain functions, not tapio.h's macros. */
void *(tapio_create_with)(const tapio_config_t *cfg)
{
    return gonetif_tapio_create_app(cfg, NULL);
}

void *(tapio_create)(void)
{
    return gonetif_tapio_create_app(NULL, NULL);
}

esp_err_t tapio_output(void *h, void *buffer, size_t len)
{
    int link = gonetif_tapio_link_of(h);
    if (!link) {
        ESP_LOGE(TAG, "tapio_output: %p is not a live tapio handle", h);
        return ESP_ERR_INVALID_ARG;
    }
    if (!buffer || !len) {
        return ESP_ERR_INVALID_ARG;
    }
    return gonetif_tap_write(link, buffer, len);
}

/* The stack half: there is no lwIP netif to initialise, and received
 * frames go straight into gonetif. */
err_t lwip_tapif_init(struct netif *netif)
{
    (void)netif;
    return ERR_OK;
}

esp_netif_recv_ret_t lwip_tapif_input(void *h, void *buffer, size_t len, void *l2_buff)
{
    (void)l2_buff;
    GONETIF_RECV_RETURN(gonetif_stack_input(h, buffer, len));
}
