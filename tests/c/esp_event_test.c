/*
 * esp_event without privileges: dispatch order, copies, the loop thread,
 * a full queue, bad arguments (NULL handlers), instances, loop life cycle.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#include "check.h"
#include <string.h>
#include <unistd.h>

#include "esp_event.h"

ESP_EVENT_DEFINE_BASE(TEST_BASE);
ESP_EVENT_DEFINE_BASE(OTHER_BASE);


static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char trace[256];
static int seen_value;
static char thread_name[32];
static volatile int blocked, release_block;

static void note(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    pthread_mutex_lock(&mu);
    strncat(trace, (const char *)arg, sizeof(trace) - strlen(trace) - 1);
    if (data) {
        seen_value = *(int *)data;
    }
    pthread_getname_np(pthread_self(), thread_name, sizeof(thread_name));
    pthread_mutex_unlock(&mu);
}

static void blocker(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    blocked = 1;
    while (!release_block) {
        usleep(1000);
    }
}

static int wait_trace(const char *want)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&mu);
        int ok = !strcmp(trace, want);
        pthread_mutex_unlock(&mu);
        if (ok) {
            return 1;
        }
        usleep(5000);
    }
    fprintf(stderr, "trace '%s', want '%s'\n", trace, want);
    return 0;
}

static void reset(void)
{
    pthread_mutex_lock(&mu);
    trace[0] = 0;
    pthread_mutex_unlock(&mu);
}

int main(void)
{
    int v = 42;
    /* No default loop yet. */
    CHECK(esp_event_post(TEST_BASE, 1, NULL, 0, 0) == ESP_ERR_INVALID_STATE);
    CHECK(esp_event_handler_register(TEST_BASE, 1, note, "x") == ESP_ERR_INVALID_STATE);

    CHECK(esp_event_loop_create_default() == ESP_OK);
    CHECK(esp_event_loop_create_default() == ESP_ERR_INVALID_STATE);

    /* Bad arguments. */
    CHECK(esp_event_handler_register(TEST_BASE, 1, NULL, NULL) == ESP_ERR_INVALID_ARG);
    CHECK(esp_event_handler_register(ESP_EVENT_ANY_BASE, 1, note, "x") == ESP_ERR_INVALID_ARG);
    CHECK(esp_event_handler_instance_register(TEST_BASE, 1, note, "x", NULL) == ESP_ERR_INVALID_ARG);
    CHECK(esp_event_post(ESP_EVENT_ANY_BASE, 1, NULL, 0, 0) == ESP_ERR_INVALID_ARG);

    /* Order: ANY_BASE, then base+ANY_ID, then exact; registration order
     * within a level, whatever order they were registered in. */
    esp_event_handler_instance_t inst;
    CHECK(esp_event_handler_register(TEST_BASE, 7, note, "E1") == ESP_OK);
    CHECK(esp_event_handler_register(TEST_BASE, ESP_EVENT_ANY_ID, note, "I") == ESP_OK);
    CHECK(esp_event_handler_register(ESP_EVENT_ANY_BASE, ESP_EVENT_ANY_ID, note, "A") == ESP_OK);
    CHECK(esp_event_handler_instance_register(TEST_BASE, 7, note, "E2", &inst) == ESP_OK);
    CHECK(esp_event_handler_register(OTHER_BASE, 7, note, "O") == ESP_OK);
    CHECK(esp_event_post(TEST_BASE, 7, &v, sizeof(v), 0) == ESP_OK);
    v = 0; /* the loop works on a copy */
    CHECK(wait_trace("AIE1E2"));
    CHECK(seen_value == 42);
    CHECK(!strcmp(thread_name, "sys_evt"));

    /* A repeat registration only updates the argument; unregister. */
    reset();
    CHECK(esp_event_handler_register(TEST_BASE, 7, note, "e1") == ESP_OK);
    CHECK(esp_event_handler_instance_unregister(TEST_BASE, 7, inst) == ESP_OK);
    CHECK(esp_event_handler_unregister(ESP_EVENT_ANY_BASE, ESP_EVENT_ANY_ID, note) == ESP_OK);
    CHECK(esp_event_post(TEST_BASE, 7, NULL, 0, 0) == ESP_OK);
    CHECK(wait_trace("Ie1"));
    CHECK(esp_event_handler_unregister(TEST_BASE, 7, note) == ESP_OK);
    CHECK(esp_event_handler_unregister(TEST_BASE, ESP_EVENT_ANY_ID, note) == ESP_OK);

    /* A full queue: ticks 0 never waits, a short wait times out. */
    CHECK(esp_event_handler_register(TEST_BASE, 9, blocker, NULL) == ESP_OK);
    CHECK(esp_event_post(TEST_BASE, 9, NULL, 0, 0) == ESP_OK);
    for (int i = 0; i < 200 && !blocked; i++) {
        usleep(5000);
    }
    int posted = 0;
    while (esp_event_post(TEST_BASE, 10, &v, sizeof(v), 0) == ESP_OK && posted < 1000) {
        posted++;
    }
    CHECK(posted == 32);
    CHECK(esp_event_post(TEST_BASE, 10, NULL, 0, 2) == ESP_ERR_TIMEOUT);
    release_block = 1;

    /* Delete and recreate. */
    CHECK(esp_event_loop_delete_default() == ESP_OK);
    CHECK(esp_event_loop_delete_default() == ESP_ERR_INVALID_STATE);
    CHECK(esp_event_loop_create_default() == ESP_OK);
    reset();
    CHECK(esp_event_handler_register(TEST_BASE, 3, note, "R") == ESP_OK);
    CHECK(esp_event_post(TEST_BASE, 3, NULL, 0, 10) == ESP_OK);
    CHECK(wait_trace("R"));

    /* A user loop without a task runs in esp_event_loop_run. */
    esp_event_loop_args_t args = {.queue_size = 4};
    esp_event_loop_handle_t loop;
    CHECK(esp_event_loop_create(&args, &loop) == ESP_OK);
    reset();
    CHECK(esp_event_handler_register_with(loop, TEST_BASE, 5, note, "U") == ESP_OK);
    CHECK(esp_event_post_to(loop, TEST_BASE, 5, NULL, 0, 0) == ESP_OK);
    CHECK(esp_event_loop_run(loop, 1) == ESP_OK);
    CHECK(!strcmp(trace, "U"));
    CHECK(esp_event_loop_delete(loop) == ESP_OK);
    CHECK(esp_event_loop_delete_default() == ESP_OK);

    return check_summary("esp_event");
}
