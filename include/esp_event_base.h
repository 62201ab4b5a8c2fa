/*
 * gonetif — esp_event_base.h
 *
 * Event base and handler types of ESP-IDF's event library.
 */
#ifndef GONETIF_ESP_EVENT_BASE_H
#define GONETIF_ESP_EVENT_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An event base is a unique string; handlers compare bases BY POINTER. */
typedef const char *esp_event_base_t;

/* Declare an event base in a header: extern esp_event_base_t const id; */
#define ESP_EVENT_DECLARE_BASE(id) extern esp_event_base_t const id
/* Define it in exactly one source file: the string is the identifier. */
#define ESP_EVENT_DEFINE_BASE(id) esp_event_base_t const id = #id

/* Wildcards for registration. */
#define ESP_EVENT_ANY_BASE  NULL
#define ESP_EVENT_ANY_ID    -1

/* Opaque handle of an event loop. */
typedef void *esp_event_loop_handle_t;

/* Handler: arg given at registration, base and id of the event, and a
 * pointer to the loop's copy of the posted data (NULL if none). */
typedef void (*esp_event_handler_t)(void *event_handler_arg,
                                    esp_event_base_t event_base,
                                    int32_t event_id,
                                    void *event_data);

/* Handle of one registration made with the *_instance_register calls. */
typedef void *esp_event_handler_instance_t;

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_EVENT_BASE_H */
