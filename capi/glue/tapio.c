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

/* The handle: IDF drivers start with esp_netif_driver_base_t. */
struct gonetif_tapio {
    esp_netif_driver_base_t base;
    int link;
    struct gonetif_tapio *next;
};

static pthread_mutex_t tapio_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gonetif_tapio *tapio_list;

static struct gonetif_tapio *find_tapio(void *h)
{
    struct gonetif_tapio *found = NULL;
    pthread_mutex_lock(&tapio_lock);
    for (struct gonetif_tapio *t = tapio_list; t; t = t->next) {
        if (t == h) {
            found = t;
            break;
        }
    }
    pthread_mutex_unlock(&tapio_lock);
    return found;
}

int gonetif_tapio_link_of(void *handle)
{
    struct gonetif_tapio *t = find_tapio(handle);
    return t ? t->link : 0;
}

static esp_err_t tapio_post_attach(esp_netif_t *netif, esp_netif_iodriver_handle h)
{
    struct gonetif_tapio *t = find_tapio(h);
    if (!t) {
        return ESP_ERR_INVALID_ARG;
    }
    t->base.netif = netif;
    esp_netif_action_start(netif, NULL, 0, NULL);
    return esp_netif_is_netif_up(netif) || gonetif_netif_has_link(((struct esp_netif_obj *)netif)->id) == 1
               ? ESP_OK
               : ESP_FAIL;
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
    struct gonetif_tapio *t = calloc(1, sizeof(*t));
    if (!t) {
        ESP_LOGE(TAG, "out of memory");
        return NULL;
    }
    int link = gonetif_tap_open((char *)c.tap_name, (uint8_t *)c.mac, c.mtu, c.plain, (char *)c.netns, c.in_loss,
                                c.out_loss, (char *)c.pcap_path, a.in_loss, a.out_loss, (char *)c.link,
                                (char *)c.hostfwd);
    if (link < 0) {
        free(t); /* Go logged the reason */
        return NULL;
    }
    pthread_once(&capture_exit_once, register_capture_exit);
    t->link = link;
    t->base.post_attach = tapio_post_attach;
    pthread_mutex_lock(&tapio_lock);
    t->next = tapio_list;
    tapio_list = t;
    pthread_mutex_unlock(&tapio_lock);
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
    struct gonetif_tapio *t = find_tapio(h);
    if (!t) {
        ESP_LOGE(TAG, "tapio_output: %p is not a tapio handle", h);
        return ESP_ERR_INVALID_ARG;
    }
    if (!buffer || !len) {
        return ESP_ERR_INVALID_ARG;
    }
    return gonetif_tap_write(t->link, buffer, len);
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
