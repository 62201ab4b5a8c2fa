/*
 * esp_event on plain pthreads: loops with a bounded queue and one dispatch
 * thread each ("sys_evt" for the default loop). Handlers always run on that
 * C thread, never on the poster's thread: gonetif posts its IP events from
 * Go-created threads, which must not run application code (docs/DESIGN.md D2).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp_event.h"
#include "esp_log.h"

static const char *TAG = "esp_event";

#define DEFAULT_QUEUE_SIZE 32 /* CONFIG_ESP_SYSTEM_EVENT_QUEUE_SIZE */
#define TICK_MS 10            /* portTICK_PERIOD_MS of the Linux simulator */
#define MAX_DELAY ((TickType_t)-1)

/* Dispatch level: ANY_BASE handlers first, then base+ANY_ID, then exact. */
enum { LEVEL_ANY_BASE, LEVEL_ANY_ID, LEVEL_EXACT, LEVEL_COUNT };

struct handler {
    esp_event_base_t base;
    int32_t id;
    esp_event_handler_t fn;
    void *arg;
    bool instance; /* registered through the _instance_ API */
    struct handler *next;
};

struct event {
    esp_event_base_t base;
    int32_t id;
    void *data;
};

struct loop {
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull;
    struct event *ring;
    int cap, head, count;
    struct handler *levels[LEVEL_COUNT];
    bool has_thread, stopping;
    pthread_t thread;
    char name[16];
};

static pthread_mutex_t default_mu = PTHREAD_MUTEX_INITIALIZER;
static struct loop *default_loop;

static int level_of(esp_event_base_t base, int32_t id)
{
    if (base == ESP_EVENT_ANY_BASE) {
        return LEVEL_ANY_BASE;
    }
    return id == ESP_EVENT_ANY_ID ? LEVEL_ANY_ID : LEVEL_EXACT;
}

