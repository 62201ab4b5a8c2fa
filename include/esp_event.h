/*
 * gonetif — esp_event.h
 *
 * Declarations of ESP-IDF's event loop API (IDF 6.x signatures and
 * layouts).  gonetif posts its IP events (IP_EVENT, see esp_netif_types.h)
 * through these functions; the implementation is provided elsewhere.
 */
#ifndef GONETIF_ESP_EVENT_H
#define GONETIF_ESP_EVENT_H

#ifdef __has_include
#  if __has_include("sdkconfig.h")
#    include "sdkconfig.h"
#  endif
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "esp_err.h"
#include "esp_event_base.h"

/*
 * FreeRTOS scalar types used by this API.  On the Linux port of FreeRTOS
 * they are 8 bytes wide (long / unsigned long).  When FreeRTOS.h has been
 * included already its definitions are used; otherwise the same types are
 * declared here (an identical typedef later on is harmless in C11/C++).
 */
#if !defined(INC_FREERTOS_H) && !defined(GONETIF_FREERTOS_SCALAR_TYPES)
#define GONETIF_FREERTOS_SCALAR_TYPES 1
typedef long          BaseType_t;
typedef unsigned long UBaseType_t;
typedef unsigned long TickType_t;
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Arguments of esp_event_loop_create(); 40 bytes on x86_64. */
typedef struct {
    int32_t     queue_size;      /* events the loop can hold */
    const char *task_name;       /* dedicated task name, NULL: no task (run with esp_event_loop_run) */
    UBaseType_t task_priority;   /* priority of the dedicated task */
    uint32_t    task_stack_size; /* stack of the dedicated task */
    BaseType_t  task_core_id;    /* core affinity of the dedicated task */
} esp_event_loop_args_t;

/* ---- loops ---------------------------------------------------------------- */

/** Create a user event loop. */
esp_err_t esp_event_loop_create(const esp_event_loop_args_t *event_loop_args,
                                esp_event_loop_handle_t *event_loop);

/** Delete a user event loop. */
esp_err_t esp_event_loop_delete(esp_event_loop_handle_t event_loop);

/** Create the default loop; ESP_ERR_INVALID_STATE if it already exists. */
esp_err_t esp_event_loop_create_default(void);

/** Delete the default loop. */
esp_err_t esp_event_loop_delete_default(void);

/** Dispatch events of a loop created without a task, for ticks_to_run. */
esp_err_t esp_event_loop_run(esp_event_loop_handle_t event_loop, TickType_t ticks_to_run);

/* ---- registration (default loop) ----------------------------------------- */

esp_err_t esp_event_handler_register(esp_event_base_t event_base,
                                     int32_t event_id,
                                     esp_event_handler_t event_handler,
                                     void *event_handler_arg);

esp_err_t esp_event_handler_instance_register(esp_event_base_t event_base,
                                              int32_t event_id,
                                              esp_event_handler_t event_handler,
                                              void *event_handler_arg,
                                              esp_event_handler_instance_t *instance);

esp_err_t esp_event_handler_unregister(esp_event_base_t event_base,
                                       int32_t event_id,
                                       esp_event_handler_t event_handler);

esp_err_t esp_event_handler_instance_unregister(esp_event_base_t event_base,
                                                int32_t event_id,
                                                esp_event_handler_instance_t instance);

/* ---- registration (given loop) ------------------------------------------- */

esp_err_t esp_event_handler_register_with(esp_event_loop_handle_t event_loop,
                                          esp_event_base_t event_base,
                                          int32_t event_id,
                                          esp_event_handler_t event_handler,
                                          void *event_handler_arg);

esp_err_t esp_event_handler_instance_register_with(esp_event_loop_handle_t event_loop,
                                                   esp_event_base_t event_base,
                                                   int32_t event_id,
                                                   esp_event_handler_t event_handler,
                                                   void *event_handler_arg,
                                                   esp_event_handler_instance_t *instance);

esp_err_t esp_event_handler_unregister_with(esp_event_loop_handle_t event_loop,
                                            esp_event_base_t event_base,
                                            int32_t event_id,
                                            esp_event_handler_t event_handler);

esp_err_t esp_event_handler_instance_unregister_with(esp_event_loop_handle_t event_loop,
                                                     esp_event_base_t event_base,
                                                     int32_t event_id,
                                                     esp_event_handler_instance_t instance);

/* ---- posting ---------------------------------------------------------------- */

/**
 * Post to the default loop.  event_data_size bytes of event_data are
 * copied; handlers receive a pointer to the copy.  ESP_ERR_TIMEOUT if the
 * queue stays full for ticks_to_wait.
 */
esp_err_t esp_event_post(esp_event_base_t event_base,
                         int32_t event_id,
                         const void *event_data,
                         size_t event_data_size,
                         TickType_t ticks_to_wait);

esp_err_t esp_event_post_to(esp_event_loop_handle_t event_loop,
                            esp_event_base_t event_base,
                            int32_t event_id,
                            const void *event_data,
                            size_t event_data_size,
                            TickType_t ticks_to_wait);

/* Non-blocking posts meant for interrupt context. */
esp_err_t esp_event_isr_post(esp_event_base_t event_base,
                             int32_t event_id,
                             const void *event_data,
                             size_t event_data_size,
                             BaseType_t *task_unblocked);

esp_err_t esp_event_isr_post_to(esp_event_loop_handle_t event_loop,
                                esp_event_base_t event_base,
                                int32_t event_id,
                                const void *event_data,
                                size_t event_data_size,
                                BaseType_t *task_unblocked);

/** Print the registered loops and handlers to file. */
esp_err_t esp_event_dump(FILE *file);

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_EVENT_H */
