/*
 * What gonetif needs from IDF, and gives it, when IDF's own esp_netif,
 * esp_event and esp_log are in the build (CONFIG_ESP_NETIF_PROVIDE_CUSTOM_
 * IMPLEMENTATION): netifs live in IDF's list, IDF's handlers reach the stack
 * through esp_netif_start/stop/up/down, and IP events raised on Go threads
 * are posted by a FreeRTOS task (FreeRTOS is never called from Go threads).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#if defined(GONETIF_IDF_TICK_HOOKS)
#include "esp_freertos_hooks.h"
#endif
#include "glue.h"
#include "port.h"
#include "sdkconfig.h"

static const char *TAG = "gonetif";

/* esp_netif.c's handlers, renamed at compile time so IDF's own
 * esp_netif_handlers.c keeps the public names. */
void gonetif_glue_action_start(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
void gonetif_glue_action_stop(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
void gonetif_glue_action_connected(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
void gonetif_glue_action_disconnected(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);
esp_err_t gonetif_glue_netif_init(void);

/* ---- the stack side IDF's esp_netif_handlers.c calls --------------------- */

typedef void (*glue_action_t)(void *esp_netif, esp_event_base_t base, int32_t event_id, void *data);

static esp_err_t run_action(esp_netif_t *netif, const char *caller, glue_action_t action)
{
    if (!gonetif_netif_valid(netif)) {
        ESP_LOGE(TAG, "%s: invalid esp_netif handle %p", caller, netif);
        return ESP_ERR_ESP_NETIF_INVALID_PARAMS;
    }
    action(netif, NULL, 0, NULL);
    return ESP_OK;
}

esp_err_t esp_netif_start(esp_netif_t *netif)
{
    return run_action(netif, __func__, gonetif_glue_action_start);
}

esp_err_t esp_netif_stop(esp_netif_t *netif)
{
    return run_action(netif, __func__, gonetif_glue_action_stop);
}

/* With lwIP's Kconfig absent IDF's "connected" handler stops after
 * esp_netif_up: ours also starts DHCP or announces the static address. */
esp_err_t esp_netif_up(esp_netif_t *netif)
{
    return run_action(netif, __func__, gonetif_glue_action_connected);
}

esp_err_t esp_netif_down(esp_netif_t *netif)
{
    return run_action(netif, __func__, gonetif_glue_action_disconnected);
}

/* IDF's "connected" handler asks this before it announces a static address. */
bool esp_netif_is_valid_static_ip(esp_netif_ip_info_t *ip_info)
{
    return ip_info && ip_info->ip.addr != 0 && ip_info->netmask.addr != 0;
}

/* ---- IP events: queued on Go threads, posted by a FreeRTOS task ---------- */

#define EVENT_QUEUE_LEN 64
#define EVENT_MAX_DATA 64

struct queued_event {
    esp_event_base_t base;
    int32_t id;
    size_t size;
    uint8_t data[EVENT_MAX_DATA];
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct queued_event ev_ring[EVENT_QUEUE_LEN];
static unsigned ev_head, ev_tail;
static volatile int ev_task_running;

/* Go threads may not call FreeRTOS, so a post only raises ev_pending; a
 * tick hook (register_tick_hook) hands it to the task as a notification.
 * Without one the task looks every tick, as before. */
static TaskHandle_t ev_task;
static int ev_pending;
static volatile int ev_tick_gives;
static uint32_t ev_wakeups;

static void give_on_tick(void)
{
    TaskHandle_t task = __atomic_load_n(&ev_task, __ATOMIC_SEQ_CST);
    if (task && __atomic_exchange_n(&ev_pending, 0, __ATOMIC_SEQ_CST)) {
        BaseType_t woken = pdFALSE;
        vTaskNotifyGiveFromISR(task, &woken);
    }
}

/* How often the event task has woken (each wait that returned). */
uint32_t gonetif_idf_event_task_wakeups(void)
{
    return __atomic_load_n(&ev_wakeups, __ATOMIC_SEQ_CST);
}

esp_err_t gonetif_idf_event_post(esp_event_base_t base, int32_t id, const void *data, size_t size,
                                 TickType_t ticks)
{
    (void)ticks;
    if (size > EVENT_MAX_DATA) {
        return ESP_ERR_INVALID_SIZE;
    }
    if (!ev_task_running) {
        return ESP_ERR_INVALID_STATE;
    }
    esp_err_t err = ESP_OK;
    gonetif_lock(&ev_lock);
    if (ev_tail - ev_head >= EVENT_QUEUE_LEN) {
        err = ESP_ERR_TIMEOUT;
    } else {
        struct queued_event *e = &ev_ring[ev_tail % EVENT_QUEUE_LEN];
        e->base = base;
        e->id = id;
        e->size = size;
        if (size) {
            memcpy(e->data, data, size);
        }
        ev_tail++;
    }
    gonetif_unlock(&ev_lock);
    if (err == ESP_OK) {
        __atomic_store_n(&ev_pending, 1, __ATOMIC_SEQ_CST);
    }
    return err;
}

static void event_task(void *arg)
{
    (void)arg;
    for (;;) {
        struct queued_event e;
        int have = 0;
        gonetif_lock(&ev_lock);
        if (ev_head != ev_tail) {
            e = ev_ring[ev_head % EVENT_QUEUE_LEN];
            ev_head++;
            have = 1;
        }
        gonetif_unlock(&ev_lock);
        if (!have) {
            if (ev_tick_gives) {
                /* Woken by the tick hook's hand-off; 1 s bounds a wait regardless. */
                ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(1000));
            } else {
                /* As before. (ulTaskNotifyTake with a 1-tick timeout here once
                 * left IDF master's scheduler with every task blocked.) */
                vTaskDelay(1);
            }
            __atomic_add_fetch(&ev_wakeups, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        esp_err_t err = esp_event_post(e.base, e.id, e.size ? e.data : NULL, e.size, pdMS_TO_TICKS(1000));
        if (err != ESP_OK) {
            ESP_LOGW(TAG, "IP event %d not posted: %s", (int)e.id, esp_err_to_name(err));
        }
    }
}

/* ---- logging from Go threads (IDF's esp_log may take FreeRTOS locks) ----- */

static volatile int go_log_level = 3; /* info until esp_netif_init reads the setting */

void gonetif_log_line(int level, const char *tag, const char *msg)
{
    static const char letters[] = "NEWIDV";
    if (level > go_log_level) {
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[1024];
    int n = snprintf(line, sizeof(line), "%c (%lu) %s: %s\n", letters[level >= 0 && level <= 5 ? level : 3],
                     (unsigned long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000), tag ? tag : "gonetif",
                     msg ? msg : "");
    if (n > (int)sizeof(line) - 1) {
        n = sizeof(line) - 1;
    }
    /* stdout may be non-blocking under IDF: retry briefly, never spin forever. */
    for (int off = 0, tries = 0; off < n && tries < 100; tries++) {
        long w = syscall(SYS_write, 1, line + off, (size_t)(n - off));
        if (w > 0) {
            off += (int)w;
        } else {
            usleep(100);
        }
    }
}

/* ---- start-up ------------------------------------------------------------ */

static int parse_log_level(const char *s)
{
    static const char *names[] = {"none", "error", "warn", "info", "debug", "verbose"};
    for (int i = 0; i < 6; i++) {
        if (strcasecmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == 0)) {
            return i;
        }
    }
    return -1;
}

/* Kconfig gives the defaults; GONETIF_* set in the environment win, so one
 * binary can run as several devices. */
static esp_err_t kconfig_defaults(void)
{
    setenv("GONETIF_TAP", CONFIG_GONETIF_TAP_NAME, 0);
    if (CONFIG_GONETIF_MAC[0]) {
        setenv("GONETIF_MAC", CONFIG_GONETIF_MAC, 0);
    }
    char mtu[16];
    snprintf(mtu, sizeof(mtu), "%d", CONFIG_GONETIF_MTU);
    setenv("GONETIF_MTU", mtu, 0);
#if !CONFIG_GONETIF_TAP_OFFLOAD
    setenv("GONETIF_TAP_PLAIN", "1", 0);
#endif
    if (CONFIG_GONETIF_PCAP_FILE[0]) {
        setenv("GONETIF_PCAP", CONFIG_GONETIF_PCAP_FILE, 0);
    }
    setenv("GONETIF_LOG_LEVEL", CONFIG_GONETIF_LOG_LEVEL, 0);
    int level = parse_log_level(getenv("GONETIF_LOG_LEVEL"));
    if (level < 0) {
        ESP_LOGE(TAG, "bad gonetif log level '%s' (CONFIG_GONETIF_LOG_LEVEL or GONETIF_LOG_LEVEL): "
                 "none, error, warn, info, debug or verbose", getenv("GONETIF_LOG_LEVEL"));
        return ESP_ERR_INVALID_ARG;
    }
    go_log_level = level;
    const char *spin = getenv("GONETIF_WAIT_SPIN_US");
    if (spin && *spin) {
        char *end;
        long us = strtol(spin, &end, 10);
        if (*end || us < 0 || us > 1000000) {
            ESP_LOGE(TAG, "bad GONETIF_WAIT_SPIN_US '%s' (0 to 1000000 microseconds)", spin);
            return ESP_ERR_INVALID_ARG;
        }
        gonetif_port_configure((int)us);
    }
    char line[96];
    snprintf(line, sizeof(line), "a blocked task waits %d us natively, then tick by tick", gonetif_port_configure(-1));
    gonetif_log_line(4, TAG, line);
    return ESP_OK;
}

/* IDF master's port ticks on its scheduler thread, under its lock, and
 * calls IDF's tick hooks there (CONFIG_FREERTOS_USE_TICK_HOOK, in
 * idf/sdkconfig.defaults): an interrupt's context to FreeRTOS. v5.5 and
 * v6.0 build no tick hooks on linux (their port's own hook is empty), and
 * a notification given from their SIGALRM handler ahead of the port's
 * would re-enable signals inside it: there the task still looks each tick. */
static int register_tick_hook(void)
{
#if defined(GONETIF_IDF_TICK_HOOKS) && CONFIG_FREERTOS_USE_TICK_HOOK
    return esp_register_freertos_tick_hook(give_on_tick) == ESP_OK;
#else
    return 0;
#endif
}

esp_err_t esp_netif_init(void)
{
    static int started;
    if (!started) {
        esp_err_t err = kconfig_defaults();
        if (err != ESP_OK) {
            return err;
        }
        ev_task_running = 1;
        if (xTaskCreate(event_task, "gonetif_evt", 4096, NULL, configMAX_PRIORITIES - 2, &ev_task) != pdPASS) {
            ev_task_running = 0;
            ESP_LOGE(TAG, "cannot start the IP event task");
            return ESP_ERR_NO_MEM;
        }
        started = 1;
    }
    esp_err_t err = gonetif_glue_netif_init();
    gonetif_signals_after_start();
    if (!ev_tick_gives) {
        ev_tick_gives = register_tick_hook();
    }
    return err;
}