/* Absolute deadline for a wait of ticks; false for "forever". */
static bool deadline_of(TickType_t ticks, struct timespec *ts)
{
    if (ticks == MAX_DELAY) {
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, ts);
    unsigned long long ns = (unsigned long long)ticks * TICK_MS * 1000000ull + (unsigned long long)ts->tv_nsec;
    ts->tv_sec += (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
    return true;
}

static void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* Waits on c until pred holds; false on timeout. Called with l->mu held. */
static bool wait_until(struct loop *l, pthread_cond_t *c, bool forever, const struct timespec *dl, bool (*pred)(struct loop *))
{
    while (!pred(l)) {
        if (forever) {
            pthread_cond_wait(c, &l->mu);
        } else if (pthread_cond_timedwait(c, &l->mu, dl) == ETIMEDOUT) {
            return pred(l);
        }
    }
    return true;
}

static bool has_event_or_stop(struct loop *l) { return l->count > 0 || l->stopping; }
static bool has_space(struct loop *l) { return l->count < l->cap || l->stopping; }

static bool handler_matches(int lv, const struct handler *h, const struct event *ev)
{
    return (lv == LEVEL_ANY_BASE || h->base == ev->base) && (lv != LEVEL_EXACT || h->id == ev->id);
}

/* Takes the next event and copies the matching handlers, so handlers run
 * unlocked and may register, unregister or post themselves. */
static int take(struct loop *l, struct event *ev, struct handler **calls)
{
    *ev = l->ring[l->head];
    l->head = (l->head + 1) % l->cap;
    l->count--;
    pthread_cond_signal(&l->nonfull);
    int n = 0;
    for (int lv = 0; lv < LEVEL_COUNT; lv++) {
        for (struct handler *h = l->levels[lv]; h; h = h->next) {
            if (handler_matches(lv, h, ev)) {
                n++;
            }
        }
    }
    *calls = n ? malloc(sizeof(**calls) * (size_t)n) : NULL;
    if (n && !*calls) {
        ESP_LOGE(TAG, "out of memory dispatching %s:%d", ev->base ? ev->base : "?", (int)ev->id);
        return 0;
    }
    int i = 0;
    for (int lv = 0; lv < LEVEL_COUNT; lv++) {
        for (struct handler *h = l->levels[lv]; h; h = h->next) {
            if (handler_matches(lv, h, ev)) {
                (*calls)[i++] = *h;
            }
        }
    }
    return n;
}

static void dispatch(struct event *ev, struct handler *calls, int n)
{
    for (int i = 0; i < n; i++) {
        calls[i].fn(calls[i].arg, ev->base, ev->id, ev->data);
    }
    free(calls);
    free(ev->data);
}

/* Runs the next event's handlers; called with l->mu held, released
 * while they run. */
static void run_next_locked(struct loop *l)
{
    struct event ev;
    struct handler *calls;
    int n = take(l, &ev, &calls);
    pthread_mutex_unlock(&l->mu);
    dispatch(&ev, calls, n);
    pthread_mutex_lock(&l->mu);
}

static void *loop_thread(void *p)
{
    struct loop *l = p;
    pthread_setname_np(pthread_self(), l->name);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        wait_until(l, &l->nonempty, true, NULL, has_event_or_stop);
        if (l->stopping) {
            break;
        }
        run_next_locked(l);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

esp_err_t esp_event_loop_create(const esp_event_loop_args_t *args, esp_event_loop_handle_t *out)
{
    if (!args || !out || args->queue_size <= 0) {
        return ESP_ERR_INVALID_ARG;
    }
    struct loop *l = calloc(1, sizeof(*l));
    if (!l || !(l->ring = calloc((size_t)args->queue_size, sizeof(*l->ring)))) {
        free(l);
        return ESP_ERR_NO_MEM;
    }
    l->cap = args->queue_size;
    pthread_mutex_init(&l->mu, NULL);
    cond_init_monotonic(&l->nonempty);
    cond_init_monotonic(&l->nonfull);
    if (args->task_name) {
        strncpy(l->name, args->task_name, sizeof(l->name) - 1);
        if (pthread_create(&l->thread, NULL, loop_thread, l) != 0) {
            free(l->ring);
            free(l);
            return ESP_FAIL;
        }
        l->has_thread = true;
    }
    *out = l;
    return ESP_OK;
}

esp_err_t esp_event_loop_delete(esp_event_loop_handle_t handle)
{
    struct loop *l = handle;
    if (!l) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_cond_broadcast(&l->nonempty);
    pthread_cond_broadcast(&l->nonfull);
    pthread_mutex_unlock(&l->mu);
    if (l->has_thread) {
        if (pthread_equal(l->thread, pthread_self())) {
            pthread_detach(l->thread); /* deleted from its own handler */
        } else {
            pthread_join(l->thread, NULL);
        }
    }
    for (; l->count > 0; l->count--) {
        free(l->ring[l->head].data);
        l->head = (l->head + 1) % l->cap;
    }
    for (int lv = 0; lv < LEVEL_COUNT; lv++) {
        while (l->levels[lv]) {
            struct handler *h = l->levels[lv];
            l->levels[lv] = h->next;
            free(h);
        }
    }
    free(l->ring);
    /* A handler deleting its own loop still runs on it: leak the lock and
     * conditions rather than destroy them under the running thread. */
    if (!l->has_thread || !pthread_equal(l->thread, pthread_self())) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->nonempty);
        pthread_cond_destroy(&l->nonfull);
        free(l);
    }
    return ESP_OK;
}

esp_err_t esp_event_loop_run(esp_event_loop_handle_t handle, TickType_t ticks)
{
    struct loop *l = handle;
    if (!l || l->has_thread) {
        return ESP_ERR_INVALID_ARG;
    }
    struct timespec dl;
    bool forever = !deadline_of(ticks, &dl);
    pthread_mutex_lock(&l->mu);
    while (wait_until(l, &l->nonempty, forever, &dl, has_event_or_stop) && !l->stopping) {
        run_next_locked(l);
    }
    pthread_mutex_unlock(&l->mu);
    return ESP_OK;
}

esp_err_t esp_event_loop_create_default(void)
{
    pthread_mutex_lock(&default_mu);
    if (default_loop) {
        pthread_mutex_unlock(&default_mu);
        return ESP_ERR_INVALID_STATE;
    }
    esp_event_loop_args_t args = {.queue_size = DEFAULT_QUEUE_SIZE, .task_name = "sys_evt", .task_priority = 20};
    esp_event_loop_handle_t h = NULL;
    esp_err_t err = esp_event_loop_create(&args, &h);
    if (err == ESP_OK) {
        default_loop = h;
    }
    pthread_mutex_unlock(&default_mu);
    return err;
}

esp_err_t esp_event_loop_delete_default(void)
{
    pthread_mutex_lock(&default_mu);
    struct loop *l = default_loop;
    default_loop = NULL;
    pthread_mutex_unlock(&default_mu);
    return l ? esp_event_loop_delete(l) : ESP_ERR_INVALID_STATE;
}

static esp_err_t add_handler(struct loop *l, esp_event_base_t base, int32_t id, esp_event_handler_t fn, void *arg,
                             esp_event_handler_instance_t *instance)
{
    if (!l || !fn || (base == ESP_EVENT_ANY_BASE && id != ESP_EVENT_ANY_ID)) {
        return ESP_ERR_INVALID_ARG;
    }
    int lv = level_of(base, id);
    pthread_mutex_lock(&l->mu);
    struct handler **tail = &l->levels[lv];
    for (; *tail; tail = &(*tail)->next) {
        struct handler *h = *tail;
        /* The legacy API keeps one registration per handler: a repeat
         * only updates the argument. */
        if (!instance && !h->instance && h->fn == fn && h->base == base && h->id == id) {
            h->arg = arg;
            pthread_mutex_unlock(&l->mu);
            return ESP_OK;
        }
    }
    struct handler *h = calloc(1, sizeof(*h));
    if (!h) {
        pthread_mutex_unlock(&l->mu);
        return ESP_ERR_NO_MEM;
    }
    *h = (struct handler){.base = base, .id = id, .fn = fn, .arg = arg, .instance = instance != NULL};
    *tail = h;
    if (instance) {
        *instance = h;
    }
    pthread_mutex_unlock(&l->mu);
    return ESP_OK;
}

static esp_err_t remove_handler(struct loop *l, esp_event_base_t base, int32_t id, esp_event_handler_t fn,
                                void *instance)
{
    if (!l || (!fn && !instance) || (base == ESP_EVENT_ANY_BASE && id != ESP_EVENT_ANY_ID)) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&l->mu);
    for (struct handler **pp = &l->levels[level_of(base, id)]; *pp; pp = &(*pp)->next) {
        struct handler *h = *pp;
        bool match = instance ? (void *)h == instance : (!h->instance && h->fn == fn);
        if (match && h->base == base && h->id == id) {
            *pp = h->next;
            free(h);
            break;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return ESP_OK; /* IDF answers OK for a handler that is not registered */
}

static esp_err_t post(struct loop *l, esp_event_base_t base, int32_t id, const void *data, size_t size,
                      TickType_t ticks)
{
    if (!l) {
        return ESP_ERR_INVALID_STATE;
    }
    if (base == ESP_EVENT_ANY_BASE || id == ESP_EVENT_ANY_ID) {
        return ESP_ERR_INVALID_ARG;
    }
    void *copy = NULL;
    if (data && size) {
        if (!(copy = malloc(size))) {
            return ESP_ERR_NO_MEM;
        }
        memcpy(copy, data, size);
    }
    struct timespec dl;
    bool forever = !deadline_of(ticks, &dl);
    pthread_mutex_lock(&l->mu);
    bool room = ticks == 0 ? has_space(l) : wait_until(l, &l->nonfull, forever, &dl, has_space);
    if (!room || l->stopping) {
        pthread_mutex_unlock(&l->mu);
        free(copy);
        return room ? ESP_ERR_INVALID_STATE : ESP_ERR_TIMEOUT;
    }
    l->ring[(l->head + l->count) % l->cap] = (struct event){.base = base, .id = id, .data = copy};
    l->count++;
    pthread_cond_signal(&l->nonempty);
    pthread_mutex_unlock(&l->mu);
    return ESP_OK;
}

/* The default loop is looked up under its lock for each call, so a post
 * racing esp_event_loop_delete_default fails cleanly instead of touching a
 * freed loop. */
#define WITH_DEFAULT(expr)                                                                                   \
    do {                                                                                                     \
        pthread_mutex_lock(&default_mu);                                                                     \
        struct loop *l_ = default_loop;                                                                      \
        esp_err_t err_ = l_ ? (expr) : ESP_ERR_INVALID_STATE;                                                \
        pthread_mutex_unlock(&default_mu);                                                                   \
        return err_;                                                                                         \
    } while (0)

esp_err_t esp_event_handler_register_with(esp_event_loop_handle_t loop, esp_event_base_t base, int32_t id,
                                          esp_event_handler_t fn, void *arg)
{
    return add_handler(loop, base, id, fn, arg, NULL);
}

esp_err_t esp_event_handler_instance_register_with(esp_event_loop_handle_t loop, esp_event_base_t base, int32_t id,
                                                   esp_event_handler_t fn, void *arg,
                                                   esp_event_handler_instance_t *instance)
{
    if (!instance) {
        return ESP_ERR_INVALID_ARG;
    }
    return add_handler(loop, base, id, fn, arg, instance);
}

esp_err_t esp_event_handler_unregister_with(esp_event_loop_handle_t loop, esp_event_base_t base, int32_t id,
                                            esp_event_handler_t fn)
{
    return remove_handler(loop, base, id, fn, NULL);
}

esp_err_t esp_event_handler_instance_unregister_with(esp_event_loop_handle_t loop, esp_event_base_t base, int32_t id,
                                                     esp_event_handler_instance_t instance)
{
    return remove_handler(loop, base, id, NULL, instance);
}

esp_err_t esp_event_handler_register(esp_event_base_t base, int32_t id, esp_event_handler_t fn, void *arg)
{
    WITH_DEFAULT(add_handler(l_, base, id, fn, arg, NULL));
}

esp_err_t esp_event_handler_instance_register(esp_event_base_t base, int32_t id, esp_event_handler_t fn, void *arg,
                                              esp_event_handler_instance_t *instance)
{
    WITH_DEFAULT(instance ? add_handler(l_, base, id, fn, arg, instance) : ESP_ERR_INVALID_ARG);
}

esp_err_t esp_event_handler_unregister(esp_event_base_t base, int32_t id, esp_event_handler_t fn)
{
    WITH_DEFAULT(remove_handler(l_, base, id, fn, NULL));
}

esp_err_t esp_event_handler_instance_unregister(esp_event_base_t base, int32_t id,
                                                esp_event_handler_instance_t instance)
{
    WITH_DEFAULT(remove_handler(l_, base, id, NULL, instance));
}

esp_err_t esp_event_post_to(esp_event_loop_handle_t loop, esp_event_base_t base, int32_t id, const void *data,
                            size_t size, TickType_t ticks)
{
    return loop ? post(loop, base, id, data, size, ticks) : ESP_ERR_INVALID_ARG;
}

esp_err_t esp_event_post(esp_event_base_t base, int32_t id, const void *data, size_t size, TickType_t ticks)
{
    /* Waiting for room must not hold the default-loop lock. */
    if (ticks != 0) {
        pthread_mutex_lock(&default_mu);
        struct loop *l = default_loop;
        pthread_mutex_unlock(&default_mu);
        return post(l, base, id, data, size, ticks);
    }
    WITH_DEFAULT(post(l_, base, id, data, size, 0));
}

esp_err_t esp_event_isr_post_to(esp_event_loop_handle_t loop, esp_event_base_t base, int32_t id, const void *data,
                                size_t size, BaseType_t *task_unblocked)
{
    if (task_unblocked) {
        *task_unblocked = 0;
    }
    return esp_event_post_to(loop, base, id, data, size, 0);
}

esp_err_t esp_event_isr_post(esp_event_base_t base, int32_t id, const void *data, size_t size,
                             BaseType_t *task_unblocked)
{
    if (task_unblocked) {
        *task_unblocked = 0;
    }
    return esp_event_post(base, id, data, size, 0);
}

esp_err_t esp_event_dump(FILE *file)
{
    if (!file) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&default_mu);
    struct loop *l = default_loop;
    if (l) {
        pthread_mutex_lock(&l->mu);
        fprintf(file, "loop %s: %d/%d events queued\n", l->name, l->count, l->cap);
        for (int lv = 0; lv < LEVEL_COUNT; lv++) {
            for (struct handler *h = l->levels[lv]; h; h = h->next) {
                fprintf(file, "  handler %p base %s id %d\n", (void *)(uintptr_t)h->fn, h->base ? h->base : "ANY",
                        (int)h->id);
            }
        }
        pthread_mutex_unlock(&l->mu);
    }
    pthread_mutex_unlock(&default_mu);
    return ESP_OK;
}
